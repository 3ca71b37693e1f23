"""The `api` target: a FastAPI application and its OpenAPI document.

- `<app>/api/schemas.py`: pydantic v2 request and response models;
- `<app>/api/errors.py`: the error catalog as exceptions;
- `<app>/api/routes.py`: one route per operation version, CRUD implemented, handlers called;
- `<app>/main.py`: the application, with the one error body for every error;
- `openapi.json`: the OpenAPI 3.1 document, written from the spec (not by importing the app).
Decisions: `model.py`; the Python sources: `pysource.py`; the document: `openapi.py`.
"""

from __future__ import annotations

import json
from typing import ClassVar

from contractspec.generators.api.model import build_api
from contractspec.generators.api.openapi import openapi_document
from contractspec.generators.api.pysource import (
    errors_module,
    main_module,
    routes_module,
    schemas_module,
)
from contractspec.generators.base import Files, GeneratorOptions, header, user_files
from contractspec.ir import nodes as ir

API_VERSION = "0.1.0"  # the application's version in the OpenAPI document


class ApiGenerator:
    name: ClassVar[str] = "api"
    description: ClassVar[str] = "FastAPI application, pydantic models and openapi.json"
    options_model: ClassVar[type[GeneratorOptions]] = GeneratorOptions

    def generate(self, program: ir.Program, options: GeneratorOptions) -> Files:
        app = options.app
        top = header("api", user_files(program))
        api = build_api(program)
        document = openapi_document(api, app, API_VERSION)
        texts = {
            f"{app}/api/__init__.py": top + '"""The HTTP API of the application."""\n',
            f"{app}/api/schemas.py": schemas_module(api, app, top),
            f"{app}/api/errors.py": errors_module(api, top),
            f"{app}/api/routes.py": routes_module(api, app, top),
            f"{app}/main.py": main_module(app, app, API_VERSION, top),
            "openapi.json": json.dumps(document, indent=2, sort_keys=True,
                                       ensure_ascii=False) + "\n",
        }
        return {path: text.encode() for path, text in sorted(texts.items())}
