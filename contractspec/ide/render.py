"""Rendering IR back to `.cspec` text for hovers: types, expressions, declaration heads."""

from __future__ import annotations

from collections.abc import Iterable

from contractspec.ir import nodes as ir
from contractspec.ir.text import attribute_text, expr_text, type_text

MAX_MEMBERS = 40


def field_text(f: ir.FieldDecl) -> str:
    text = f"{f.name}: {type_text(f.type)}"
    if f.default is not None:
        text += f" = {expr_text(f.default)}"
    return " ".join([text, *(attribute_text(a) for a in f.attributes)])


def quoted(text: str | None) -> str:
    if text is None:
        return ""
    return ' "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def block(head: str, lines: Iterable[str], indent: str = "  ") -> str:
    body = list(lines)
    if len(body) > MAX_MEMBERS:
        body = [*body[:MAX_MEMBERS], f"// … {len(body) - MAX_MEMBERS} more"]
    if not body:
        return head + " {}"
    return "\n".join([head + " {", *(indent + line for line in body), "}"])


def fields_block(head: str, fields: Iterable[ir.FieldDecl]) -> str:
    return block(head, (field_text(f) for f in fields))


def event_ref_text(ref: ir.EventRef) -> str:
    return f"{ref.name} {ref.version}" if ref.version else ref.name


def transition_text(t: ir.Transition) -> str:
    text = f"transition {t.name}: {', '.join(s.name for s in t.sources)} -> {t.target.name}"
    if t.by is not None:
        text += f" by {expr_text(t.by)}"
    if t.when is not None:
        text += f" when {expr_text(t.when)}"
    if t.emits is not None:
        text += f" emits {event_ref_text(t.emits)}"
    return text


def operation_text(op: ir.OperationDecl) -> str:
    lines: list[str] = []
    if op.input:
        lines.extend(fields_block("input", op.input).splitlines())
    if op.output is not None:
        lines.append(f"output {type_text(op.output)}")
    if op.policy is not None:
        lines.append(f"policy {expr_text(op.policy)}")
    if op.emits:
        lines.append("emits " + ", ".join(event_ref_text(e) for e in op.emits))
    if op.errors:
        lines.extend(block("errors", (error_text(e) for e in op.errors)).splitlines())
    if op.meters:
        lines.append("meters " + ", ".join(m.name for m in op.meters))
    if op.behind is not None:
        lines.append(f"behind {op.behind.name}")
    head = f"{op.kind} {op.name}" + (f" {op.version}" if op.version else "")
    return block(head, lines)


def error_text(error: ir.ErrorDecl) -> str:
    status = f" {error.status}" if error.status is not None else ""
    return f"{error.name}{status}{quoted(error.message)}"


def event_text(event: ir.EventDecl) -> str:
    lines: list[str] = []
    if event.payload:
        lines.extend(fields_block("payload", event.payload).splitlines())
    if event.severity is not None:
        lines.append(f"severity {event.severity.name}")
    if event.retention is not None:
        lines.append(f"retention {event.retention.text}")
    if event.audit:
        lines.append("audit")
    head = f"event {event.name}" + (f" {event.version}" if event.version else "")
    return block(head, lines)


def workflow_text(flow: ir.WorkflowDecl) -> str:
    lines: list[str] = []
    if flow.initial is not None:
        lines.append(f"initial {flow.initial.name}")
    lines.extend(transition_text(t) for t in flow.transitions)
    if flow.finals:
        lines.append("final " + " ".join(f.name for f in flow.finals))
    lines.extend(f"migrate state {m.source.name} -> {m.target.name}" for m in flow.migrations)
    return block(f"workflow {flow.name} on {flow.subject.name}", lines)


def job_text(job: ir.JobDecl) -> str:
    lines: list[str] = []
    if job.input:
        lines.extend(fields_block("input", job.input).splitlines())
    if job.retries is not None:
        lines.append(f"retries {job.retries}")
    if job.backoff is not None:
        args = ", ".join(expr_text(a) for a in job.backoff.args)
        lines.append(f"backoff {job.backoff.strategy}" + (f"({args})" if args else ""))
    if job.timeout is not None:
        lines.append(f"timeout {job.timeout.text}")
    return block(f"job {job.name}", lines)
