"""`<app>/jobs/definitions.py`: the spec's job types (input model, retries, backoff,
timeout, handler name), triggers and schedules, as data the queue and the worker read."""

from __future__ import annotations

import keyword

from contractspec.generators.db.naming import py_str
from contractspec.generators.worker import static
from contractspec.generators.worker.model import Cron, Job, Jobs, seconds_literal

# Names a pydantic field cannot take: the attribute gets a trailing `_` and an alias.
_RESERVED = frozenset({
    "copy", "dict", "json", "schema", "schema_json", "construct", "validate", "parse_obj",
    "parse_raw", "parse_file", "from_orm", "update_forward_refs", "fields", "model_config",
})


def render_definitions(jobs: Jobs, app: str, top: str) -> str:
    aliased = any(_attribute(f.name) != f.name for job in jobs.jobs for f in job.fields)
    imports = ["from __future__ import annotations", _std_imports(jobs.imports),
               _third_party(jobs.imports, aliased)]
    if "enums" in jobs.imports:
        imports.append(f"from {app} import enums")
    start = "\n\n".join([static.DEFINITIONS_DOC, *imports, static.DEFINITIONS_TYPES.strip("\n")])
    body = [start, *(_model(job) for job in jobs.jobs), _registry(jobs)]
    return top + "\n\n\n".join(body) + "\n"


def _std_imports(needs: set[str]) -> str:
    lines = ["import datetime"]
    if "decimal" in needs:
        lines.append("import decimal")
    lines += ["import uuid", "from dataclasses import dataclass", "from typing import Literal"]
    return "\n".join(lines)


def _third_party(needs: set[str], aliased: bool) -> str:
    names = ["BaseModel", "ConfigDict"] + ["Field"] * aliased
    names += ["JsonValue"] if "JsonValue" in needs else []
    return (f"from pydantic import {', '.join(sorted(names))}\n"
            "from sqlalchemy.orm import Session")


def _attribute(name: str) -> str:
    return f"{name}_" if keyword.iskeyword(name) or name in _RESERVED else name


def _model(job: Job) -> str:
    doc = f'    """The input of the job `{job.type}`."""\n\n'
    lines = [f"class {job.model}(BaseModel):", doc.rstrip("\n") + "\n",
             "    model_config = ConfigDict(extra=\"forbid\", populate_by_name=True)"]
    for f in job.fields:
        attribute = _attribute(f.name)
        if attribute != f.name:
            value = f"Field({'' if f.default is None else f'default={f.default}, '}"
            value += f"alias={py_str(f.name)})"
            lines.append(f"    {attribute}: {f.annotation} = {value}")
        else:
            default = "" if f.default is None else f" = {f.default}"
            lines.append(f"    {attribute}: {f.annotation}{default}")
    return "\n".join(lines)


def _registry(jobs: Jobs) -> str:
    parts = ["# Every job type by name.\nJOB_TYPES: dict[str, JobType] = {"]
    for job in jobs.jobs:
        strategy, delays = job.backoff
        args = [py_str(strategy), *map(seconds_literal, delays)]
        backoff = ", ".join(args)
        if len(backoff) > 70:
            backoff = "\n" + "".join(f"            {arg},\n" for arg in args) + "        "
        timeout = seconds_literal(job.timeout) if job.timeout is not None else "None"
        parts.append(f"    {py_str(job.type)}: JobType(\n"
                     f"        name={py_str(job.type)},\n"
                     f"        input={job.model},\n"
                     f"        retries={job.retries},\n"
                     f"        backoff=Backoff({backoff}),\n"
                     f"        timeout={timeout},\n"
                     f"        handler={py_str(job.handler)},\n"
                     "    ),")
    parts.append("}")
    triggers = [f"    Trigger({py_str(t.event)}, {py_str(t.version) if t.version else 'None'}, "
                f"{py_str(t.job)})," for t in jobs.triggers]
    parts.append("\n# `on <event> run <job>`: the outbox dispatch enqueues the job.\n"
                 "TRIGGERS: tuple[Trigger, ...] = (" + _lines(triggers) + ")")
    schedules = []
    for s in jobs.schedules:
        cron = _cron(s.cron) if s.cron is not None else "None"
        every = seconds_literal(s.every) if s.every is not None else "None"
        schedules.append(f"    Schedule(\n        name={py_str(s.name)},\n"
                         f"        job={py_str(s.job)},\n        cron={cron},\n"
                         f"        every={every},\n    ),")
    parts.append("\n# `schedule … run <job>`: synced to `JobSchedule` rows by the worker.\n"
                 "SCHEDULES: tuple[Schedule, ...] = (" + _lines(schedules) + ")")
    return "\n".join(parts)


def _lines(items: list[str]) -> str:
    return "\n" + "\n".join(items) + "\n" if items else ""


def _cron(cron: Cron) -> str:
    def values(numbers: tuple[int, ...]) -> str:
        return "frozenset({" + ", ".join(map(str, numbers)) + "})"

    fields = [("text", py_str(cron.text)), ("minutes", values(cron.minutes)),
              ("hours", values(cron.hours)), ("days", values(cron.days)),
              ("months", values(cron.months)), ("weekdays", values(cron.weekdays)),
              ("any_day", str(cron.any_day)), ("any_weekday", str(cron.any_weekday))]
    return "Cron(\n" + "".join(_wrap(f"            {k}={v},") for k, v in fields) + "        )"


def _wrap(line: str) -> str:
    """A `name=frozenset({...}),` line, wrapped under 100 columns."""
    if len(line) <= 99:
        return line + "\n"
    indent = " " * 16
    head, _, rest = line.partition("({")
    items = rest.removesuffix("}),").split(", ")
    out, current = [head + "({"], indent
    for item in items:
        if len(current) + len(item) + 2 > 99:
            out.append(current.rstrip())
            current = indent
        current += item + ", "
    out.append(current.rstrip())
    return "\n".join(out) + "\n" + " " * 12 + "}),\n"
