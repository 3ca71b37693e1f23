"""Gathering lowered files into modules and resolving `use` (workspace, paths, std)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Protocol

from contractspec.diagnostics import Diagnostic, Related, Severity
from contractspec.grammar.lower import LoweredFile
from contractspec.ir import nodes as ir
from contractspec.workspace.loader import std_modules


class Loader(Protocol):
    lowered: dict[str, LoweredFile]
    paths: dict[str, Path]
    std_files: set[str]

    @property
    def root(self) -> Path:
        """The workspace root."""

    def load_std(self, name: str) -> bool: ...

    def load_path(self, base: Path, relative: str) -> list[str]: ...


def _error(code: str, message: str, span: Any, help: str | None = None,
           related: tuple[Related, ...] = ()) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.ERROR, message=message, span=span,
                      help=help, related=related)


def module_name(lowered: LoweredFile) -> str:
    if lowered.header is not None:
        return lowered.header.name
    stem = Path(lowered.path).stem
    return re.sub(r"\W", "_", stem) or "main"


def assemble_modules(loader: Loader) -> tuple[ir.Program, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    for lowered in loader.lowered.values():
        if lowered.header is None and lowered.declarations:
            span = min((d.span for decls in lowered.declarations.values() for d in decls),
                       key=lambda s: s.start_offset)
            diagnostics.append(_error(
                "CS115", f"this file has no `module` header; it is read as module "
                f"`{module_name(lowered)}`", span.model_copy(update={
                    "end_line": span.start_line, "end_col": span.start_col,
                    "end_offset": span.start_offset}),
                help=f"start the file with `module {module_name(lowered)}`"))
    _resolve_uses(loader, diagnostics)
    by_module: dict[str, list[LoweredFile]] = {}
    for name in sorted(loader.lowered):
        lowered = loader.lowered[name]
        if lowered.header is None and not lowered.declarations:
            continue
        by_module.setdefault(module_name(lowered), []).append(lowered)
    modules = [_build_module(name, files, loader.std_files, diagnostics)
               for name, files in sorted(by_module.items())]
    diagnostics.extend(_cycles(modules))
    return ir.Program(modules=tuple(modules)), diagnostics


def _resolve_uses(loader: Loader, diagnostics: list[Diagnostic]) -> None:
    done: set[str] = set()
    while True:
        pending = sorted(set(loader.lowered) - done)
        if not pending:
            return
        for name in pending:
            done.add(name)
            for use in loader.lowered[name].declarations.get("uses", []):
                _resolve_use(loader, name, use, diagnostics)


def _defined(loader: Loader) -> dict[str, str]:
    """Module name -> one file that declares it."""
    found: dict[str, str] = {}
    for path, lowered in sorted(loader.lowered.items()):
        if lowered.header is not None or lowered.declarations:
            found.setdefault(module_name(lowered), path)
    return found


def _resolve_use(loader: Loader, file: str, use: ir.UseDecl,
                 diagnostics: list[Diagnostic]) -> None:
    wanted = use.module.name
    if use.path is not None:
        base = loader.paths.get(file)
        folder = base.parent if base is not None else Path.cwd()
        holder = _holds_workspace(folder, use.path, loader.root)
        if holder is not None:
            diagnostics.append(_error(
                "CS210", f"\"{use.path}\" is {holder}, which holds this whole workspace",
                use.span, help="the modules of this workspace need no `from`; name the "
                "folder (or the file) of a module outside it"))
            return
        loaded = loader.load_path(folder, use.path)
        if not loaded:
            diagnostics.append(_error("CS210", f"no spec files at \"{use.path}\"", use.span,
                                      help=f"the path is relative to {folder}"))
            return
        found = {module_name(loader.lowered[n]) for n in loaded}
        if wanted not in found:
            diagnostics.append(_error(
                "CS210", f"\"{use.path}\" holds module(s) {', '.join(sorted(found))}, "
                f"not `{wanted}`", use.module.span))
        return
    if wanted in _defined(loader):
        return
    if loader.load_std(wanted):
        return
    options = sorted(set(_defined(loader)) | set(std_modules()))
    close = difflib.get_close_matches(wanted, options, n=1)
    diagnostics.append(_error(
        "CS210", f"unknown module `{wanted}`", use.module.span,
        help=(f"did you mean `{close[0]}`? " if close else "")
        + f"modules available: {', '.join(options)}; a module of another folder needs "
        f"`use {wanted} from \"./folder\"`"))


def _holds_workspace(folder: Path, relative: str, root: Path) -> Path | None:
    """The folder `relative` names, when it is the workspace root or above it (loading it
    would load the workspace into itself, or crawl the disk for `use m from "/"`)."""
    try:
        target = (folder / relative).resolve()
        return target if target.is_dir() and root.resolve().is_relative_to(target) else None
    except (OSError, ValueError):
        return None


def _build_module(name: str, files: list[LoweredFile], std_files: set[str],
                  diagnostics: list[Diagnostic]) -> ir.Module:
    headers = [f.header for f in files if f.header is not None]
    versions = {h.version for h in headers if h.version is not None}
    if len(versions) > 1:
        first = next(h for h in headers if h.version is not None)
        for header in headers:
            if header.version is not None and header.version != first.version:
                diagnostics.append(_error(
                    "CS104", f"module `{name}` has version {first.version} in another file, "
                    f"{header.version} here", header.span,
                    related=(Related(span=first.span, message="first version given here"),)))
    fields: dict[str, list[Any]] = {}
    for lowered in files:
        for key, decls in lowered.declarations.items():
            fields.setdefault(key, []).extend(decls)
    return ir.Module(
        name=name,
        version=next((h.version for h in headers if h.version is not None), None),
        doc=next((h.doc for h in headers if h.doc), None),
        files=tuple(f.path for f in files),
        std=all(f.path in std_files for f in files),
        headers=tuple(headers),
        **{key: tuple(decls) for key, decls in fields.items()},
    )


def _cycles(modules: list[ir.Module]) -> list[Diagnostic]:
    """One diagnostic per import cycle, on the `use` that closes it."""
    graph = {m.name: [u for u in m.uses] for m in modules}
    diagnostics: list[Diagnostic] = []
    reported: set[frozenset[str]] = set()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for use in graph.get(name, []):
            target = use.module.name
            if target not in graph:
                continue
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target):], target]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    diagnostics.append(_error(
                        "CS211", f"import cycle: {' → '.join(cycle)}", use.span,
                        help="modules may not use each other in a circle; move the shared "
                        "declarations into a module that both use"))
            elif target not in state:
                visit(target)
        stack.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    return diagnostics
