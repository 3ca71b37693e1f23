"""What the standard modules' providers share: the generated names a service template needs.

A provider's service module is a template (`string.Template`, `$name` placeholders: Python
source has no `$`) filled with the names the `api`, `db`, `events` and `worker` targets chose:
- `${f_<op>_<version>}`, `${in_<op>_<version>}`, `${out_<op>_<version>}`: the function, the
  input model and the output annotation (`schemas.`-qualified models) of an operation;
- `${e_<op>_<version>_<Error>}`: the class in `errors.py` of one of its errors;
- `${m_<Entity>}`, `${r_<Entity>}`, `${enum_<Enum>}`: ORM class, read model, enum class;
- `${ev_<event>_<version>}` (dots as `_`): the event's class in `<app>.events.models`;
- `${job_<job>}`, `${jobin_<job>}`: a job's handler function and input model;
- `${app}` and `${top}` (the header).
"""

from __future__ import annotations

import string

from contractspec.generators.base import GeneratorError
from contractspec.generators.events.shapes import build_catalog
from contractspec.generators.services.base import ServiceInput


def names(given: ServiceInput, module: str,
          operations: frozenset[tuple[str, str]]) -> dict[str, str]:
    """The placeholders of `module`'s service template (see the module docstring)."""
    from contractspec.generators.worker.model import collect, uses_jobs  # worker imports us

    found: dict[str, str] = {"app": given.app, "top": given.top}
    for name, version in sorted(operations):
        op = given.operation(module, name, version)
        key = f"{name}_{version}"
        found[f"f_{key}"] = op.function
        found[f"in_{key}"] = f"schemas.{op.input.name}"
        found[f"out_{key}"] = "None" if op.output.kind == "none" else f"schemas.{op.output.py}"
        for error in op.errors:
            found[f"e_{key}_{error.code}"] = error.class_name
    for table in given.schema.tables:
        if table.module in (module, "identity"):
            found.setdefault(f"m_{table.entity.name}", table.class_name)
    for enum in given.schema.enums:
        if enum.module in (module, "identity"):
            found.setdefault(f"enum_{enum.decl.name}", enum.class_name)
    for model in given.api.models.values():
        if model.entity is not None and model.entity.module in (module, "identity"):
            found.setdefault(f"r_{model.entity.name}", model.name)
    for event in build_catalog(given.program).events:
        found[f"ev_{event.type.replace('.', '_')}_{event.version}"] = event.class_name
    if uses_jobs(given.program):
        for job in collect(given.program).jobs:
            if job.module == module:
                found[f"job_{job.name}"] = job.handler
                found[f"jobin_{job.name}"] = job.model
    return found


def job_names(given: ServiceInput, module: str, name: str) -> tuple[str, str]:
    """A job's input model and handler function, as the `worker` target names them (with
    the module's name when another module declares a job of the same name)."""
    from contractspec.generators.worker.model import collect  # worker imports us

    for job in collect(given.program).jobs:
        if (job.module, job.name) == (module, name):
            return job.model, job.handler
    raise GeneratorError(f"no job `{module}.{name}`")


def fill(template: str, values: dict[str, str]) -> str:
    """The template with its placeholders replaced; a missing name is a generator bug."""
    try:
        return string.Template(template).substitute(values)
    except (KeyError, ValueError) as error:
        raise GeneratorError(f"service template: no value for {error}") from error
