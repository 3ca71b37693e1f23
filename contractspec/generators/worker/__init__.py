"""The `worker` target: background jobs of a workspace that uses the standard `jobs` module.

`<app>/jobs/definitions.py` (job types with input models, retries, backoff, timeout;
triggers; schedules), `<app>/jobs/queue.py` (`enqueue` and the trigger subscribers of the
outbox), `<app>/jobs/worker.py` (claiming, running, retrying and dead-lettering runs;
schedules; `python -m <app>.jobs.worker`) and the user-owned `<app>/handlers/jobs.py`.
Without `use jobs` it generates nothing.
"""

from __future__ import annotations

from typing import ClassVar

import contractspec.generators.api  # noqa: F401 - before services, whose providers import it
from contractspec.generators.base import Files, GeneratorOptions, UserOwned, header, user_files
from contractspec.generators.pyoutput import encode_sources
from contractspec.generators.runtime import has_identity
from contractspec.generators.services import PROVIDERS
from contractspec.generators.worker import static
from contractspec.generators.worker.definitions import render_definitions
from contractspec.generators.worker.model import collect, uses_jobs
from contractspec.ir import nodes as ir


class WorkerGenerator:
    name: ClassVar[str] = "worker"
    description: ClassVar[str] = ("background jobs: job types, queue, outbox triggers, "
                                  "schedules and the worker command (with `use jobs`)")
    options_model: ClassVar[type[GeneratorOptions]] = GeneratorOptions

    def generate(self, program: ir.Program, options: GeneratorOptions) -> Files:
        if not uses_jobs(program):
            return {}
        app = options.app
        top = header("worker", user_files(program))
        jobs = collect(program)
        texts = {
            f"{app}/jobs/__init__.py": top + static.JOBS_INIT,
            f"{app}/jobs/definitions.py": render_definitions(jobs, app, top),
            f"{app}/jobs/queue.py": top + _fill(static.QUEUE, app),
            f"{app}/jobs/worker.py": top + _generated(_fill(static.WORKER, app), program, app),
        }
        files = encode_sources(texts)
        services = {p.module for p in PROVIDERS if program.module(p.module) is not None} \
            if has_identity(program) else set()
        names = "".join(f"\n- `{job.type}`: `{job.handler}`" + (
            f" (generated in `{app}/services/{job.module}.py`)" if job.module in services
            else "") for job in jobs.jobs) or " none"
        files[f"{app}/handlers/jobs.py"] = UserOwned(
            _fill(static.HANDLERS, app).replace("{jobs}", names).encode())
        return files


def _fill(template: str, app: str) -> str:
    return template.replace("{app}", app)


def _generated(worker: str, program: ir.Program, app: str) -> str:
    """The worker looks job functions up in the std modules' generated services first."""
    modules = sorted(p.module for p in PROVIDERS if program.module(p.module) is not None) \
        if has_identity(program) else []  # sorted: the imports stay ordered
    if not modules:
        return worker
    imports = "".join(f"from {app}.services import {m} as {m}_service\n" for m in modules)
    worker = worker.replace(f"from {app}.jobs.queue import enqueue\n",
                            f"from {app}.jobs.queue import enqueue\n{imports}")
    names = [f"{m}_service," for m in modules]
    line = "GENERATED: tuple[object, ...] = (" + " ".join(names) + ")"
    if len(line) > 100:
        line = "GENERATED: tuple[object, ...] = (\n" + "".join(f"    {n}\n" for n in names) + ")"
    return worker.replace("GENERATED: tuple[object, ...] = ()", line)
