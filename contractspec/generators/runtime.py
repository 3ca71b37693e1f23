"""The generated application's own tables, written as a spec module.

An application with users (a workspace that uses the standard `identity` module) needs two
tables no spec declares: bearer tokens (stored hashed) and the transactional outbox of
events. They are declared below in the spec language and added to the program as the
module `runtime` (tables `runtime_api_token`, `runtime_outbox_event`), so the `db` target
maps them like any entity and the initial migration creates them. A program with `agent`s
also gets the runs of its agents (`AgentRun`, `AgentStep`) and their events (`run.started`,
`tool.called`, `run.completed`, `run.failed`), used by the `agents` target.
"""

from __future__ import annotations

from functools import cache

from contractspec.generators.memo import per_program
from contractspec.grammar.lower import lower_file
from contractspec.grammar.parser import parse_source
from contractspec.ir import nodes as ir
from contractspec.source import SourceFile

MODULE = "runtime"
IDENTITY = "identity"
TOKEN_ENTITY = "ApiToken"
OUTBOX_ENTITY = "OutboxEvent"

_SPEC = '''\
/// Tables of the generated application itself.
module runtime

use identity

/// A bearer token of one member of one organisation; only its SHA-256 is stored.
entity ApiToken {
  id: uuid @id
  org: ref identity.Org @tenant
  user: ref identity.User
  /// The SHA-256 of the token, hex-encoded.
  tokenHash: string(64) @unique @secret
  name: string(1..80)
  /// A platform operator's token: it acts with the `operator` role, not the member's role.
  platformOperator: bool = false
  createdAt: datetime @default(now) @immutable
  revokedAt: datetime?
}

/// An event written in the same transaction as the change that emitted it.
entity OutboxEvent {
  id: uuid @id
  org: ref identity.Org? @index
  /// The event's name and version, e.g. `deal.created` and `v1`.
  event: string(1..120)
  version: string(1..20)
  /// The whole event (envelope and payload) as JSON.
  body: json
  createdAt: datetime @default(now) @immutable @index
  dispatchedAt: datetime? @index
  attempts: int(0..) = 0
  lastError: text?
}
'''

_AGENTS_SPEC = '''
enum AgentRunStatus {
  running
  completed
  failed
}

enum AgentStepKind {
  tool_call
  log
  message
}

enum AgentStepStatus {
  succeeded
  refused
  failed
}

/// One run of an agent, on behalf of the member who started it; `steps`, `tokens` and
/// `cost` are its usage so far.
entity AgentRun {
  id: uuid @id
  org: ref identity.Org @tenant
  user: ref identity.User
  agent: string(1..120) @index
  status: AgentRunStatus = running @index
  input: json
  output: json?
  error: text?
  steps: int(0..) = 0
  tokens: int(0..) = 0
  cost: int(0..) = 0
  startedAt: datetime @default(now) @immutable
  finishedAt: datetime?
}

/// One step of a run: a tool call (executed or refused), a log line or a message.
entity AgentStep {
  id: uuid @id
  run: ref AgentRun
  position: int(0..)
  kind: AgentStepKind
  tool: string(1..120)?
  input: json?
  output: json?
  status: AgentStepStatus
  error: text?
  createdAt: datetime @default(now) @immutable
  @@unique(run, position)
}

event run.started v1 {
  payload {
    run: ref AgentRun
    agent: string
    user: ref identity.User
  }
}

event tool.called v1 {
  payload {
    run: ref AgentRun
    agent: string
    step: int
    tool: string
    status: AgentStepStatus
    error: text?
  }
}

event run.completed v1 {
  payload {
    run: ref AgentRun
    agent: string
    steps: int
  }
}

event run.failed v1 {
  payload {
    run: ref AgentRun
    agent: string
    error: text
  }
}
'''


@cache
def runtime_module(agents: bool = False) -> ir.Module:
    """The `runtime` module's IR (parsed once per process), with the agents' runs or not."""
    source = SourceFile("<runtime>", _SPEC + _AGENTS_SPEC * agents)
    lowered = lower_file(source, parse_source(source).chunks)
    assert lowered.header is not None and not lowered.diagnostics
    return ir.Module(name=MODULE, doc=lowered.header.doc, files=(source.path,), std=True,
                     headers=(lowered.header,),
                     **{key: tuple(decls) for key, decls in lowered.declarations.items()})


IDENTITY_NEEDS = ("User", "Org", "OrgMembership", "OrgRole")


def has_identity(program: ir.Program) -> bool:
    """Whether the program has users: an `identity` module with what authentication needs
    (the standard one, or one of the same shape)."""
    module = program.module(IDENTITY)
    if module is None:
        return False
    names = {d.name for d in (*module.entities, *module.enums)}
    return all(name in names for name in IDENTITY_NEEDS)


@per_program
def with_runtime(program: ir.Program) -> ir.Program:
    """The program plus the `runtime` module, when it uses `identity` (else unchanged)."""
    if not has_identity(program) or program.module(MODULE) is not None:
        return program
    agents = any(m.agents for m in program.modules)
    return program.model_copy(update={"modules": (*program.modules, runtime_module(agents))})
