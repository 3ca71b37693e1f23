"""Keep a released version, add the next one: the edit behind the quick fix of CS601.

The current declaration (whose contract no longer matches the lock) becomes the next version
(`placeOrder v2`), and the released version is written back above it from its lock entry:
the contract (input or payload fields, output, policy, errors) as released, the rest (doc
comment, `emits`, `meters`, `behind`, error messages, severity, retention, annotation
attributes such as `@label`) taken from the current declaration. Fields keep the current
declaration's order; fields it no longer has follow, in the lock's order.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from contractspec.evolve.differ import strings
from contractspec.evolve.lock import UNVERSIONED, Json
from contractspec.ir import nodes as ir
from contractspec.ir.text import attribute_text
from contractspec.source import SourceFile, Span

_VERSION_AFTER_NAME = re.compile(r"[ \t]+(v[0-9]+|[0-9]+\.[0-9]+\.[0-9]+)\b")
_ANNOTATIONS = frozenset({"label", "deprecated", "pii"})  # kept from the current field

Decl = ir.OperationDecl | ir.EventDecl


def next_version(versions: list[str]) -> str:
    """The version to add beside the released ones: `v3` after `v2`, `2.0.0` after `1.4.0`."""
    numbers = [int(v[1:]) for v in versions if v.startswith("v") and v[1:].isdigit()]
    majors = [int(v.split(".")[0]) for v in versions if v.count(".") == 2
              and v.split(".")[0].isdigit()]
    if majors and not numbers:
        return f"{max(majors) + 1}.0.0"
    return f"v{max(numbers, default=1) + 1}"


@dataclass(frozen=True)
class NewVersion:
    """The edit: replace `span` (the current declaration) with `text`."""

    title: str
    span: Span
    text: str


def _fields(block: Any, current: tuple[ir.FieldDecl, ...], indent: str) -> list[str] | None:
    if not isinstance(block, dict):
        return None
    now = {f.name: f for f in current}
    order = [f.name for f in current if f.name in block] + [n for n in block if n not in now]
    lines: list[str] = []
    for name in order:
        spec = block[name]
        if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
            return None
        text = f"{indent}{name}: {spec['type']}{'?' if spec.get('optional') else ''}"
        if isinstance(spec.get("default"), str):
            text += f" = {spec['default']}"
        attributes = strings(spec.get("attributes"))
        if name in now:
            attributes += [attribute_text(a) for a in now[name].attributes
                           if a.name in _ANNOTATIONS]
        lines.append(" ".join([text, *attributes]))
    return lines


def _block(keyword: str, lines: list[str]) -> list[str]:
    return [f"  {keyword} {{", *lines, "  }"] if lines else []


def _event_ref(ref: ir.EventRef) -> str:
    return f"{ref.name} {ref.version}" if ref.version else ref.name


def _operation(item: Json, op: ir.OperationDecl, header: str) -> list[str] | None:
    inputs = _fields(item.get("input", {}), op.input, "    ")
    errors = item.get("errors", {})
    if inputs is None or not isinstance(errors, dict):
        return None
    messages = {e.name: e.message for e in op.errors}
    error_lines = []
    for name, spec in errors.items():
        status = spec.get("status") if isinstance(spec, dict) else None
        message = messages.get(name)
        error_lines.append("    " + " ".join(
            [name, *([str(status)] if isinstance(status, int) else []),
             *([json.dumps(message, ensure_ascii=False)] if message else [])]))
    lines = [header, *_block("input", inputs)]
    if isinstance(item.get("output"), str):
        lines.append(f"  output {item['output']}")
    if isinstance(item.get("policy"), str):
        lines.append(f"  policy {item['policy']}")
    if op.emits:
        lines.append("  emits " + ", ".join(_event_ref(e) for e in op.emits))
    lines += _block("errors", error_lines)
    if op.meters:
        lines.append("  meters " + ", ".join(m.name for m in op.meters))
    if op.behind is not None:
        lines.append(f"  behind {op.behind.name}")
    return [*lines, "}"]


def _event(item: Json, event: ir.EventDecl, header: str) -> list[str] | None:
    payload = _fields(item.get("payload", {}), event.payload, "    ")
    if payload is None:
        return None
    lines = [header, *_block("payload", payload)]
    if event.severity is not None:
        lines.append(f"  severity {event.severity.name}")
    if event.retention is not None:
        lines.append(f"  retention {event.retention.text}")
    if event.audit:
        lines.append("  audit")
    return [*lines, "}"]


def released_text(item: Json, decl: Decl) -> str | None:
    """The released version of `decl` as spec text, or None when its lock entry is not
    the shape `cspec release` writes."""
    version = f" {decl.version}" if decl.version else ""
    if isinstance(decl, ir.OperationDecl):
        lines = _operation(item, decl, f"{decl.kind} {decl.name}{version} {{")
    else:
        lines = _event(item, decl, f"event {decl.name}{version} {{")
    if lines is None:
        return None
    docs = [f"/// {line}".rstrip() for line in decl.doc.split("\n")] if decl.doc else []
    return "\n".join([*docs, *lines])


def _renamed(source: SourceFile, decl: Decl, version: str) -> str:
    """The current declaration's text, declared as `version`."""
    start = decl.span.start_offset
    text = source.text[start:decl.span.end_offset]
    at = decl.name_span.end_offset - start
    match = _VERSION_AFTER_NAME.match(text, at)
    if match is not None:
        return text[:match.start(1)] + version + text[match.end(1):]
    return f"{text[:at]} {version}{text[at:]}"


def keep_and_add(lock: Json | None, module: ir.Module, source: SourceFile,
                 span: Span) -> NewVersion | None:
    """The edit for the released operation or event version whose name is at `span`."""
    section, decl = _declaration(module, span)
    if decl is None:
        return None
    version = decl.version or UNVERSIONED
    label = decl.name if version == UNVERSIONED else f"{decl.name} {version}"
    siblings = module.operations if section == "operations" else module.events
    new = next_version([d.version or UNVERSIONED for d in siblings if d.name == decl.name])
    current = _renamed(source, decl, new)
    modules = lock.get("modules") if lock is not None else None
    item = _lookup(modules, module.name, section, decl.name, version)
    old = released_text(item, decl) if item is not None else None
    if old is None:
        return NewVersion(f"Copy as `{decl.name} {new}`", decl.span,
                          source.text[decl.span.start_offset:decl.span.end_offset]
                          + "\n\n" + current)
    return NewVersion(f"Keep `{label}` as released, add `{decl.name} {new}`", decl.span,
                      old + "\n\n" + current)


def _declaration(module: ir.Module, span: Span) -> tuple[str, Decl | None]:
    for op in module.operations:
        if op.name_span == span:
            return "operations", op
    for event in module.events:
        if event.name_span == span:
            return "events", event
    return "operations", None


def _lookup(modules: Any, module: str, section: str, name: str, version: str) -> Json | None:
    found: Any = modules
    for key in (module, section, name, version):
        found = found.get(key) if isinstance(found, dict) else None
    return found if isinstance(found, dict) else None
