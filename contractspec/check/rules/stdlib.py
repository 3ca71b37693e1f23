"""The standard library behind language constructs (CS523): a module that declares jobs,
notifications, flags, attachments, metrics, tracks or audited events uses the standard
module that stores and runs them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from contractspec.check.context import CheckContext
from contractspec.check.registry import rule
from contractspec.diagnostics import Fix, Related, Severity
from contractspec.ir import nodes as ir
from contractspec.source import Span
from contractspec.workspace.loader import std_modules

# What each standard module brings to the constructs that need it.
PROVIDES = {
    "audit": "the audit trail (`AuditEntry`) that events marked `audit` are written to",
    "files": "the stored files and attachments (`File`, `Attachment`) of `attachments on`",
    "flags": "the run-time state of flags and experiments (`FeatureFlag`, `Assignment`)",
    "jobs": "the job queue (`Job`, `JobSchedule`) that runs jobs, triggers and schedules",
    "learning": "the learners, enrolments and step completions of tracks",
    "metering": "the usage records, summaries and subscriptions of metrics and plans",
    "notifications": "the deliveries, templates and preferences notifications are sent with",
}
_EXAMPLE = ("module shop\n\nuse identity\n\nentity Order {{\n  id: uuid @id\n"
            "  org: ref identity.Org @tenant\n}}\n\npolicy Order {{\n  read: admin\n}}\n\n"
            "command placeOrder v1 {{\n  output Order\n  policy admin\n  emits order.placed\n"
            "}}\n\nevent order.placed v1 {{\n  payload {{\n"
            "    order: ref Order\n  }}\n{}}}\n\njob sendReceipt {{\n  input {{\n"
            "    order: ref Order\n  }}\n  retries 3\n}}\n\non order.placed run sendReceipt\n")


def using(spec: str, *modules: str) -> str:
    """`spec` (a rule's example) with `use` lines for `modules` after its last `use` line,
    or after its `module` header."""
    lines = spec.split("\n")
    at = max((i for i, line in enumerate(lines) if line.startswith(("use ", "module "))),
             default=-1)
    added = [f"use {m}" for m in modules]
    if at < 0 or lines[at].startswith("module "):
        added = ["", *added] if at >= 0 else [*added, ""]
    return "\n".join([*lines[:at + 1], *added, *lines[at + 1:]])


def constructs(module: ir.Module) -> Iterator[tuple[str, str, Span]]:
    """(standard module, what is declared, where) for every construct that needs one."""
    for job in module.jobs:
        yield "jobs", f"job `{job.name}`", job.name_span
    for trigger in module.triggers:
        yield "jobs", f"`on {trigger.event.name} run {trigger.job.name}`", trigger.span
    for schedule in module.schedules:
        yield "jobs", f"schedule `{schedule.name}`", schedule.name_span
    for notification in module.notifications:
        yield "notifications", f"notification `{notification.name}`", notification.name_span
    for flag in module.flags:
        yield "flags", f"flag `{flag.name}`", flag.name_span
    for experiment in module.experiments:
        yield "flags", f"experiment `{experiment.name}`", experiment.name_span
    for attachments in module.attachments:
        yield "files", f"`attachments on {attachments.entity.name}`", attachments.entity.span
    for metric in module.metrics:
        yield "metering", f"metric `{metric.name}`", metric.name_span
    for plan in module.plans:
        yield "metering", f"plan `{plan.name}`", plan.name_span
    for track in module.tracks:
        yield "learning", f"track `{track.name}`", track.name_span
    for event in module.events:
        if event.audit:
            yield "audit", f"the audited event `{event.name}`", event.name_span


@cache
def _std_uses() -> dict[str, frozenset[str]]:
    """Standard module -> the standard modules it uses, directly or through others."""
    direct: dict[str, set[str]] = {}
    for name, path in std_modules().items():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = ""
        direct[name] = set(re.findall(r"^use\s+(\w+)", text, re.MULTILINE))
    closure: dict[str, frozenset[str]] = {}
    for name in direct:
        seen: set[str] = set()
        todo = list(direct[name])
        while todo:
            used = todo.pop()
            if used not in seen:
                seen.add(used)
                todo.extend(direct.get(used, ()))
        closure[name] = frozenset(seen)
    return closure


def _exempt(module: str, required: str) -> bool:
    """The module is the required one, or one it is built on (`use` would be a cycle:
    `identity`'s audited events, which `audit` itself uses)."""
    return module == required or module in _std_uses().get(required, frozenset())


@rule(
    "CS523", "std-module-not-used", Severity.ERROR,
    "A construct needs a standard module that the module does not use.",
    "Jobs, triggers and schedules run on the standard module `jobs`; notifications on "
    "`notifications`; flags and experiments on `flags`; `attachments on` on `files`; metrics "
    "and plans on `metering`; learning tracks on `learning`; events marked `audit` on `audit`. "
    "Those modules declare the tables, operations and permissions the generated app needs "
    "for the construct (the job queue, delivery records, flag state…), so the module that "
    "declares the construct must `use` them: without it the generated app would have "
    "nowhere to keep them. A standard module that the required one is itself built on "
    "(`identity` for `audit`) is exempt, since the `use` would be an import cycle.",
    bad=_EXAMPLE.format("  audit\n"),
    good=using(_EXAMPLE.format("  audit\n"), "audit", "jobs"),
    fix="Insert `use <module>` after the file's last `use` line (or its `module` header).",
    per_module=True,
)
def check_std_modules(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        used = {u.module.name for u in module.uses}
        needs: dict[str, list[tuple[str, Span]]] = {}
        for required, what, span in constructs(module):
            if required not in used and not _exempt(module.name, required):
                needs.setdefault(required, []).append((what, span))
        for required, found in sorted(needs.items()):
            found.sort(key=lambda f: (f[1].file, f[1].start_offset))
            what, span = found[0]
            others = tuple(Related(span=s, message=f"{w} needs it too") for w, s in found[1:])
            fix = _use_fix(module, span.file, required)
            ctx.report("CS523", f"{what} needs the standard module `{required}`, which "
                       f"module `{module.name}` does not use", span,
                       help=f"add `use {required}`: it declares {PROVIDES[required]}",
                       related=others, fixes=(fix,) if fix is not None else ())


def _use_fix(module: ir.Module, file: str, required: str) -> Fix | None:
    """Insert `use <required>` after the last `use` of `file`, else after its header."""
    uses = [u.span for u in module.uses if u.span.file == file]
    if uses:
        anchor, text = max(uses, key=lambda s: s.end_offset), f"\nuse {required}"
    else:
        headers = [h.span for h in module.headers if h.span.file == file]
        if not headers:
            return None
        anchor, text = headers[0], f"\n\nuse {required}"
    at = anchor.model_copy(update={"start_line": anchor.end_line, "start_col": anchor.end_col,
                                   "start_offset": anchor.end_offset})
    return Fix(title=f"Add `use {required}`", span=at, replacement=text)
