"""`<app>/agents/config.py`: each agent's model, instructions, limits, policy (compiled to a
function over the actor, like an operation policy) and tools (the route functions of
`<app>/api/routes.py` with their input models)."""

from __future__ import annotations

import textwrap
from typing import Any

from contractspec.generators.agents.manifest import output_kind
from contractspec.generators.agents.model import Agent, Agents
from contractspec.generators.api.access import render
from contractspec.generators.db.models import docstring
from contractspec.generators.db.naming import py_str, snake

I1, I2, I3 = "    ", "        ", "            "

_CLASSES = '''

@dataclass(frozen=True)
class Tool:
    """An operation an agent may call: its route function, input model and output shape
    (`object` returned as it is, `value` as `{"result": ...}`, `none` as `{}`)."""

    name: str
    operation: str
    input: type[BaseModel]
    call: Callable[[Any, Session, Actor], object]
    output: str


@dataclass(frozen=True)
class Agent:
    """An agent of the spec. `allows(actor)` is its `policy`; `limits` are per run
    (`steps`, `tokens`, `cost` in cents, `time` in seconds)."""

    name: str
    title: str | None
    model: str | None
    instructions: str | None
    policy: str | None
    allows: Callable[[Actor], bool]
    tools: Mapping[str, Tool]
    limits: Mapping[str, int]
'''


def allows_function(agent: Agent) -> str:
    return f"{snake(agent.key.replace('.', '_'))}_allows"


def config_module(model: Agents, app: str, top: str, document: dict[str, Any]) -> str:
    body: list[str] = []
    for agent in model.agents:
        body += _allows(agent)
    body += ["", "", "AGENTS: dict[str, Agent] = {"]
    for agent in model.agents:
        body += _agent(agent, document)
    body.append("}")
    text = "\n".join(body)
    doc = ('"""The agents of the spec: model, instructions, policy, limits and tools. Generated: '
           'change\nthe spec, not this file."""')
    imports = ["from __future__ import annotations", "",
               "from collections.abc import Callable, Mapping",
               "from dataclasses import dataclass", "from typing import Any", "",
               "from pydantic import BaseModel", "from sqlalchemy.orm import Session", "",
               f"from {app}.api import routes, schemas", f"from {app}.auth import Actor"]
    return top + doc + "\n\n" + "\n".join(imports) + "\n" + _CLASSES + text + "\n"


def _allows(agent: Agent) -> list[str]:
    what = f"`{agent.policy_text}`" if agent.policy_text else "no policy: any member"
    cond = render(agent.policy, False, I1, len("return ")) if agent.policy is not None \
        else "True"
    return ["", "", f"def {allows_function(agent)}(actor: Actor) -> bool:",
            *docstring(textwrap.fill(f"The policy of agent `{agent.key}`: {what}.", 92), I1),
            f"{I1}return {cond}"]


def _agent(agent: Agent, document: dict[str, Any]) -> list[str]:
    decl = agent.decl
    lines = [f"{I1}{py_str(agent.key)}: Agent(", f"{I2}name={py_str(agent.key)},",
             *_text("title", decl.description), *_text("model", decl.model),
             *_text("instructions", decl.instructions), *_text("policy", agent.policy_text),
             f"{I2}allows={allows_function(agent)},", f"{I2}tools={{"]
    for tool in agent.tools:
        op = tool.operation
        lines += [f"{I3}{py_str(tool.name)}: Tool(",
                  f"{I3}{I1}name={py_str(tool.name)},",
                  f"{I3}{I1}operation={py_str(f'{op.decl.name} {op.version}')},",
                  f"{I3}{I1}input=schemas.{op.input.name},",
                  f"{I3}{I1}call=routes.{op.function},",
                  f"{I3}{I1}output={py_str(output_kind(op, document))},",
                  f"{I3}),"]
    limits = ", ".join(f"{py_str(k)}: {v}" for k, v in sorted(agent.limits.items()))
    lines += [f"{I2}}},", f"{I2}limits={{{limits}}},", f"{I1}),"]
    return lines


def _text(name: str, value: str | None) -> list[str]:
    """`name=<string literal>,` as an argument line, in pieces when it is long."""
    if value is None:
        return [f"{I2}{name}=None,"]
    line = f"{I2}{name}={py_str(value)},"
    if len(line) <= 99:
        return [line]
    pieces = [chunk for part in value.splitlines(keepends=True)
              for chunk in textwrap.wrap(part, 60, drop_whitespace=False,
                                         replace_whitespace=False) or [part]]
    return [f"{I2}{name}=(", *(f"{I3}{py_str(p)}" for p in pieces), f"{I2}),"]
