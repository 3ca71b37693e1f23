"""Jobs and schedules (CS512-CS516): retries, backoff, cron expressions, jobs nothing runs,
and job inputs that a trigger's event or a schedule cannot provide."""

from __future__ import annotations

from contractspec.check.context import CheckContext
from contractspec.check.cron import cron_error
from contractspec.check.payload import event_label, find_event, type_identity, type_text
from contractspec.check.registry import rule
from contractspec.check.rules.events import EVENT, SHOP
from contractspec.check.rules.stdlib import using
from contractspec.check.symbols import Symbol
from contractspec.diagnostics import Severity
from contractspec.ir import nodes as ir

E, W = Severity.ERROR, Severity.WARNING
MAX_RETRIES = 100
BACKOFFS = {"exponential": ("base", "max"), "fixed": ("delay",), "linear": ("step", "max")}
_SHOP = using(SHOP, "jobs")
_JOB = "module shop\n\nuse jobs\n\njob recount {\n  timeout 5m\n}\n\n"


@rule(
    "CS512", "too-many-retries", W, "A job retries an unreasonable number of times.",
    f"`retries` is how often a failed job is tried again. More than {MAX_RETRIES} retries "
    "almost always hides a permanent failure and keeps a queue busy for days; let it fail and "
    "alert instead.",
    bad="module shop\n\nuse jobs\n\njob recount {\n  retries 1000\n}\n\n"
        "schedule nightly every 1d run recount\n",
    good="module shop\n\nuse jobs\n\njob recount {\n  retries 5\n}\n\n"
         "schedule nightly every 1d run recount\n",
    per_module=True,
)
def check_retries(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for job in module.jobs:
            if job.retries is not None and job.retries > MAX_RETRIES:
                ctx.report("CS512", f"job `{job.name}` retries {job.retries} times (more than "
                           f"{MAX_RETRIES})", job.name_span,
                           help="retry a few times with backoff, then let the job fail")


@rule(
    "CS513", "bad-backoff", E, "A job's backoff is not a known strategy with durations.",
    "A backoff is `exponential(base, max)`, `fixed(delay)` or `linear(step, max)`; each "
    "argument is a duration such as `30s` or `1h`, and `max` is not shorter than the first "
    "argument.",
    bad="module shop\n\nuse jobs\n\njob recount {\n  retries 3\n  backoff exponential(30s)\n}\n\n"
        "schedule nightly every 1d run recount\n",
    good="module shop\n\nuse jobs\n\n"
         "job recount {\n  retries 3\n  backoff exponential(30s, 1h)\n}\n\n"
         "schedule nightly every 1d run recount\n",
    per_module=True,
)
def check_backoff(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for job in module.jobs:
            if job.backoff is not None:
                problem = _backoff_error(job.backoff)
                if problem is not None:
                    ctx.report("CS513", f"job `{job.name}`: {problem}", job.backoff.span,
                               help="write `exponential(30s, 1h)`, `fixed(1m)` or "
                                    "`linear(30s, 10m)`")


def _backoff_error(backoff: ir.Backoff) -> str | None:
    names = BACKOFFS.get(backoff.strategy)
    if names is None:
        return (f"unknown backoff `{backoff.strategy}`: use "
                + ", ".join(f"`{s}`" for s in BACKOFFS))
    shape = f"`{backoff.strategy}({', '.join(names)})`"
    if len(backoff.args) != len(names):
        plural = "s" if len(names) > 1 else ""
        return f"{shape} takes {len(names)} argument{plural}, not {len(backoff.args)}"
    durations: list[ir.LiteralExpr] = []
    for name, arg in zip(names, backoff.args, strict=True):
        if not (isinstance(arg, ir.LiteralExpr) and arg.type == "duration"):
            return f"`{name}` of {shape} must be a duration such as `30s`"
        durations.append(arg)
    if len(durations) == 2 and _seconds(durations[1]) < _seconds(durations[0]):
        return (f"`max` ({durations[1].text}) is shorter than `{names[0]}` "
                f"({durations[0].text})")
    return None


def _seconds(duration: ir.LiteralExpr) -> float:
    return float(duration.value) if isinstance(duration.value, int | float) else 0.0


@rule(
    "CS514", "bad-cron", E, "A schedule's cron expression is invalid.",
    "`cron` takes five fields: minute (0-59), hour (0-23), day of month (1-31), month "
    "(1-12 or `JAN`-`DEC`) and day of week (0-7, Sunday is 0 and 7, or `SUN`-`SAT`). "
    "A field is `*`, a value, a range `a-b`, a step `*/15` or `a-b/2`, or a comma list of "
    "those. The macros `@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`, `@yearly` "
    "and `@annually` are accepted; Quartz extensions (`?`, `L`, `W`, `#`, seconds) are not.",
    bad=_JOB + "schedule nightly cron \"0 24 * * *\" run recount\n",
    good=_JOB + "schedule nightly cron \"0 23 * * *\" run recount\n",
    per_module=True,
)
def check_cron(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for schedule in module.schedules:
            problem = cron_error(schedule.cron) if schedule.cron is not None else None
            if problem is not None:
                ctx.report("CS514", f"schedule `{schedule.name}`: {problem}", schedule.name_span,
                           help="for example `0 3 * * *` (03:00 every day) or "
                                "`*/15 9-17 * * MON-FRI`")


@rule(
    "CS515", "job-never-run", W, "A job is neither triggered by an event nor scheduled.",
    "A job runs `on event run job` or from a `schedule … run job`. A job that nothing "
    "runs is dead code, unless a "
    "hand-written handler enqueues it: then say so with "
    "`// cspec-ignore CS515: enqueued by the import handler`.",
    bad="module shop\n\nuse jobs\n\njob recount {\n  timeout 5m\n}\n",
    good=_JOB + "schedule nightly every 1d run recount\n",
)
def check_jobs_run(ctx: CheckContext) -> None:
    run: set[tuple[str, str]] = set()
    for module in ctx.program.modules:
        for ref in (*(t.job for t in module.triggers), *(s.job for s in module.schedules)):
            target = ctx.symbols.lookup(module.name, ref.name, "job").symbol
            if target is not None:
                run.add((target.module, target.name))
    for module in ctx.user_modules():
        for job in module.jobs:
            if (module.name, job.name) not in run:
                ctx.report("CS515", f"nothing runs the job `{job.name}`", job.name_span,
                           help=f"add `on some.event run {job.name}` or "
                                f"`schedule name cron \"0 3 * * *\" run {job.name}`")


@rule(
    "CS516", "job-input-not-provided", E, "What runs a job cannot fill its input.",
    "A job run `on` an event receives the event's payload: each input field of the job must "
    "be a payload field of the same name and type (optional inputs may be absent). A "
    "scheduled job receives nothing, so all its inputs must be optional or have defaults.",
    bad=_SHOP + EVENT + "\njob sendReceipt {\n  input {\n    receipt: ref Order\n  }\n}\n\n"
        "on order.placed run sendReceipt\n",
    good=_SHOP + EVENT + "\njob sendReceipt {\n  input {\n    order: ref Order\n  }\n}\n\n"
         "on order.placed run sendReceipt\n",
    per_module=True,
)
def check_job_inputs(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for trigger in module.triggers:
            job = ctx.symbols.lookup(module.name, trigger.job.name, "job").symbol
            event = find_event(ctx.symbols, module.name, trigger.event)
            if job is not None and event is not None:
                _check_trigger(ctx, trigger, job, event)
        for schedule in module.schedules:
            job = ctx.symbols.lookup(module.name, schedule.job.name, "job").symbol
            required = [f.name for f in job.decl.input if _required(f)] if job else []
            if required:
                ctx.report("CS516", f"the scheduled job `{schedule.job.name}` needs input "
                           + ", ".join(f"`{n}`" for n in required) + " that a schedule "
                           "cannot give", schedule.job.span,
                           help="make those inputs optional, or run the job on an event")


def _required(field: ir.FieldDecl) -> bool:
    return not field.type.optional and field.default is None \
        and field.attribute("default") is None


def _check_trigger(ctx: CheckContext, trigger: ir.TriggerDecl, job: Symbol,
                   event: Symbol) -> None:
    payload = {f.name: f for f in event.decl.payload}
    label = event_label(event.name, event.version)
    for field in job.decl.input:
        given = payload.get(field.name)
        if given is None:
            if _required(field):
                ctx.report("CS516", f"job `{job.name}` needs `{field.name}`, which the payload "
                           f"of `{label}` does not have", trigger.job.span,
                           help=f"payload fields: {', '.join(payload) or 'none'}")
            continue
        if type_identity(ctx.symbols, job.module, field.type) != type_identity(
                ctx.symbols, event.module, given.type):
            ctx.report("CS516", f"job `{job.name}` takes `{field.name}: "
                       f"{type_text(field.type)}`, but `{label}` gives `{field.name}: "
                       f"{type_text(given.type)}`", trigger.job.span)
        elif given.type.optional and _required(field):
            ctx.report("CS516", f"`{field.name}` is optional in `{label}` but required by job "
                       f"`{job.name}`", trigger.job.span)
