"""What the `worker` target needs from the IR: job types with their input fields as Python
annotations, triggers, schedules with their cron expressions expanded to sets of values."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from contractspec.check.cron import FIELDS, MACROS, cron_error
from contractspec.generators.db.naming import class_names, pascal, py_str, snake
from contractspec.ir import nodes as ir

JOBS_MODULE = "jobs"
DEFAULT_BACKOFF = ("fixed", (30.0,))  # when a job declares none: retry after 30 seconds

# Scalar -> (annotation, imports it needs: "datetime", "decimal", "uuid", "JsonValue").
_SCALARS: dict[str, tuple[str, str | None]] = {
    "string": ("str", None), "text": ("str", None), "email": ("str", None),
    "url": ("str", None), "int": ("int", None), "bigint": ("int", None),
    "decimal": ("decimal.Decimal", "decimal"), "money": ("decimal.Decimal", "decimal"),
    "bool": ("bool", None), "date": ("datetime.date", "datetime"),
    "datetime": ("datetime.datetime", "datetime"), "duration": ("datetime.timedelta", "datetime"),
    "uuid": ("uuid.UUID", "uuid"), "json": ("JsonValue", "JsonValue"),
}


@dataclass(frozen=True)
class InputField:
    name: str
    annotation: str
    default: str | None  # Python source of the default, None when required


@dataclass(frozen=True)
class Job:
    name: str
    module: str
    doc: str | None
    fields: tuple[InputField, ...]
    retries: int
    backoff: tuple[str, tuple[float, ...]]  # strategy, durations in seconds
    timeout: float | None
    qualified: bool = False  # another module declares a job of the same name

    @property
    def type(self) -> str:
        """The job type's name in `JOB_TYPES` and `Job.type`: `<module>.<job>` on a clash."""
        return f"{self.module}.{self.name}" if self.qualified else self.name

    @property
    def model(self) -> str:
        return f"{pascal(self.module) * self.qualified}{pascal(self.name)}Input"

    @property
    def handler(self) -> str:
        return f"{snake(self.module) + '_' if self.qualified else ''}{snake(self.name)}_job"


@dataclass(frozen=True)
class Trigger:
    event: str
    version: str | None
    job: str


@dataclass(frozen=True)
class Cron:
    """A cron expression as the sets of values each field allows."""

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...]
    months: tuple[int, ...]
    weekdays: tuple[int, ...]  # 0 is Sunday
    any_day: bool  # day of month is `*`
    any_weekday: bool  # day of week is `*`


@dataclass(frozen=True)
class Schedule:
    name: str
    job: str
    cron: Cron | None
    every: float | None


@dataclass
class Jobs:
    jobs: list[Job]
    triggers: list[Trigger]
    schedules: list[Schedule]
    imports: set[str]  # what the input models' annotations need


def uses_jobs(program: ir.Program) -> bool:
    return program.module(JOBS_MODULE) is not None


def collect(program: ir.Program) -> Jobs:
    """Every job, trigger and schedule of the program (standard modules included), by name."""
    enums = {name: cls for (_, name), cls in class_names(program).items()
             if any(e.name == name for m in program.modules for e in m.enums)}
    result = Jobs([], [], [], set())
    counts = Counter(job.name for module in program.modules for job in module.jobs)
    by_name: dict[tuple[str, str], Job] = {}
    for module in program.modules:
        for job in module.jobs:
            fields = tuple(_field(f, enums, result.imports) for f in job.input)
            found = Job(job.name, module.name, job.doc, fields, job.retries or 0,
                        _backoff(job.backoff),
                        job.timeout.seconds if job.timeout is not None else None,
                        qualified=counts[job.name] > 1)
            result.jobs.append(found)
            by_name[(module.name, job.name)] = found
    for module in program.modules:
        for trigger in module.triggers:
            version = trigger.event.version
            job_type = _job_type(by_name, module.name, trigger.job.name)
            result.triggers.append(Trigger(trigger.event.name, version, job_type))
        for schedule in module.schedules:
            cron = compile_cron(schedule.cron) if schedule.cron is not None else None
            every = schedule.every.seconds if schedule.every is not None else None
            job_type = _job_type(by_name, module.name, schedule.job.name)
            result.schedules.append(Schedule(schedule.name, job_type, cron, every))
    result.jobs.sort(key=lambda j: j.type)
    result.triggers.sort(key=lambda t: (t.event, t.version or "", t.job))
    result.schedules.sort(key=lambda s: s.name)
    return result


def _job_type(jobs: dict[tuple[str, str], Job], module: str, ref: str) -> str:
    """The job type a trigger or schedule of `module` runs: `mod.job`, or `job` of the
    module itself, else the one job of that name in another module."""
    owner, _, name = ref.rpartition(".")
    found = jobs.get((owner or module, name)) or next(
        (job for (_, job_name), job in sorted(jobs.items()) if job_name == name), None)
    return found.type if found is not None else ref


def _backoff(backoff: ir.Backoff | None) -> tuple[str, tuple[float, ...]]:
    if backoff is None:
        return DEFAULT_BACKOFF
    seconds = tuple(float(a.value) for a in backoff.args
                    if isinstance(a, ir.LiteralExpr) and isinstance(a.value, int | float))
    return backoff.strategy, seconds


def _field(f: ir.FieldDecl, enums: dict[str, str], imports: set[str]) -> InputField:
    type_ = f.type
    name = type_.name.rsplit(".", 1)[-1]
    need: str | None
    if type_.is_ref:
        annotation, need = "uuid.UUID", "uuid"
    elif type_.name in _SCALARS:
        annotation, need = _SCALARS[type_.name]
    elif name in enums:
        annotation, need = f"enums.{enums[name]}", "enums"
    else:  # a `type` (structure): carried as JSON
        annotation, need = "JsonValue", "JsonValue"
    if need is not None:
        imports.add(need)
    if type_.is_list:
        annotation = f"list[{annotation}]"
    default = _default(f.default, imports) if f.default is not None else None
    if type_.optional:
        annotation += " | None"
        if default is None:
            default = "None"
    return InputField(f.name, annotation, default)


def _default(expr: ir.Expr, imports: set[str]) -> str | None:
    if not isinstance(expr, ir.LiteralExpr):
        return None
    if expr.type == "duration" and isinstance(expr.value, int | float):
        imports.add("datetime")
        return f"datetime.timedelta(seconds={float(expr.value)!r})"
    if expr.type == "string" and isinstance(expr.value, str):
        return py_str(expr.value)
    if expr.type == "decimal":
        imports.add("decimal")
        return f"decimal.Decimal({py_str(str(expr.value))})"
    if expr.type in ("int", "bool", "null"):
        return repr(expr.value)
    return None


def compile_cron(expression: str) -> Cron:
    """The value sets of a valid cron expression (checked at check time: CS514)."""
    if cron_error(expression) is not None:
        raise ValueError(f"invalid cron expression {expression!r}")
    text = expression.strip()
    fields = MACROS.get(text.lower(), text).split()
    sets = [_values(value, spec.low, spec.high, spec.names)
            for value, spec in zip(fields, FIELDS, strict=True)]
    weekdays = tuple(sorted({d % 7 for d in sets[4]}))
    return Cron(expression, sets[0], sets[1], sets[2], sets[3], weekdays,
                any_day=fields[2] == "*", any_weekday=fields[4] == "*")


def _values(value: str, low: int, high: int, names: dict[str, int]) -> tuple[int, ...]:
    def number(text: str) -> int:
        return int(text) if text.isdigit() else names[text.lower()]

    found: set[int] = set()
    for item in value.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        else:
            first, dash, last = base.partition("-")
            start = number(first)
            end = number(last) if dash else (high if step_text else start)
        found.update(range(start, end + 1, step))
    return tuple(sorted(found))


def seconds_literal(seconds: float) -> str:
    return f"datetime.timedelta(seconds={seconds!r})"

