"""What the `agents` target generates from: each agent with its tools resolved to the API's
operations (the latest version of each), its policy compiled like an operation policy, and
its limits.

Built on the `api` target's model, so a tool is exactly the route it calls: the same input
model, the same JSON Schemas as `openapi.json`, the same route function.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from contractspec.check.symbols import SymbolTable
from contractspec.generators.api.access import AccessModel, Cond, Unsupported
from contractspec.generators.api.model import Api, Operation, build_api
from contractspec.generators.api.workflows import build_flows
from contractspec.generators.base import GeneratorError
from contractspec.generators.db.schema import Schema, build_schema
from contractspec.generators.runtime import has_identity, with_runtime
from contractspec.ir import nodes as ir
from contractspec.ir.text import expr_text


@dataclass(frozen=True)
class Tool:
    """One operation an agent may call, under the name the agent sees."""

    name: str
    operation: Operation


@dataclass
class Agent:
    module: str
    decl: ir.AgentDecl
    key: str  # the agent's name, `<module>.<name>` when two modules declare it
    tools: list[Tool]
    policy: Cond | None  # the compiled `policy` (None: any member), or None without users
    limits: dict[str, int] = field(default_factory=dict)  # `time` in whole seconds

    @property
    def policy_text(self) -> str | None:
        return expr_text(self.decl.policy) if self.decl.policy is not None else None


@dataclass
class Agents:
    program: ir.Program  # with the `runtime` module
    api: Api
    schema: Schema
    agents: list[Agent]
    auth: bool  # the workspace has users: runs, policies and the HTTP endpoints


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version))


def build_agents(program: ir.Program) -> Agents:
    program = with_runtime(program)
    symbols = SymbolTable(program)
    schema = build_schema(program)
    auth = has_identity(program)
    access = AccessModel(program, schema, symbols) if auth else None
    flows = build_flows(program, access, symbols) if access is not None else []
    api = build_api(program, flows, auth=auth)
    declared = [(m.name, a) for m in program.modules for a in m.agents]
    clashes = Counter(a.name for _, a in declared)
    agents = []
    for module, decl in declared:
        key = f"{module}.{decl.name}" if clashes[decl.name] > 1 else decl.name
        policy: Cond | None = None
        if access is not None and decl.policy is not None:
            try:
                policy = access.python(decl.policy, None)
            except Unsupported as error:
                raise GeneratorError(f"the policy of agent `{decl.name}`: {error}") from error
        agents.append(Agent(module, decl, key, _tools(module, decl, api, symbols), policy,
                            _limits(decl)))
    return Agents(program, api, schema, agents, auth)


def _tools(module: str, decl: ir.AgentDecl, api: Api, symbols: SymbolTable) -> list[Tool]:
    operations: list[Operation] = []
    for ref in decl.tools:
        syms = symbols.lookup(module, ref.name, "operation").symbols
        found = [op for op in api.operations if op.crud != "transition" and any(
            op.module == s.module and op.decl.name == s.name for s in syms)]
        if not found:
            raise GeneratorError(f"agent `{decl.name}`: the tool `{ref.name}` is not an "
                                 "operation of the workspace")
        latest = max(found, key=lambda op: version_key(op.version))
        if all(latest is not op for op in operations):
            operations.append(latest)
    names = Counter(op.decl.name for op in operations)
    return [Tool(f"{op.module}_{op.decl.name}" if names[op.decl.name] > 1 else op.decl.name, op)
            for op in operations]


def _limits(decl: ir.AgentDecl) -> dict[str, int]:
    limits: dict[str, int] = {}
    for limit in decl.limits:
        if limit.duration is not None:
            limits[limit.name] = max(1, math.ceil(limit.duration.seconds))
        elif limit.value is not None:
            limits[limit.name] = limit.value
    return limits
