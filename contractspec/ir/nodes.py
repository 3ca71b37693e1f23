"""The IR: frozen pydantic models for every construct of the language.

The IR is the contract between the front half (parser, checker) and the back half
(generators, change analysis). Every node keeps its source span. References are kept as
written (`NameRef`), with their own spans; resolution lives in `contractspec.check.symbols`.
docs/ir.md documents each node; docs/ir.schema.json is the published JSON Schema.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contractspec.source import Span

IR_VERSION = "1.0"


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    span: Span


class NameRef(Node):
    """A reference as written: `Deal`, `identity.User`, `manage_deals`, `self.owner`."""

    name: str


class Duration(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    seconds: float


class Size(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    bytes: int


# ---- expressions ------------------------------------------------------------------------

LiteralType = Literal["string", "int", "decimal", "bool", "null", "duration", "size", "percent"]


class LiteralExpr(Node):
    kind: Literal["literal"] = "literal"
    type: LiteralType
    text: str  # as written
    value: str | int | float | bool | None


class PathExpr(Node):
    """`admin`, `self.amount`, `actor`, `now`: meaning comes from the context."""

    kind: Literal["path"] = "path"
    parts: tuple[str, ...]


class CallExpr(Node):
    kind: Literal["call"] = "call"
    name: str
    args: tuple[Expr, ...] = ()


class UnaryExpr(Node):
    kind: Literal["unary"] = "unary"
    op: Literal["not", "-", "+"]
    operand: Expr


class BinaryExpr(Node):
    kind: Literal["binary"] = "binary"
    op: Literal["or", "and", "==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/"]
    left: Expr
    right: Expr


class ListExpr(Node):
    kind: Literal["list"] = "list"
    items: tuple[Expr, ...] = ()


Expr = Annotated[
    LiteralExpr | PathExpr | CallExpr | UnaryExpr | BinaryExpr | ListExpr,
    Field(discriminator="kind"),
]


# ---- types and fields -------------------------------------------------------------------


class TypeArg(BaseModel):
    """One argument of a scalar: `80` in `string(80)`, `1..80` in `string(1..80)`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: str | None = None
    min: str | None = None
    max: str | None = None
    is_range: bool = False


class TypeRef(Node):
    """A type as written: `string(1..80)`, `ref Stage?`, `page<Deal>`, `Address[]`."""

    name: str
    is_ref: bool = False
    args: tuple[TypeArg, ...] = ()
    generics: tuple[TypeRef, ...] = ()
    optional: bool = False
    is_list: bool = False


class Attribute(Node):
    """`@pii`, `@default(now)`, `@@index(org, stage)`."""

    name: str
    args: tuple[Expr, ...] = ()


class Declaration(Node):
    """Something with a name, a doc comment and the span of the name itself."""

    name: str
    name_span: Span
    doc: str | None = None


class FieldDecl(Declaration):
    type: TypeRef
    default: Expr | None = None
    attributes: tuple[Attribute, ...] = ()

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)


class EnumValue(Declaration):
    attributes: tuple[Attribute, ...] = ()


class EnumDecl(Declaration):
    values: tuple[EnumValue, ...] = ()


class TypeDecl(Declaration):
    fields: tuple[FieldDecl, ...] = ()


class EntityDecl(Declaration):
    fields: tuple[FieldDecl, ...] = ()
    constraints: tuple[Attribute, ...] = ()

    def field(self, name: str) -> FieldDecl | None:
        return next((f for f in self.fields if f.name == name), None)


# ---- roles, permissions, policies -------------------------------------------------------


class PermissionDecl(Declaration):
    description: str | None = None


class RoleDecl(Declaration):
    description: str | None = None


class GrantDecl(Node):
    doc: str | None = None
    roles: tuple[NameRef, ...]
    permissions: tuple[NameRef, ...]


class PolicyRule(Node):
    doc: str | None = None
    action: NameRef
    rule: Expr


class PolicyDecl(Node):
    doc: str | None = None
    entity: NameRef
    rules: tuple[PolicyRule, ...] = ()


# ---- operations and events --------------------------------------------------------------


class EventRef(Node):
    name: str
    version: str | None = None


class ErrorDecl(Declaration):
    status: int | None = None
    message: str | None = None


class OperationDecl(Declaration):
    kind: Literal["command", "query"]
    version: str | None = None
    input: tuple[FieldDecl, ...] = ()
    output: TypeRef | None = None
    policy: Expr | None = None
    emits: tuple[EventRef, ...] = ()
    errors: tuple[ErrorDecl, ...] = ()
    meters: tuple[NameRef, ...] = ()
    behind: NameRef | None = None


class EventDecl(Declaration):
    version: str | None = None
    payload: tuple[FieldDecl, ...] = ()
    severity: NameRef | None = None
    retention: Duration | None = None
    audit: bool = False


# ---- workflows --------------------------------------------------------------------------


class Transition(Declaration):
    sources: tuple[NameRef, ...]
    target: NameRef
    by: Expr | None = None
    when: Expr | None = None
    emits: EventRef | None = None


class StateMigration(Node):
    source: NameRef
    target: NameRef


class WorkflowDecl(Declaration):
    subject: NameRef  # `Deal.status`
    initial: NameRef | None = None
    transitions: tuple[Transition, ...] = ()
    finals: tuple[NameRef, ...] = ()
    migrations: tuple[StateMigration, ...] = ()


# ---- jobs, triggers, schedules ----------------------------------------------------------


class Backoff(Node):
    strategy: str
    args: tuple[Expr, ...] = ()


class JobDecl(Declaration):
    input: tuple[FieldDecl, ...] = ()
    retries: int | None = None
    backoff: Backoff | None = None
    timeout: Duration | None = None


class TriggerDecl(Node):
    """`on task.due run sendReminder`."""

    doc: str | None = None
    event: EventRef
    job: NameRef


class ScheduleDecl(Declaration):
    cron: str | None = None
    every: Duration | None = None
    job: NameRef


# ---- notifications ----------------------------------------------------------------------


class Recipient(Node):
    kind: Literal["role", "path"]
    name: str


class NotificationDecl(Declaration):
    on: EventRef | None = None
    recipients: tuple[Recipient, ...] = ()
    channels: tuple[NameRef, ...] = ()
    subject: str | None = None
    template: str | None = None
    template_span: Span | None = None


# ---- flags and experiments --------------------------------------------------------------


class Rollout(Node):
    percent: float
    by: NameRef


class FlagTarget(Node):
    dimension: NameRef  # plan, org, user, segment
    values: tuple[NameRef, ...]


class FlagDecl(Declaration):
    description: str | None = None
    default: bool | None = None
    rollout: Rollout | None = None
    targets: tuple[FlagTarget, ...] = ()


class Variant(Node):
    name: str
    percent: float


class ExperimentDecl(Declaration):
    description: str | None = None
    variants: tuple[Variant, ...] = ()
    metric: EventRef | None = None


class CriticalDecl(Node):
    doc: str | None = None
    operations: tuple[NameRef, ...]


# ---- files ------------------------------------------------------------------------------


class AttachmentRule(Node):
    action: NameRef  # upload, view, delete
    rule: Expr


class AttachmentsDecl(Node):
    doc: str | None = None
    entity: NameRef
    kinds: tuple[str, ...] = ()
    max_size: Size | None = None
    rules: tuple[AttachmentRule, ...] = ()
    retention: Duration | None = None


# ---- metering ---------------------------------------------------------------------------


class MetricDecl(Declaration):
    description: str | None = None
    unit: NameRef | None = None
    aggregate: NameRef | None = None
    period: NameRef | None = None
    source: EventRef | None = None


class PlanLimit(Node):
    metric: NameRef
    amount: int
    period: NameRef


class PlanDecl(Declaration):
    description: str | None = None
    limits: tuple[PlanLimit, ...] = ()
    flags: tuple[NameRef, ...] = ()


# ---- learning journeys ------------------------------------------------------------------


class StepDecl(Declaration):
    title: str | None = None
    completes_on: EventRef | None = None
    when: Expr | None = None
    content: str | None = None


class UnitDecl(Declaration):
    title: str | None = None
    steps: tuple[StepDecl, ...] = ()


class TrackDecl(Declaration):
    title: str | None = None
    units: tuple[UnitDecl, ...] = ()


# ---- views and agents -------------------------------------------------------------------


class ViewDecl(Declaration):
    kind: Literal["list", "board", "form", "detail"]
    entity: NameRef
    group_by: NameRef | None = None
    columns: tuple[NameRef, ...] = ()
    filters: tuple[NameRef, ...] = ()
    search: tuple[NameRef, ...] = ()
    card: tuple[NameRef, ...] = ()
    fields: tuple[NameRef, ...] = ()
    actions: tuple[NameRef, ...] = ()


class AgentLimit(Node):
    name: str
    value: int | None = None
    duration: Duration | None = None


class AgentDecl(Declaration):
    description: str | None = None
    model: str | None = None
    tools: tuple[NameRef, ...] = ()
    policy: Expr | None = None
    limits: tuple[AgentLimit, ...] = ()
    instructions: str | None = None


# ---- modules ----------------------------------------------------------------------------


class UseDecl(Node):
    doc: str | None = None
    module: NameRef
    path: str | None = None


class ModuleHeader(Node):
    doc: str | None = None
    name: str
    name_span: Span
    version: str | None = None


class Module(BaseModel):
    """All declarations of one module, gathered from every file that names it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: str | None = None
    doc: str | None = None
    files: tuple[str, ...] = ()
    std: bool = False
    headers: tuple[ModuleHeader, ...] = ()
    uses: tuple[UseDecl, ...] = ()
    enums: tuple[EnumDecl, ...] = ()
    types: tuple[TypeDecl, ...] = ()
    entities: tuple[EntityDecl, ...] = ()
    permissions: tuple[PermissionDecl, ...] = ()
    roles: tuple[RoleDecl, ...] = ()
    grants: tuple[GrantDecl, ...] = ()
    policies: tuple[PolicyDecl, ...] = ()
    operations: tuple[OperationDecl, ...] = ()
    events: tuple[EventDecl, ...] = ()
    workflows: tuple[WorkflowDecl, ...] = ()
    jobs: tuple[JobDecl, ...] = ()
    triggers: tuple[TriggerDecl, ...] = ()
    schedules: tuple[ScheduleDecl, ...] = ()
    notifications: tuple[NotificationDecl, ...] = ()
    flags: tuple[FlagDecl, ...] = ()
    experiments: tuple[ExperimentDecl, ...] = ()
    criticals: tuple[CriticalDecl, ...] = ()
    attachments: tuple[AttachmentsDecl, ...] = ()
    metrics: tuple[MetricDecl, ...] = ()
    plans: tuple[PlanDecl, ...] = ()
    tracks: tuple[TrackDecl, ...] = ()
    views: tuple[ViewDecl, ...] = ()
    agents: tuple[AgentDecl, ...] = ()


class Program(BaseModel):
    """A checked workspace: every module, the standard-library ones it uses included."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ir_version: str = IR_VERSION
    modules: tuple[Module, ...] = ()

    def module(self, name: str) -> Module | None:
        return next((m for m in self.modules if m.name == name), None)


for _model in (CallExpr, UnaryExpr, BinaryExpr, ListExpr, TypeRef):
    _model.model_rebuild()
