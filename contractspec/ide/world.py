"""`World`: one analysis with its reference index, as every IDE feature sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from contractspec.analysis import Analysis
from contractspec.ide.index import Index, build_index
from contractspec.ir import nodes as ir
from contractspec.source import SourceFile


@dataclass
class World:
    analysis: Analysis
    previous: World | None = field(default=None, repr=False)  # to reuse its index's parts
    _modules_by_file: dict[str, ir.Module] = field(default_factory=dict, repr=False)

    @cached_property
    def index(self) -> Index:
        before = self.previous.__dict__.get("index") if self.previous is not None else None
        self.previous = None  # keep no chain of old worlds alive
        return build_index(self.analysis, before)

    def source(self, path: str) -> SourceFile | None:
        return self.analysis.sources.get(path)

    def module_of(self, path: str) -> ir.Module | None:
        """The module a file belongs to."""
        if not self._modules_by_file:
            for module in self.analysis.program.modules:
                for file in module.files:
                    self._modules_by_file[file] = module
        return self._modules_by_file.get(path)

    def visible(self, module: str) -> list[str]:
        return self.analysis.symbols.visible_modules(module)

    def is_std(self, path: str) -> bool:
        module = self.module_of(path)
        return module is not None and module.std
