"""The `ui` target: server-rendered pages from the spec's `view` declarations.

`<app>/ui/routes.py` (a FastAPI router: sign-in, list, board, form and record pages),
`<app>/ui/web.py` (the sign-in cookie, CSRF, rendering, form values),
`<app>/ui/templates/*.html` (Jinja2, autoescaped) and `<app>/ui/static/ui.css`; no
JavaScript. The api target's `main.py` includes the router when the workspace has views.
Without a `view` it generates nothing; views need `use identity` (the pages sign in with the
generated API tokens). Decisions: `model.py`; the routes: `routesource.py`.
"""

from __future__ import annotations

from typing import ClassVar

from contractspec.generators.base import (
    Files,
    GeneratorError,
    GeneratorOptions,
    header,
    user_files,
)
from contractspec.generators.pyoutput import encode_sources
from contractspec.generators.runtime import has_identity, with_runtime
from contractspec.generators.ui import static
from contractspec.generators.ui.model import build_ui, views
from contractspec.generators.ui.routesource import routes_module
from contractspec.ir import nodes as ir


class UiGenerator:
    name: ClassVar[str] = "ui"
    description: ClassVar[str] = ("server-rendered Jinja2 pages from `view` declarations: "
                                  "lists, boards, forms, record pages, sign-in")
    options_model: ClassVar[type[GeneratorOptions]] = GeneratorOptions

    def generate(self, program: ir.Program, options: GeneratorOptions) -> Files:
        if not views(program):
            return {}
        app = options.app
        sources = user_files(program)
        program = with_runtime(program)
        if not has_identity(program):
            raise GeneratorError("views need `use identity`: the pages sign in with the "
                                 "generated API tokens")
        ui = build_ui(program)
        top = header("ui", sources)
        texts = {
            f"{app}/ui/__init__.py": top + '"""The web UI: server-rendered pages."""\n',
            f"{app}/ui/web.py": top + _fill(static.WEB, app),
            f"{app}/ui/routes.py": routes_module(ui, app, top),
            f"{app}/ui/static/ui.css": header("ui", sources, "/*", " */") + static.UI_CSS,
        }
        page_top = header("ui", sources, "{#", " #}")
        for name, template in static.TEMPLATES.items():
            texts[f"{app}/ui/templates/{name}"] = page_top + _fill(template, app)
        return encode_sources(texts)


def _fill(template: str, app: str) -> str:
    return template.replace("{app_title}", app.replace("_", " ").title()).replace("{app}", app)
