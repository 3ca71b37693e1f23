"""Events (CS501-CS506): references to events, events nothing emits, personal data kept
forever, severities, durations, critical operations behind experiments, learning steps.

The rest of the CS5xx family lives beside this module (notifications, jobs, flags); it is
imported at the end so that importing the family's first module registers all of it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from contractspec.check.context import CheckContext
from contractspec.check.payload import event_label, find_event, resolve_event, resolve_type
from contractspec.check.registry import rule
from contractspec.check.rules.stdlib import using
from contractspec.diagnostics import Fix, Related, Severity
from contractspec.ir import nodes as ir
from contractspec.source import Span

E, W = Severity.ERROR, Severity.WARNING
SEVERITIES = ("info", "warning", "critical")

# The start of most examples of the CS5xx family: a tenant-owned entity (ORDER), a command
# that emits an event (SHOP has both), and that event (EVENT).
ORDER = ("module shop\n\nuse identity\n\nentity Order {\n  id: uuid @id\n"
         "  org: ref identity.Org @tenant\n  total: money\n  buyer: ref identity.User\n}\n\n"
         "policy Order {\n  read: admin\n  create: admin\n}\n\n")
COMMAND = ("command placeOrder v1 {{\n  input {{\n    total: money\n  }}\n  output Order\n"
           "  policy admin\n{}  emits order.placed\n}}\n\n")
SHOP = ORDER + COMMAND.format("")
_EVENT = "event order.placed v1 {{\n  payload {{\n    order: ref Order\n  }}\n{}}}\n"
EVENT = _EVENT.format("")


def event_references(module: ir.Module) -> Iterator[ir.EventRef]:
    """Every place a module names an event, workflow transitions aside (the workflow checks
    resolve those)."""
    for op in module.operations:
        yield from op.emits
    for trigger in module.triggers:
        yield trigger.event
    yield from (n.on for n in module.notifications if n.on is not None)
    yield from (e.metric for e in module.experiments if e.metric is not None)
    yield from (m.source for m in module.metrics if m.source is not None)
    for track in module.tracks:
        for unit in track.units:
            yield from (s.completes_on for s in unit.steps if s.completes_on is not None)


def _emitted(module: ir.Module) -> Iterator[ir.EventRef]:
    for op in module.operations:
        yield from op.emits
    for workflow in module.workflows:
        yield from (t.emits for t in workflow.transitions if t.emits is not None)


@rule(
    "CS501", "event-never-emitted", W, "An event is declared but nothing emits it.",
    "Every event reference (`emits`, `on e run job`, a notification's `on`, an experiment's "
    "`metric`, a metric's `from`, a step's `completes on`) must name a declared event, and "
    "the version if one is given; an unknown one is CS201 with a suggestion. Conversely, an "
    "event that no operation and no workflow transition `emits` (in any module of the "
    "workspace) never happens: notifications, jobs and metrics waiting for it stay silent. "
    "Emit it where it happens, or delete it. An event emitted only by hand-written code can "
    "be kept with `// cspec-ignore CS501: emitted by the import handler`.",
    bad="module shop\n\nevent order.placed v1 {\n  payload {\n    total: money\n  }\n}\n",
    good=SHOP + EVENT,
)
def check_event_references(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for ref in event_references(module):
            resolve_event(ctx, module.name, ref)
    produced = {
        (sym.module, sym.name, sym.version)
        for module in ctx.program.modules
        for ref in _emitted(module)
        if (sym := find_event(ctx.symbols, module.name, ref)) is not None
    }
    for module in ctx.user_modules():
        for event in module.events:
            if (module.name, event.name, event.version) not in produced:
                ctx.report("CS501", f"nothing emits the event "
                           f"`{event_label(event.name, event.version)}`", event.name_span,
                           help="add `emits` to the command (or workflow transition) where it "
                                "happens")


def _pii_field(ctx: CheckContext, module: str, fields: tuple[ir.FieldDecl, ...],
               seen: frozenset[str] = frozenset()) -> str | None:
    """The first `@pii` field among `fields` or inside the `type`s they embed."""
    for f in fields:
        if f.attribute("pii") is not None:
            return f.name
        if f.type.is_ref:
            continue
        target = resolve_type(ctx.symbols, module, f.type)
        if target is not None and target.kind == "type" and target.qualified not in seen:
            inner = _pii_field(ctx, target.module, target.decl.fields,
                               seen | {target.qualified})
            if inner is not None:
                return f"{f.name}.{inner}"
    return None


def _pii_reason(ctx: CheckContext, module: str, event: ir.EventDecl) -> str | None:
    direct = _pii_field(ctx, module, event.payload)
    if direct is not None:
        return f"`{direct}` is `@pii`"
    for f in event.payload:
        if f.type.is_ref:
            target = resolve_type(ctx.symbols, module, f.type)
            if target is not None and target.kind == "entity":
                inner = _pii_field(ctx, target.module, target.decl.fields)
                if inner is not None:
                    return f"`{f.name}` refers to `{target.name}`, whose `{inner}` is `@pii`"
    return None


@rule(
    "CS502", "pii-event-without-retention", E,
    "An event carries personal data but never says how long it is kept.",
    "Events are appended to an event store and copied to audit trails, webhooks and analytics. "
    "When a payload holds personal data (a field marked `@pii`, inside the payload or in a "
    "`type` it embeds) or points at it (a `ref` to an entity with `@pii` fields: the event "
    "links that person to what happened), the event must say how long it is kept with "
    "`retention`, so that the generated store deletes it on time (storage limitation, GDPR "
    "art. 5). It is an error rather than a warning because events written without an expiry "
    "cannot be given one afterwards, and the fix is one line.",
    bad=SHOP + "event order.placed v1 {\n  payload {\n    order: ref Order\n"
               "    email: email @pii\n  }\n}\n",
    good=SHOP + "event order.placed v1 {\n  payload {\n    order: ref Order\n"
                "    email: email @pii\n  }\n  retention 90d\n}\n",
    per_module=True,
)
def check_pii_retention(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for event in module.events:
            if event.retention is not None:
                continue
            reason = _pii_reason(ctx, module.name, event)
            if reason is not None:
                ctx.report("CS502", f"the event `{event_label(event.name, event.version)}` "
                           f"holds personal data ({reason}) but has no `retention`",
                           event.name_span, help="say how long it is kept: `retention 365d`")


@rule(
    "CS503", "unknown-event-severity", E, "An event's severity is not a known level.",
    "`severity` is one of `info` (the default), `warning` or `critical`; alerting and the "
    "audit trail sort events by it.",
    bad=SHOP + _EVENT.format("  severity urgent\n"),
    good=SHOP + _EVENT.format("  severity critical\n"),
    fix="Replace with the closest level.",
    per_module=True,
)
def check_event_severity(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for event in module.events:
            level = event.severity
            if level is not None and level.name not in SEVERITIES:
                close = difflib.get_close_matches(level.name, SEVERITIES, n=1, cutoff=0.5)
                ctx.report("CS503", f"unknown severity `{level.name}`", level.span,
                           help="use one of " + ", ".join(f"`{s}`" for s in SEVERITIES)
                           + (f": did you mean `{close[0]}`?" if close else ""),
                           fixes=replace_with(level.span, close[0]) if close else ())


def replace_with(span: Span, replacement: str) -> tuple[Fix, ...]:
    """The quick fix that writes `replacement` over `span`."""
    return (Fix(title=f"Replace with `{replacement}`", span=span, replacement=replacement),)


@rule(
    "CS504", "non-positive-duration", E, "A duration that must be positive is zero.",
    "An event's `retention`, a job's `timeout` and backoff delays, and a schedule's `every` "
    "must be longer than zero: `0d` of retention deletes events as they are written, and a "
    "zero timeout or interval never lets a job run.",
    bad=SHOP + _EVENT.format("  retention 0d\n"),
    good=SHOP + _EVENT.format("  retention 30d\n"),
    per_module=True,
)
def check_durations(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for event in module.events:
            if event.retention is not None and event.retention.seconds <= 0:
                ctx.report("CS504", f"`retention {event.retention.text}` keeps nothing: "
                           "it must be longer than zero", event.name_span)
        for job in module.jobs:
            if job.timeout is not None and job.timeout.seconds <= 0:
                ctx.report("CS504", f"job `{job.name}` has `timeout {job.timeout.text}`: it "
                           "must be longer than zero", job.name_span)
            for arg in job.backoff.args if job.backoff is not None else ():
                if isinstance(arg, ir.LiteralExpr) and arg.type == "duration" and not (
                        isinstance(arg.value, int | float) and arg.value > 0):
                    ctx.report("CS504", f"the backoff delay `{arg.text}` must be longer than "
                               "zero", arg.span)
        for schedule in module.schedules:
            if schedule.every is not None and schedule.every.seconds <= 0:
                ctx.report("CS504", f"schedule `{schedule.name}` runs `every "
                           f"{schedule.every.text}`: the interval must be longer than zero",
                           schedule.name_span)


@rule(
    "CS505", "critical-behind-experiment", E, "A critical operation is behind an experiment.",
    "`critical op` marks flows that must always work the same way (sign-up, payment, "
    "creating the core record). An experiment deliberately gives some users a different "
    "variant, so a critical operation may not be `behind` one. A feature flag is fine: it "
    "is a controlled rollout, not a split test.",
    bad=using(ORDER, "flags") + COMMAND.format("  behind checkoutCopy\n") + EVENT
        + "\nexperiment checkoutCopy {\n  variants control 50%, short 50%\n"
          "  metric order.placed\n}\n\ncritical placeOrder\n",
    good=using(ORDER, "flags") + COMMAND.format("  behind newCheckout\n") + EVENT
         + "\nflag newCheckout {\n  default off\n}\n\ncritical placeOrder\n",
    per_module=True,
)
def check_critical_operations(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for critical in module.criticals:
            for ref in critical.operations:
                found = ctx.symbols.lookup(module.name, ref.name, "operation")
                for sym in found.symbols if not found.ambiguous else ():
                    _check_not_experiment(ctx, sym.module, sym.decl, critical.span)


def _check_not_experiment(ctx: CheckContext, module: str, op: ir.OperationDecl,
                          critical: Span) -> None:
    if op.behind is None:
        return
    target = ctx.symbols.lookup(module, op.behind.name, "flag").symbol
    if target is not None and target.kind == "experiment":
        ctx.report("CS505", f"the critical operation `{event_label(op.name, op.version)}` is "
                   f"behind the experiment `{op.behind.name}`", op.behind.span,
                   help="put it behind a flag instead, or take it out of `critical`",
                   related=(Related(span=critical, message="marked critical here"),))


@rule(
    "CS506", "step-without-completion", E, "A learning step never completes.",
    "A step of a learning track completes when a product event happens (`completes on "
    "deal.created`), never by a click alone: that is what makes progress mean the learner "
    "actually did the thing. A step without `completes on` can never be finished.",
    bad="module shop\n\nuse learning\n\ntrack basics \"Basics\" {\n  unit first \"First steps\" {\n"
        "    step welcome \"Welcome\" {\n      content \"Read me\"\n    }\n  }\n}\n",
    good=using(SHOP, "learning") + EVENT
         + "\ntrack basics \"Basics\" {\n  unit first \"First steps\" {\n"
         "    step order \"Place an order\" {\n      completes on order.placed\n    }\n  }\n}\n",
    per_module=True,
)
def check_steps(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for track in module.tracks:
            for unit in track.units:
                for step in unit.steps:
                    if step.completes_on is None:
                        ctx.report("CS506", f"step `{step.name}` has no `completes on`: it "
                                   "can never be completed", step.name_span,
                                   help="name the product event that completes it: "
                                        "`completes on deal.created`")


from contractspec.check.rules import (  # noqa: E402, F401  (the rest of the CS5xx family)
    flags,
    jobs,
    notifications,
)
