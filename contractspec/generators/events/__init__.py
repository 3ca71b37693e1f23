"""The `events` target: a JSON Schema per event version and typed pydantic event models.

- `schemas/events/<type>.<version>.json` (at the root of the output, beside `openapi.json`):
  the envelope and payload (draft 2020-12), for consumers in any language;
- `<app>/events/models.py`: one model per event version and `EVENT_MODELS`;
- `<app>/events/__init__.py`.
Enums are imported from `<app>/enums.py`, which the `db` target writes.
"""

from __future__ import annotations

from typing import ClassVar

from contractspec.generators import base, jsontext
from contractspec.generators.events.pymodels import render_models
from contractspec.generators.events.schema import event_schema
from contractspec.generators.events.shapes import build_catalog
from contractspec.generators.pyoutput import encode_sources
from contractspec.generators.runtime import with_runtime
from contractspec.ir import nodes as ir


class EventsGenerator:
    name: ClassVar[str] = "events"
    description: ClassVar[str] = "JSON Schemas and pydantic models of every event version"
    options_model: ClassVar[type[base.GeneratorOptions]] = base.GeneratorOptions

    def generate(self, program: ir.Program, options: base.GeneratorOptions) -> base.Files:
        catalog = build_catalog(with_runtime(program))  # with the runtime's events
        sources = base.user_files(program)
        header = base.header("events", sources)
        comment = " ".join(line.strip() for line in base.header("events", sources, "")
                           .splitlines())
        root = f"{options.app}/events"
        files = encode_sources({
            f"{root}/__init__.py": header + '"""Typed events and their JSON Schemas."""\n',
            f"{root}/models.py": render_models(catalog, header, options.app),
        })
        for event in catalog.events:
            schema = event_schema(event, catalog, comment)
            text = jsontext.dumps(schema)
            files[f"schemas/events/{event.file_stem}.json"] = text.encode()
        return dict(sorted(files.items()))
