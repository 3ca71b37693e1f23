"""Code actions: the fixes diagnostics carry, and quick fixes the editor adds where one
fix is clear (declare what a name refers to, add a missing `use`, a module header...)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from contractspec.diagnostics import Diagnostic
from contractspec.evolve.restore import keep_and_add
from contractspec.ide.index import Occurrence
from contractspec.ide.navigation import TextEdit
from contractspec.ide.world import World
from contractspec.source import SourceFile, Span
from contractspec.workspace.loader import std_modules

_SUPPRESSION = re.compile(r"//\s*cspec-ignore\b")
_STUBS: dict[str, tuple[str, str]] = {  # expected kind -> (declaration, its text)
    "entity": ("entity", "entity {name} {{\n  id: uuid @id\n}}\n"),
    "type": ("type", "type {name} {{\n}}\n"),
    "permission": ("permission", "permission {name}\n"),
    "permission or role": ("permission", "permission {name}\n"),
    "role": ("role", "role {name}\n"),
    "event": ("event", "event {name} {version} {{\n}}\n"),
    "job": ("job", "job {name} {{\n}}\n"),
    "metric": ("metric", "metric {name} {{\n}}\n"),
    "flag": ("flag", "flag {name} {{\n  default off\n}}\n"),
    "plan": ("plan", "plan {name} {{\n}}\n"),
}
_NAMESPACE_OF = {"entity": "type", "type": "type", "permission": "access", "role": "access",
                 "permission or role": "access", "event": "event", "job": "job",
                 "metric": "metric", "flag": "flag", "plan": "plan",
                 "operation": "operation"}
DEFAULT_RETENTION = "365d"


@dataclass(frozen=True)
class CodeAction:
    title: str
    edits: dict[str, list[TextEdit]]
    diagnostic: Diagnostic | None = None
    preferred: bool = False
    kind: str = "quickfix"


@dataclass
class _Actions:
    world: World
    path: str
    source: SourceFile
    found: list[CodeAction] = field(default_factory=list)

    def add(self, title: str, span: Span, text: str, diagnostic: Diagnostic | None,
            preferred: bool = False, path: str | None = None) -> None:
        if any(a.title == title and a.diagnostic == diagnostic for a in self.found):
            return
        self.found.append(CodeAction(title, {path or self.path: [TextEdit(span, text)]},
                                     diagnostic, preferred))

    def at(self, offset: int) -> Span:
        return self.source.span(offset, offset)


def code_actions(world: World, path: str, start: int, end: int) -> list[CodeAction]:
    """Quick fixes for the diagnostics of `path` that touch the range [start, end]."""
    source = world.source(path)
    if source is None:
        return []
    actions = _Actions(world, path, source)
    for diagnostic in world.analysis.diagnostics_for(path):
        span = diagnostic.span
        if span.end_offset < start or span.start_offset > end:
            continue
        for k, fix in enumerate(diagnostic.fixes):
            actions.add(fix.title, fix.span, fix.replacement, diagnostic, preferred=k == 0)
        _rule_fixes(actions, diagnostic)
    return actions.found


def _rule_fixes(actions: _Actions, diagnostic: Diagnostic) -> None:
    code = diagnostic.code
    if code in ("CS114", "CS115"):
        _module_header(actions, diagnostic)
    elif code == "CS121":
        _remove_line(actions, diagnostic, "Remove the unused suppression")
    elif code == "CS102":
        _remove_line(actions, diagnostic, "Remove the repeated member")
    elif code == "CS210":
        _closest_module(actions, diagnostic)
    elif code == "CS502":
        _add_retention(actions, diagnostic)
    elif code == "CS601":
        _new_version(actions, diagnostic)
    if not diagnostic.fixes or code in ("CS201", "CS310"):
        for occ in _unresolved(actions.world, diagnostic):
            _declare(actions, diagnostic, occ)
            _add_use(actions, diagnostic, occ)


def _module_header(actions: _Actions, diagnostic: Diagnostic) -> None:
    module = actions.world.module_of(actions.path)
    stem = actions.path.rsplit("/", 1)[-1].removesuffix(".cspec")
    name = module.name if module is not None else re.sub(r"\W", "_", stem) or "main"
    actions.add(f"Insert `module {name}`", actions.at(0), f"module {name}\n\n", diagnostic,
                preferred=True)


def _remove_line(actions: _Actions, diagnostic: Diagnostic, title: str) -> None:
    """Delete the lines a diagnostic covers; a trailing suppression comment alone."""
    text = actions.source.text
    span = diagnostic.span
    begin = text.rfind("\n", 0, span.start_offset) + 1
    end = text.find("\n", span.end_offset)
    end = len(text) if end == -1 else end
    if diagnostic.code == "CS121":
        comment = _SUPPRESSION.search(text, begin, end)
        if comment is None:
            return
        before = text[begin:comment.start()]
        if before.strip():
            cut = begin + len(before.rstrip())
            actions.add(title, actions.source.span(cut, end), "", diagnostic, preferred=True)
            return
    actions.add(title, actions.source.span(begin, min(end + 1, len(text))), "", diagnostic,
                preferred=True)


def _closest_module(actions: _Actions, diagnostic: Diagnostic) -> None:
    source = actions.source
    wanted = source.text[diagnostic.span.start_offset:diagnostic.span.end_offset]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", wanted):
        return
    known = {m.name for m in actions.world.analysis.program.modules} | set(std_modules())
    close = difflib.get_close_matches(wanted, sorted(known), n=1)
    if close:
        actions.add(f"Replace with `{close[0]}`", diagnostic.span, close[0], diagnostic,
                    preferred=True)


def _add_retention(actions: _Actions, diagnostic: Diagnostic) -> None:
    for d in actions.world.index.by_file.get(actions.path, []):
        if d.kind == "event" and d.decl.span.contains(diagnostic.span.start_offset):
            close = d.decl.span.end_offset - 1
            if actions.source.text[close:close + 1] != "}":
                return
            indent = _indent_of(actions.source, d.decl.span.start_offset) + "  "
            line_start = actions.source.text.rfind("\n", 0, close) + 1
            actions.add(f"Add `retention {DEFAULT_RETENTION}`", actions.at(line_start),
                        f"{indent}retention {DEFAULT_RETENTION}\n", diagnostic)
            return


def _new_version(actions: _Actions, diagnostic: Diagnostic) -> None:
    """Keep the released version as the lock records it; the changed declaration becomes
    the next version (contractspec/evolve/restore.py)."""
    module = actions.world.module_of(actions.path)
    if module is None:
        return
    edit = keep_and_add(actions.world.analysis.lock, module, actions.source, diagnostic.span)
    if edit is not None:
        actions.add(edit.title, edit.span, edit.text, diagnostic, preferred=True)


def _unresolved(world: World, diagnostic: Diagnostic) -> Iterator[Occurrence]:
    for occ in world.index.occurrences.get(diagnostic.span.file, []):
        if occ.target is None and diagnostic.span.start_offset <= occ.span.start_offset \
                and occ.span.end_offset <= diagnostic.span.end_offset:
            yield occ


def _declare(actions: _Actions, diagnostic: Diagnostic, occ: Occurrence) -> None:
    stub = _STUBS.get(occ.expected)
    if stub is None or ("." in occ.name and occ.expected != "event"):
        return
    kind, template = stub
    version = _event_version(actions.source, occ) if occ.expected == "event" else ""
    text = actions.source.text
    body = template.format(name=occ.name, version=version).replace(" {\n}", " {}").replace(
        f"{occ.name}  {{", f"{occ.name} {{")
    end = len(text)
    gap = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    actions.add(f"Declare {kind} `{occ.name}`", actions.at(end), gap + body, diagnostic)


def _event_version(source: SourceFile, occ: Occurrence) -> str:
    after = source.text[occ.span.end_offset:occ.span.end_offset + 20]
    match = re.match(r"[ \t]+(v[0-9]+)\b", after)
    return match.group(1) if match else "v1"


def _add_use(actions: _Actions, diagnostic: Diagnostic, occ: Occurrence) -> None:
    """`use M` for a name declared in a module this one does not use."""
    namespace = _NAMESPACE_OF.get(occ.expected)
    world = actions.world
    if namespace is None or ("." in occ.name and occ.expected != "event"):
        return
    module = world.module_of(actions.path)
    if module is None:
        return
    visible = set(world.visible(module.name))
    candidates = sorted({s.module for m in world.analysis.program.modules
                         if m.name not in visible
                         for s in world.analysis.symbols.declared(m.name, namespace, occ.name)})
    candidates += sorted(n for n in std_modules() if n not in visible and n not in candidates
                         and _std_declares(n, occ.name))
    offset, after_header = _use_position(actions.source)
    for name in candidates:
        text = f"\nuse {name}\n" if after_header else f"use {name}\n"
        actions.add(f"Add `use {name}`", actions.at(offset), text, diagnostic, preferred=True)


def _std_declares(module: str, name: str) -> bool:
    """Whether a standard-library module not loaded yet declares `name` (a cheap scan)."""
    path = std_modules()[module]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return False
    return re.search(rf"^\s*\w+\s+{re.escape(name)}\b", text, re.MULTILINE) is not None


def _use_position(source: SourceFile) -> tuple[int, bool]:
    """Where a new `use` line goes (after the last `use`, else after the module header),
    and whether that is right after the header."""
    last = None
    for match in re.finditer(r"^(use|module)\b[^\n]*(\n|$)", source.text, re.MULTILINE):
        last = match
    if last is None:
        return 0, False
    return last.end(), last.group(1) == "module"


def _indent_of(source: SourceFile, offset: int) -> str:
    begin = source.text.rfind("\n", 0, offset) + 1
    line = source.text[begin:offset]
    return line[:len(line) - len(line.lstrip())]
