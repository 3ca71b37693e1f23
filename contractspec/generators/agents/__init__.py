"""The `agents` target: for each `agent` of the spec, its tools as MCP tool definitions and,
in an application with users, its configuration and recorded runs. Nothing without agents.

- `agents/<agent>.tools.json` (at the root of the output, beside `openapi.json`): the MCP
  `tools/list` result of the agent (`manifest.py`);
- `<app>/agents/config.py`: model, instructions, policy, limits and tools (`source.py`);
- `<app>/agents/runtime.py`: `start_run`, `call_tool`, `log`, `finish`, `fail`;
- `<app>/agents/routes.py`: the same over HTTP, included by `main.py`.
The runs' tables and events are the `runtime` module's (`contractspec.generators.runtime`).
"""

from __future__ import annotations

from typing import ClassVar

from contractspec.generators import jsontext
from contractspec.generators.agents import static
from contractspec.generators.agents.manifest import manifest
from contractspec.generators.agents.model import Agents, build_agents
from contractspec.generators.agents.source import config_module
from contractspec.generators.api import API_VERSION
from contractspec.generators.api.openapi import openapi_document
from contractspec.generators.base import (
    Files,
    GeneratorOptions,
    header,
    user_files,
)
from contractspec.generators.events.shapes import build_catalog
from contractspec.generators.pyoutput import encode_sources
from contractspec.generators.runtime import MODULE
from contractspec.ir import nodes as ir

RUNTIME_EVENTS = {"RunStarted": "run.started", "ToolCalled": "tool.called",
                  "RunCompleted": "run.completed", "RunFailed": "run.failed"}


class AgentsGenerator:
    name: ClassVar[str] = "agents"
    description: ClassVar[str] = ("Agents: MCP tool manifests, configuration, and runs "
                                  "authorised like the API, with steps and events")
    options_model: ClassVar[type[GeneratorOptions]] = GeneratorOptions

    def generate(self, program: ir.Program, options: GeneratorOptions) -> Files:
        if not any(m.agents for m in program.modules):
            return {}
        app = options.app
        top = header("agents", user_files(program))
        model = build_agents(program)
        document = openapi_document(model.api, app, API_VERSION)
        texts: dict[str, str] = {
            f"agents/{agent.key}.tools.json": jsontext.dumps(manifest(agent, document))
            for agent in model.agents}
        if model.auth:
            names = _names(model)
            texts.update({
                f"{app}/agents/__init__.py": top + '"""The agents of the spec and their runs."""\n',
                f"{app}/agents/config.py": config_module(model, app, top, document),
                f"{app}/agents/runtime.py": top + _fill(static.RUNTIME, app, names),
                f"{app}/agents/routes.py": top + _fill(static.ROUTES, app, names),
            })
        return encode_sources(texts)


def _names(model: Agents) -> dict[str, str]:
    classes = {(t.module, t.entity.name): t.class_name for t in model.schema.tables}
    enums = {(e.module, e.decl.name): e.class_name for e in model.schema.enums}
    events = {(e.module, e.decl.name): e.class_name for e in build_catalog(model.program).events}
    names = {
        "Run": classes[(MODULE, "AgentRun")], "Step": classes[(MODULE, "AgentStep")],
        "User": classes[("identity", "User")],
        "Membership": classes[("identity", "OrgMembership")],
        "RunStatus": enums[(MODULE, "AgentRunStatus")],
        "StepKind": enums[(MODULE, "AgentStepKind")],
        "StepStatus": enums[(MODULE, "AgentStepStatus")],
    }
    return names | {key: events[(MODULE, event)] for key, event in RUNTIME_EVENTS.items()}


def _fill(template: str, app: str, names: dict[str, str]) -> str:
    text = template.replace("{app}", app)
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return text
