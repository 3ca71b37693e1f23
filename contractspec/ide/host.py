"""`Host`: the editor's workspace: files on disk, unsaved buffers over them, and the
analysis of both. Each change bumps a revision; `analyze` turns a revision's inputs into a
`World`, parsing again only the files whose text changed (the parse cache)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contractspec.analysis import ParseCache, analyze_sources, workspace_files
from contractspec.ide.world import World
from contractspec.workspace.config import Config, ConfigError, find_root, load_config
from contractspec.workspace.loader import (
    SPEC_SUFFIX,
    STD_DIR,
    WorkspaceError,
    display,
    spec_files_under,
    std_display,
)

STD_PREFIX = "<std>/"
MAX_FILES_WITHOUT_CONFIG = 2000  # a folder with no cspec.toml: do not crawl a home folder


@dataclass(frozen=True)
class Inputs:
    """What one analysis reads: a revision's disk files and buffers (copied)."""

    revision: int
    files: tuple[Path, ...]
    texts: dict[str, str]


class Host:
    def __init__(self, root: Path | None) -> None:
        start = (root or Path.cwd()).resolve()
        self.root = find_root(start) or start
        self.problem: str | None = None  # why the configuration could not be read
        self.config = self._config()
        self.files: tuple[Path, ...] = self._scan()
        self.buffers: dict[str, str] = {}
        self.revision = 0
        self.cache: ParseCache = {}
        self._world: World | None = None
        self._world_revision = -1

    # ---- configuration and files --------------------------------------------------------
    def _config(self) -> Config:
        try:
            return load_config(self.root)
        except ConfigError as error:
            self.problem = str(error)
            return Config(root=self.root)

    def _scan(self) -> tuple[Path, ...]:
        if not self.root.is_dir():
            return ()
        try:
            _, files = workspace_files([self.root])
        except ConfigError:
            files = spec_files_under(self.root)
        except (WorkspaceError, OSError):
            return ()
        if self.config.path is None:
            files = files[:MAX_FILES_WITHOUT_CONFIG]
        return tuple(files)

    def reload(self) -> None:
        """Read `cspec.toml` and the list of spec files again (files were created, deleted
        or the configuration changed)."""
        self.problem = None
        self.config = self._config()
        self.files = self._scan()
        self.revision += 1  # the parse cache stays: it is checked against each file's text

    # ---- paths --------------------------------------------------------------------------
    def display(self, path: Path) -> str:
        """The name a file has in diagnostics and in the IR."""
        resolved = path.resolve()
        if resolved.parent == STD_DIR:
            return std_display(resolved)
        return display(resolved, self.config.root)

    def disk_path(self, name: str) -> Path:
        if name.startswith(STD_PREFIX):
            return STD_DIR / name[len(STD_PREFIX):]
        path = Path(name)
        return path if path.is_absolute() else self.config.root / path

    @staticmethod
    def is_spec(path: Path) -> bool:
        return path.suffix == SPEC_SUFFIX

    # ---- buffers ------------------------------------------------------------------------
    def set_text(self, name: str, text: str) -> None:
        """An editor opened or changed a file (standard-library files are read-only)."""
        if name.startswith(STD_PREFIX) or self.buffers.get(name) == text:
            return
        self.buffers[name] = text
        self.revision += 1

    def close(self, name: str) -> None:
        if self.buffers.pop(name, None) is not None:
            self.revision += 1

    # ---- analysis -----------------------------------------------------------------------
    def inputs(self) -> Inputs:
        return Inputs(self.revision, self.files, dict(self.buffers))

    def analyze(self, inputs: Inputs) -> World:
        """The world of one revision (call from one thread at a time: it fills the cache)."""
        if self._world is not None and self._world_revision == inputs.revision:
            return self._world
        analysis = analyze_sources(self.config, inputs.files, inputs.texts, self.cache,
                                   self._world.analysis if self._world is not None else None)
        live = set(analysis.sources)
        for name in [n for n in self.cache if n not in live]:
            del self.cache[name]
        previous = self._world
        if previous is not None and "index" not in previous.__dict__:
            previous = previous.previous  # link only to a world whose index was built
        world = World(analysis, previous=previous)
        if inputs.revision >= self._world_revision:
            self._world, self._world_revision = world, inputs.revision
        return world

    def world(self) -> World:
        return self.analyze(self.inputs())
