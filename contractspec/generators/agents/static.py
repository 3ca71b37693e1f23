"""The fixed parts of the agents runtime: `<app>/agents/runtime.py` and the HTTP endpoints
`<app>/agents/routes.py`. `{app}` is the package; `{Run}`, `{Step}`, `{User}`,
`{Membership}` the model classes; `{RunStatus}`, `{StepKind}`, `{StepStatus}` the enums;
`{RunStarted}`, `{ToolCalled}`, `{RunCompleted}`, `{RunFailed}` the event classes."""

RUNTIME = '''"""The runs of the agents: each step recorded, each tool call authorised like the API.

The application never calls a model: the caller (an agent host, an MCP client) drives the
run and reports what the model did. `start_run` opens a run for the member who asks;
`call_tool` runs one of the agent's tools *as that member*, through the tool's route
function in `api/routes.py` (its operation policy, record rules and tenancy), and only when
the agent's own `policy` allows the member now; `log` records a line or a message; `finish`
and `fail` close the run. A tool that is not the agent's, or that the policies refuse, is
recorded as a refused step and never runs. Each step counts against the agent's limits
(`steps`, `tokens`, `cost`, `time`): a step over a limit fails the run. Events
`run.started`, `tool.called`, `run.completed` and `run.failed` go to the outbox.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy.orm import Session

from {app} import enums
from {app}.agents.config import AGENTS, Agent, Tool
from {app}.api import errors
from {app}.auth import Actor
from {app}.db import models
from {app}.events import models as events
from {app}.events import outbox
from {app}.policies import GRANTS

REFUSED = frozenset({401, 403, 404})  # API answers that refuse a tool call (never ran)


class UnknownAgent(errors.ApiError):
    status = 404
    code = "unknown_agent"
    message = "No agent of that name."


class AgentRefused(errors.ApiError):
    status = 403
    code = "agent_refused"
    message = "The agent's policy does not allow this member."


class RunClosed(errors.ApiError):
    status = 409
    code = "run_closed"
    message = "The run is over: it completed or failed."


class LimitExceeded(errors.ApiError):
    status = 409
    code = "limit_exceeded"
    message = "The run went over one of its agent's limits and failed."


@dataclass(frozen=True)
class ToolResult:
    """What a tool call gave the agent: the step, its status, the output or the error."""

    step: int
    status: str
    output: dict[str, Any] | None
    error: str | None


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _agent(run: models.{Run}) -> Agent:
    agent = AGENTS.get(run.agent)
    if agent is None:
        raise UnknownAgent(f"The agent {run.agent!r} is not in the spec any more.")
    return agent


def actor_of(session: Session, run: models.{Run}) -> Actor | None:
    """The member who started the run, with their current role and permissions (None when
    they are no longer a member of the organisation)."""
    membership = session.scalar(sa.select(models.{Membership}).where(
        models.{Membership}.org_id == run.org_id, models.{Membership}.user_id == run.user_id))
    if membership is None:
        return None
    role = str(membership.role)
    user = session.get(models.{User}, run.user_id)
    fields = {a.key: getattr(user, a.key) for a in sa.inspect(models.{User}).column_attrs}
    return Actor(run.user_id, run.org_id, role, GRANTS.get(role, frozenset()), None, fields)


def _emit(session: Session, run: models.{Run}, event: type[BaseModel],
          payload: type[BaseModel], values: dict[str, Any]) -> None:
    outbox.emit(session, actor_of(session, run), event, payload.model_validate(values),
                org_id=run.org_id)


def _commit(session: Session) -> None:
    session.commit()
    outbox.dispatch_pending(session)


def start_run(session: Session, agent: str, actor: Actor,
              input: Mapping[str, Any] | None = None) -> models.{Run}:
    """Open a run of `agent` for `actor` (403 when the agent's policy refuses them)."""
    config = AGENTS.get(agent)
    if config is None:
        raise UnknownAgent(f"No agent named {agent!r}.")
    if not config.allows(actor):
        raise AgentRefused(f"The policy of agent {agent!r} ({config.policy}) does not allow "
                           "this member.")
    run = models.{Run}(org_id=actor.org_id, user_id=actor.user_id, agent=agent,
                       status=enums.{RunStatus}.running, input=dict(input or {}))
    session.add(run)
    session.flush()
    _emit(session, run, events.{RunStarted}, events.{RunStarted}Payload,
          {"run": run.id, "agent": agent, "user": actor.user_id})
    _commit(session)
    return run


def _open(session: Session, run: models.{Run}) -> Agent:
    """The run's agent, the run's row locked and fresh; 409 when the run is over."""
    session.refresh(run, with_for_update=True)
    if run.status != enums.{RunStatus}.running:
        session.rollback()
        raise RunClosed(details={"run": str(run.id), "status": str(run.status)})
    return _agent(run)


def _over(run: models.{Run}, agent: Agent, steps: int, tokens: int, cost: int) -> str | None:
    """Why one more step of this usage would go over a limit, or None."""
    usage = {"steps": (run.steps, steps), "tokens": (run.tokens, tokens),
             "cost": (run.cost, cost)}
    for name, (used, more) in usage.items():
        limit = agent.limits.get(name)
        if limit is not None and more and used + more > limit:
            return (f"The run of agent {run.agent!r} would go over its limit of {limit} "
                    f"{name} ({used} used, {more} more).")
    limit = agent.limits.get("time")
    started = run.started_at if run.started_at.tzinfo else \\
        run.started_at.replace(tzinfo=datetime.UTC)
    if limit is not None and _now() - started > datetime.timedelta(seconds=limit):
        return f"The run of agent {run.agent!r} went over its time limit of {limit} s."
    return None


def _charge(session: Session, run: models.{Run}, agent: Agent, steps: int, tokens: int,
            cost: int) -> None:
    """Count a step's usage, or fail the run when it would go over a limit."""
    if tokens < 0 or cost < 0:
        session.rollback()
        raise errors.ApiError("Usage is never negative.")
    reason = _over(run, agent, steps, tokens, cost)
    if reason is not None:
        _close(session, run, enums.{RunStatus}.failed, error=reason)
        raise LimitExceeded(reason, details={"run": str(run.id)})
    run.steps += steps
    run.tokens += tokens
    run.cost += cost


def _add_step(session: Session, run: models.{Run}, **fields: Any) -> int:
    position = run.steps - 1
    session.add(models.{Step}(run_id=run.id, position=position, **fields))
    return position


def call_tool(session: Session, run: models.{Run}, tool: str, arguments: Mapping[str, Any],
              *, tokens: int = 0, cost: int = 0) -> ToolResult:
    """Call one of the agent's tools as the member who started the run; the step records
    what happened: `succeeded` with the output, `refused` (not the agent's tool, refused by
    the agent's policy, the operation's policy, a record rule or tenancy: it never ran) or
    `failed` (invalid arguments, a conflict, an error of the operation)."""
    agent = _open(session, run)
    _charge(session, run, agent, 1, tokens, cost)
    session.commit()  # the step is counted even if the tool crashes the process
    found = agent.tools.get(tool)
    actor = actor_of(session, run)
    output: dict[str, Any] | None = None
    status, error = enums.{StepStatus}.refused, None
    if found is None:
        error = (f"{tool!r} is not a tool of agent {run.agent!r} (its tools: "
                 f"{', '.join(agent.tools) or 'none'}).")
    elif actor is None:
        error = "The member who started the run is no longer a member of the organisation."
    elif not agent.allows(actor):
        error = f"The policy of agent {run.agent!r} ({agent.policy}) refuses this member now."
    else:
        status, output, error = _run(session, found, arguments, actor)
    session.refresh(run)
    position = _add_step(session, run, kind=enums.{StepKind}.tool_call, tool=tool,
                         input=to_jsonable_python(dict(arguments)), output=output,
                         status=status, error=error)
    _emit(session, run, events.{ToolCalled}, events.{ToolCalled}Payload,
          {"run": run.id, "agent": run.agent, "step": position, "tool": tool,
           "status": status.value, "error": error})
    _commit(session)
    return ToolResult(position, status.value, output, error)


def _run(session: Session, tool: Tool, arguments: Mapping[str, Any],
         actor: Actor) -> tuple[enums.{StepStatus}, dict[str, Any] | None, str | None]:
    """Validate the arguments and call the tool's route function, as the API would."""
    try:
        data = tool.input.model_validate(dict(arguments))
    except ValidationError as invalid:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}"
                             for e in invalid.errors())
        return enums.{StepStatus}.failed, None, f"Invalid arguments: {problems}"
    try:
        result = tool.call(data, session, actor)
    except errors.ApiError as refused:
        session.rollback()
        body = {"error": {"code": refused.code, "message": refused.message,
                          "details": refused.details}}
        status = enums.{StepStatus}.refused if refused.status in REFUSED \\
            else enums.{StepStatus}.failed
        return status, body, f"{refused.code}: {refused.message}"
    except Exception as crash:  # noqa: BLE001 - recorded as the step's error
        session.rollback()
        return enums.{StepStatus}.failed, None, f"{type(crash).__name__}: {crash}"
    if tool.output == "none":
        return enums.{StepStatus}.succeeded, {}, None
    value = to_jsonable_python(result, by_alias=True)
    if tool.output == "value":
        return enums.{StepStatus}.succeeded, {"result": value}, None
    return enums.{StepStatus}.succeeded, dict(value), None


def log(session: Session, run: models.{Run}, message: str, *, kind: str = "log",
        tokens: int = 0, cost: int = 0) -> int:
    """Record a log line (`kind="log"`) or a model message (`"message"`) as a step."""
    step_kind = enums.{StepKind}(kind)
    if step_kind == enums.{StepKind}.tool_call:
        raise ValueError("a tool call is recorded by call_tool")
    agent = _open(session, run)
    _charge(session, run, agent, 1, tokens, cost)
    position = _add_step(session, run, kind=step_kind, output={"message": message},
                         status=enums.{StepStatus}.succeeded)
    _commit(session)
    return position


def finish(session: Session, run: models.{Run}, output: Mapping[str, Any] | None = None, *,
           tokens: int = 0, cost: int = 0) -> models.{Run}:
    """Complete the run with its output (`run.completed`)."""
    agent = _open(session, run)
    _charge(session, run, agent, 0, tokens, cost)
    _close(session, run, enums.{RunStatus}.completed, output=to_jsonable_python(output or {}))
    return run


def fail(session: Session, run: models.{Run}, error: str) -> models.{Run}:
    """Fail the run with an error (`run.failed`)."""
    _open(session, run)
    _close(session, run, enums.{RunStatus}.failed, error=error)
    return run


def _close(session: Session, run: models.{Run}, status: enums.{RunStatus}, *,
           output: dict[str, Any] | None = None, error: str | None = None) -> None:
    run.status, run.output, run.error, run.finished_at = status, output, error, _now()
    if status == enums.{RunStatus}.completed:
        _emit(session, run, events.{RunCompleted}, events.{RunCompleted}Payload,
              {"run": run.id, "agent": run.agent, "steps": run.steps})
    else:
        _emit(session, run, events.{RunFailed}, events.{RunFailed}Payload,
              {"run": run.id, "agent": run.agent, "error": error or "failed"})
    _commit(session)
'''

ROUTES = '''"""The agents over HTTP (not in openapi.json; see the tool manifests instead).

The application never calls a model: an agent host or MCP client drives each run with the
bearer token of the member it acts for.
- `POST /v1/agents/{agent}/runs` `{"input": {...}}`: start a run (201);
- `POST /v1/agents/runs/{id}/tool-calls` `{"tool", "arguments", "tokens", "cost"}`: call a
  tool as the member; refused and failed calls are answered 200 with the step's status;
- `POST /v1/agents/runs/{id}/logs` `{"message", "kind"}`: record a log line or message;
- `POST /v1/agents/runs/{id}/complete` `{"output"}` and `/fail` `{"error"}`: close the run;
- `GET /v1/agents/runs/{id}`: the run with its steps.
A run is only visible to the member who started it (404 for anyone else).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from {app}.agents import runtime
from {app}.api import errors
from {app}.api.deps import ActorDep, SessionDep
from {app}.auth import Actor
from {app}.db import models

router = APIRouter(prefix="/v1/agents", tags=["agents"], include_in_schema=False)
Usage = Annotated[int, Field(ge=0)]


class StartRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: dict[str, JsonValue] = {}


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tool: str
    arguments: dict[str, JsonValue] = {}
    tokens: Usage = 0
    cost: Usage = 0


class LogLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str
    kind: Literal["log", "message"] = "log"
    tokens: Usage = 0
    cost: Usage = 0


class Complete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    output: dict[str, JsonValue] = {}
    tokens: Usage = 0
    cost: Usage = 0


class Fail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error: str = Field(min_length=1)


class Step(BaseModel):
    position: int
    kind: str
    tool: str | None
    input: JsonValue
    output: JsonValue
    status: str
    error: str | None
    createdAt: datetime.datetime | None


class Run(BaseModel):
    id: uuid.UUID
    agent: str
    status: str
    input: JsonValue
    output: JsonValue
    error: str | None
    usage: dict[str, int]
    startedAt: datetime.datetime | None
    finishedAt: datetime.datetime | None
    steps: list[Step]


class ToolCallResult(BaseModel):
    step: int
    status: str
    output: JsonValue
    error: str | None


def _run(session: SessionDep, actor: Actor, run_id: uuid.UUID) -> models.{Run}:
    run = session.scalar(sa.select(models.{Run}).where(
        models.{Run}.id == run_id, models.{Run}.org_id == actor.org_id,
        models.{Run}.user_id == actor.user_id))
    if run is None:
        raise errors.NotFound()
    return run


def _out(session: SessionDep, run: models.{Run}) -> Run:
    session.refresh(run)
    steps = session.scalars(sa.select(models.{Step}).where(models.{Step}.run_id == run.id)
                            .order_by(models.{Step}.position)).all()
    return Run(id=run.id, agent=run.agent, status=str(run.status), input=run.input,
               output=run.output, error=run.error,
               usage={"steps": run.steps, "tokens": run.tokens, "cost": run.cost},
               startedAt=run.started_at, finishedAt=run.finished_at,
               steps=[Step(position=s.position, kind=str(s.kind), tool=s.tool, input=s.input,
                           output=s.output, status=str(s.status), error=s.error,
                           createdAt=s.created_at) for s in steps])


@router.post("/{agent}/runs", status_code=201)
def start_run(agent: str, data: StartRun, session: SessionDep, actor: ActorDep) -> Run:
    return _out(session, runtime.start_run(session, agent, actor, data.input))


@router.get("/runs/{run_id}")
def get_run(run_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> Run:
    return _out(session, _run(session, actor, run_id))


@router.post("/runs/{run_id}/tool-calls")
def call_tool(run_id: uuid.UUID, data: ToolCall, session: SessionDep,
              actor: ActorDep) -> ToolCallResult:
    result = runtime.call_tool(session, _run(session, actor, run_id), data.tool,
                               data.arguments, tokens=data.tokens, cost=data.cost)
    return ToolCallResult(step=result.step, status=result.status, output=result.output,
                          error=result.error)


@router.post("/runs/{run_id}/logs", status_code=201)
def log(run_id: uuid.UUID, data: LogLine, session: SessionDep, actor: ActorDep) -> Run:
    run = _run(session, actor, run_id)
    runtime.log(session, run, data.message, kind=data.kind, tokens=data.tokens,
                cost=data.cost)
    return _out(session, run)


@router.post("/runs/{run_id}/complete")
def complete(run_id: uuid.UUID, data: Complete, session: SessionDep, actor: ActorDep) -> Run:
    run = _run(session, actor, run_id)
    return _out(session, runtime.finish(session, run, data.output, tokens=data.tokens,
                                        cost=data.cost))


@router.post("/runs/{run_id}/fail")
def fail(run_id: uuid.UUID, data: Fail, session: SessionDep, actor: ActorDep) -> Run:
    return _out(session, runtime.fail(session, _run(session, actor, run_id), data.error))
'''
