"""The one pipeline: read → parse → lower → gather modules → resolve `use` → check.

The CLI and the language server both call `analyze_workspace` / `analyze_texts`; nothing
here prints, and nothing here imports an editor protocol.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contractspec.check.engine import CheckResult, check_program
from contractspec.check.suppress import apply_suppressions
from contractspec.check.symbols import SymbolTable
from contractspec.diagnostics import Diagnostic, Severity
from contractspec.evolve.lock import read_lock
from contractspec.grammar.lower import LoweredFile, lower_file
from contractspec.grammar.parser import parse_source
from contractspec.ir import nodes as ir
from contractspec.source import SourceFile
from contractspec.workspace.config import Config, find_root, load_config
from contractspec.workspace.loader import (
    SPEC_SUFFIX,
    WorkspaceError,
    decode_spec,
    display,
    empty_file,
    file_diagnostic,
    read_spec,
    spec_files_under,
    std_display,
    std_modules,
)
from contractspec.workspace.modules import assemble_modules


@dataclass
class Stats:
    """Time (seconds) and counts per phase, for `cspec check --stats` and benchmarks."""

    seconds: dict[str, float] = field(default_factory=dict)
    files: int = 0
    lines: int = 0
    declarations: int = 0

    def timed(self, phase: str, started: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - started


@dataclass
class Analysis:
    config: Config
    sources: dict[str, SourceFile]
    program: ir.Program
    symbols: SymbolTable
    diagnostics: list[Diagnostic]
    stats: Stats
    paths: dict[str, Path] = field(default_factory=dict)  # display path -> file on disk
    checks: CheckResult | None = None  # the check phase's findings, to reuse on the next run
    lock: dict[str, Any] | None = None  # the `cspec.lock` the checks read

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    def diagnostics_for(self, path: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.span.file == path]


# display path -> (text, parse diagnostics, lowered file) of its last parse
ParseCache = dict[str, tuple[str, list[Diagnostic], LoweredFile]]


class _Session:
    """One analysis run: the files read so far and what they produced."""

    def __init__(self, config: Config, cache: ParseCache | None = None) -> None:
        self.config = config
        self.cache = cache
        self.sources: dict[str, SourceFile] = {}
        self.paths: dict[str, Path] = {}
        self.lowered: dict[str, LoweredFile] = {}
        self.std_files: set[str] = set()
        self.diagnostics: list[Diagnostic] = []
        self.stats = Stats()

    def add_file(self, path: Path, name: str) -> None:
        if name in self.sources:
            return
        started = time.perf_counter()
        result = read_spec(path, name, self.config.max_file_bytes)
        self.stats.timed("read", started)
        self.paths[name] = path
        self.add_source(result.source, result.diagnostics, parse=result.ok)

    def add_source(self, source: SourceFile, diagnostics: Iterable[Diagnostic] = (),
                   parse: bool = True) -> None:
        self.sources[source.path] = source
        self.diagnostics.extend(diagnostics)
        self.stats.files += 1
        self.stats.lines += source.line_count
        if not parse:
            self.lowered[source.path] = LoweredFile(source.path)
            return
        cached = self.cache.get(source.path) if self.cache is not None else None
        if cached is not None and cached[0] == source.text:
            _, parse_diagnostics, lowered = cached
        else:
            started = time.perf_counter()
            parsed = parse_source(source)
            self.stats.timed("parse", started)
            started = time.perf_counter()
            lowered = lower_file(source, parsed.chunks)
            self.stats.timed("lower", started)
            parse_diagnostics = parsed.diagnostics
            if self.cache is not None:
                self.cache[source.path] = (source.text, parse_diagnostics, lowered)
        self.diagnostics.extend(parse_diagnostics)
        self.diagnostics.extend(lowered.diagnostics)
        self.lowered[source.path] = lowered

    @property
    def root(self) -> Path:
        return self.config.root

    def load_std(self, name: str) -> bool:
        path = std_modules().get(name)
        if path is None:
            return False
        shown = std_display(path)
        self.std_files.add(shown)
        self.add_file(path, shown)
        return True

    def load_path(self, base: Path, relative: str) -> list[str]:
        """Load the spec files at `base/relative` (a file or a folder); their display names."""
        try:
            target = (base / relative).resolve()
            files = [target] if target.is_file() else (
                spec_files_under(target) if target.is_dir() else [])
            if not files and not target.suffix:
                candidate = target.with_suffix(SPEC_SUFFIX)
                files = [candidate] if candidate.is_file() else []
        except (OSError, ValueError):  # a name too long or otherwise impossible: not found
            files = []
        names = [display(f, self.config.root) for f in files]
        for f, n in zip(files, names, strict=True):
            self.add_file(f, n)
        return names

    def finish(self, previous: Analysis | None = None) -> Analysis:
        started = time.perf_counter()
        program, module_diags = assemble_modules(self)
        self.stats.timed("modules", started)
        started = time.perf_counter()
        symbols = SymbolTable(program)
        lock, lock_diags = read_lock(self.config.root)
        only = self._affected(previous, program, lock)
        checks = check_program(program, symbols, lock, only,
                               previous.checks if previous is not None else None, self.sources)
        check_diags = [*lock_diags, *checks.diagnostics]
        self.stats.timed("check", started)
        self.stats.declarations = sum(1 for m in program.modules if not m.std
                                      for _ in symbols.symbols(m.name))
        diagnostics = [*self.diagnostics, *module_diags, *check_diags]
        diagnostics = apply_suppressions(diagnostics, self.sources, self.config.rules)
        diagnostics = [d for d in diagnostics if d.span.file not in self.std_files]
        diagnostics.sort(key=Diagnostic.sort_key)
        return Analysis(self.config, self.sources, program, symbols, diagnostics, self.stats,
                        self.paths, checks, lock)

    def _affected(self, previous: Analysis | None, program: ir.Program,
                  lock: dict[str, Any] | None) -> frozenset[str] | None:
        """The modules whose per-module checks must run again after `previous`: those with
        a changed file and, transitively, the modules that use them (before or now). None
        (check everything) without a previous run, or when the configuration, the lock,
        the files or the modules (names, files) changed."""
        if (previous is None or previous.checks is None or previous.config != self.config
                or previous.lock != lock or previous.sources.keys() != self.sources.keys()):
            return None
        before = {m.name: m for m in previous.program.modules}
        now = {m.name: m for m in program.modules}
        if before.keys() != now.keys() or any(
                before[n].files != m.files or before[n].std != m.std for n, m in now.items()):
            return None
        changed = {n for n, m in now.items()
                   if any(previous.sources[f].text != self.sources[f].text for f in m.files)}
        users: dict[str, set[str]] = {}
        for modules in (before, now):
            for module in modules.values():
                for use in module.uses:
                    users.setdefault(use.module.name, set()).add(module.name)
        affected, todo = set(changed), list(changed)
        while todo:
            for user in users.get(todo.pop(), ()):
                if user not in affected:
                    affected.add(user)
                    todo.append(user)
        return frozenset(affected)


def workspace_files(paths: Sequence[Path]) -> tuple[Config, list[Path]]:
    """The configuration and the spec files that `paths` stand for.

    A folder stands for every spec under it (or under its `cspec.toml` spec folders); a
    file for itself, with the rest of its workspace loaded to resolve names.
    """
    if not paths:
        paths = [Path.cwd()]
    for path in paths:
        if not path.exists():
            raise WorkspaceError(f"no such file or directory: {path}")
    first = paths[0]
    root = find_root(first) or (first if first.is_dir() else first.parent)
    config = load_config(root)
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            if (path / "cspec.toml").is_file() and path.resolve() == config.root:
                for folder in config.spec_dirs():
                    files.extend(spec_files_under(folder))
            else:
                files.extend(spec_files_under(path))
        else:
            files.append(path)
    if config.path is not None:
        for folder in config.spec_dirs():
            files.extend(spec_files_under(folder))
    unique = list(dict.fromkeys(f.resolve() for f in files))
    if not unique:
        where = ", ".join(str(p) for p in paths)
        raise WorkspaceError(f"no {SPEC_SUFFIX} files found in {where}")
    return config, unique


def analyze_workspace(paths: Sequence[Path]) -> Analysis:
    """Analyse the workspace that `paths` belong to. Raises WorkspaceError on usage errors."""
    config, files = workspace_files(paths)
    session = _Session(config)
    for path in files:
        session.add_file(path, display(path, config.root))
    return session.finish()


def analyze_texts(texts: dict[str, str], config: Config | None = None,
                  root: Path | None = None, cache: ParseCache | None = None) -> Analysis:
    """Analyse in-memory files (editor buffers, tests); `use … from` paths resolve on disk
    relative to `root` (default: the current folder). `cache` keeps each file's parse (the
    standard modules' too) between calls, as in `analyze_sources`."""
    session = _Session(config or Config(root=(root or Path.cwd()).resolve()), cache)
    for name in sorted(texts):
        text = texts[name]
        empty = empty_file(name, text)
        session.add_source(SourceFile(name, text), [empty] if empty else [], parse=not empty)
    return session.finish()


def analyze_sources(config: Config, files: Sequence[Path], texts: dict[str, str],
                    cache: ParseCache | None = None,
                    previous: Analysis | None = None) -> Analysis:
    """Analyse workspace files on disk, reading an editor's unsaved text (display path ->
    text) instead of the disk where it has one; texts of files not in `files` are added.
    `cache` keeps each file's parse between runs, so only changed files are parsed again;
    with the `previous` analysis, per-module checks run again only for the modules that a
    changed file can affect (the diagnostics are the same as a whole run's)."""
    session = _Session(config, cache)
    for path in files:
        name = display(path, config.root)
        if name in texts:
            session.paths[name] = path
        else:
            session.add_file(path, name)
    for name in sorted(texts):
        data = texts[name].encode("utf-8", errors="replace")
        if len(data) > config.max_file_bytes:
            message = (f"file is too large to check ({len(data) / 1_048_576:.1f} MB; the limit "
                       f"is {config.max_file_bytes / 1_048_576:.1f} MB, set by `max_file_bytes` "
                       "in cspec.toml)")
            session.add_source(SourceFile(name, ""), [file_diagnostic(name, "CS113", message)],
                               parse=False)
            continue
        result = decode_spec(data, name)
        session.add_source(result.source, result.diagnostics, parse=result.ok)
    return session.finish(previous)
