"""The catalog of change codes: what `cspec diff` reports, each with a stable code, a surface,
a level, and a before/after example (docs/evolution.md and the tests are built from them).

Codes are stable: CX1xx API, CX2xx database, CX3xx events, CX4xx policy, CX5xx workflows,
CX6xx money and meaning, CX7xx flags, CX8xx jobs. Never renumber one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    BREAKING = "breaking"
    DANGEROUS = "dangerous"
    SAFE = "safe"

    @property
    def rank(self) -> int:
        return {"breaking": 0, "dangerous": 1, "safe": 2}[self.value]


class Surface(StrEnum):
    API = "api"
    DATABASE = "database"
    EVENTS = "events"
    POLICY = "policy"
    WORKFLOWS = "workflows"
    MEANING = "meaning"
    FLAGS = "flags"
    JOBS = "jobs"


@dataclass(frozen=True)
class ChangeKind:
    code: str
    name: str
    surface: Surface
    level: Level
    summary: str  # one sentence: what changed and why it has this level
    before: str  # example declarations (after `module shop` / `use identity`)
    after: str
    reports: frozenset[str] = field(default_factory=frozenset)  # every code the example gives


KINDS: dict[str, ChangeKind] = {}

B, D, S = Level.BREAKING, Level.DANGEROUS, Level.SAFE

_ORDER = ("command order v1 {{\n  input {{\n{fields}  }}\n  policy authenticated\n}}\n")
_PRODUCT = ("entity Product {{\n  id: uuid @id\n  org: ref identity.Org @tenant\n{fields}}}\n")
_PRICE = ("query price v1 {{\n  output {output}\n  policy authenticated\n{errors}}}\n")
_PLACED = "event order.placed v1 {{\n  payload {{\n{fields}  }}\n}}\n"
_JOB = "job reindex {{\n{body}}}\n"


def _order(*fields: str) -> str:
    return _ORDER.format(fields="".join(f"    {f}\n" for f in fields))


def _product(*fields: str, head: str = "entity Product") -> str:
    text = _PRODUCT.format(fields="".join(f"  {f}\n" for f in fields))
    return text.replace("entity Product", head, 1)


def _price(output: str = "int", *errors: str) -> str:
    block = "  errors {\n" + "".join(f"    {e}\n" for e in errors) + "  }\n" if errors else ""
    return _PRICE.format(output=output, errors=block)


def _placed(*fields: str) -> str:
    return _PLACED.format(fields="".join(f"    {f}\n" for f in fields))


def _flow(values: str, *lines: str) -> str:
    enum = "enum Status {\n" + "".join(f"  {v}\n" for v in values.split()) + "}\n\n"
    flow = "".join(f"  {line}\n" for line in lines)
    return (enum + _product("status: Status = draft")
            + f"\nworkflow ProductFlow on Product.status {{\n  initial draft\n{flow}}}\n")


def _job(*lines: str) -> str:
    return _JOB.format(body="".join(f"  {line}\n" for line in lines))


def kind(code: str, name: str, surface: Surface, level: Level, summary: str, before: str,
         after: str, also: tuple[str, ...] = ()) -> None:
    KINDS[code] = ChangeKind(code, name, surface, level, summary, before, after,
                             frozenset({code, *also}))


A, DB, EV, PO, WF, ME, FL, JO = (Surface.API, Surface.DATABASE, Surface.EVENTS, Surface.POLICY,
                                 Surface.WORKFLOWS, Surface.MEANING, Surface.FLAGS, Surface.JOBS)

# ---- API ------------------------------------------------------------------------------------
kind("CX101", "operation-removed", A, B,
     "An operation version is gone: clients calling it get 404.", _price(), "")
kind("CX102", "operation-added", A, S, "A new operation version: nobody depends on it yet.",
     "", _price())
kind("CX103", "input-added-required", A, B,
     "A required input field was added: requests without it are rejected (422).",
     _order("sku: string"), _order("sku: string", "quantity: int"))
kind("CX104", "input-added-optional", A, S,
     "An optional input field (or one with a default) was added: old requests still fit.",
     _order("sku: string"), _order("sku: string", "note: string?"))
kind("CX105", "input-removed", A, B,
     "An input field was removed: inputs forbid unknown fields, so requests that still send "
     "it are rejected (422).", _order("sku: string", "note: string?"), _order("sku: string"))
kind("CX106", "input-made-required", A, B,
     "An optional input field became required: requests without it are rejected.",
     _order("note: string?"), _order("note: string"))
kind("CX107", "input-made-optional", A, S,
     "A required input field became optional: every old request still fits.",
     _order("note: string"), _order("note: string?"))
kind("CX108", "type-narrowed", A, B,
     "An input field accepts fewer values (a shorter length, a smaller range, a pattern "
     "added): some old requests are rejected.",
     _order("sku: string(1..80)"), _order("sku: string(1..20)"))
kind("CX109", "type-widened", A, S,
     "An input field accepts more values: every old request still fits.",
     _order("sku: string(1..20)"), _order("sku: string(1..80)"))
kind("CX110", "field-retyped", A, B,
     "An input field has another type: old requests no longer fit.",
     _order("quantity: int"), _order("quantity: string"))
kind("CX111", "output-changed", A, B,
     "An operation returns another type (or nothing): clients cannot read the response.",
     _price("int"), _price("string"))
kind("CX112", "output-field-removed", A, B,
     "A field of an entity or type that an operation returns was removed: clients reading "
     "it break.",
     _product("name: string", "sku: string") + "\n" + _price("Product"),
     _product("name: string") + "\n" + _price("Product"), also=("CX204",))
kind("CX113", "enum-value-removed", A, B,
     "An enum value was removed: clients sending it are rejected, and stored rows holding it "
     "no longer load (unless a workflow migrates that state, see CX503).",
     "enum Size {\n  small\n  large\n}\n", "enum Size {\n  small\n}\n")
kind("CX114", "enum-value-added", A, S,
     "An enum value was added: old clients never send it (clients matching every value "
     "should handle an unknown one).",
     "enum Size {\n  small\n}\n", "enum Size {\n  small\n  large\n}\n")
kind("CX115", "route-changed", A, B,
     "The HTTP method or path of an operation version changed: clients call the old route.",
     "query find v1 {\n  input {\n    tag: string?\n  }\n  policy authenticated\n}\n",
     "query find v1 {\n  input {\n    tag: string[]?\n  }\n  policy authenticated\n}\n",
     also=("CX110",))
kind("CX116", "error-removed", A, B,
     "An error of an operation was removed: clients handling it by name lose that case, and "
     "the condition now surfaces as another error.",
     _price("int", "Unavailable 409"), _price("int"))
kind("CX117", "error-status-changed", A, B,
     "An error answers with another HTTP status: clients branching on the status break.",
     _price("int", "Unavailable 409"), _price("int", "Unavailable 400"))
kind("CX118", "error-added", A, S,
     "An error was added to an operation: documented, and clients see an error status "
     "either way.", _price("int"), _price("int", "Unavailable 409"))
kind("CX119", "validation-changed", A, D,
     "A field's other attributes changed (`@immutable`, `@secret`, `@id`, `@tenant`, or "
     "`@pattern` where it does not narrow an input): check that data and clients still pass.",
     _product("sku: string"), _product("sku: string @immutable"))
kind("CX120", "operation-kind-changed", A, B,
     "A command became a query or the other way round: clients use another method.",
     "command ping v1 {\n  policy authenticated\n}\n",
     "query ping v1 {\n  policy authenticated\n}\n", also=("CX115",))
kind("CX121", "type-changed", A, B,
     "A `type` lost a field, retyped one, or gained or tightened a required one: types are "
     "both sent and returned, so some clients break.",
     "type Address {\n  city: string\n}\n", "type Address {\n  city: string\n  zip: string\n}\n")
kind("CX122", "type-extended", A, S, "A `type` gained an optional field.",
     "type Address {\n  city: string\n}\n",
     "type Address {\n  city: string\n  zip: string?\n}\n")
kind("CX123", "field-renamed", A, S,
     "A field of an input, payload, type or job was renamed with `@renamedFrom(old)`: the "
     "rename is intended, and the data is kept (not a removal and an addition).",
     _order("note: string?"), _order("comment: string? @renamedFrom(note)"))
kind("CX124", "enum-value-renamed", A, S,
     "An enum value was renamed with `@renamedFrom(old)`: stored rows are renamed with it.",
     "enum Size {\n  small\n  big\n}\n", "enum Size {\n  small\n  large @renamedFrom(big)\n}\n")

# ---- database -------------------------------------------------------------------------------
kind("CX201", "table-dropped", DB, B,
     "An entity was removed: its table and every row in it are dropped (destructive).",
     _product("name: string"), "")
kind("CX202", "table-added", DB, S, "A new entity: a new, empty table.",
     "", _product("name: string"))
kind("CX203", "table-renamed", DB, S,
     "An entity was renamed with `@@renamedFrom(Old)`: the table is renamed, rows are kept.",
     _product("name: string", head="entity Item"),
     _product("name: string", "@@renamedFrom(Item)"))
kind("CX204", "column-dropped", DB, B,
     "A field of an entity was removed: the column and its data are dropped (destructive).",
     _product("name: string", "sku: string"), _product("name: string"))
kind("CX205", "column-added", DB, S,
     "An optional field, or one with a default, was added: existing rows get null or the "
     "default.", _product("name: string"), _product("name: string", "sku: string?"))
kind("CX206", "column-added-required", DB, D,
     "A required field without a default was added: the migration fails on a table with "
     "rows unless they are backfilled (data-dependent).",
     _product("name: string"), _product("name: string", "sku: string"))
kind("CX207", "column-renamed", DB, S,
     "A field was renamed with `@renamedFrom(old)`: the column is renamed, data kept.",
     _product("name: string"), _product("title: string @renamedFrom(name)"))
kind("CX208", "column-retyped", DB, D,
     "A column's type changed or narrowed: converting existing rows may fail or lose data "
     "(data-dependent).",
     _product("name: string(1..200)"), _product("name: string(1..50)"))
kind("CX209", "column-widened", DB, S,
     "A column accepts more values (a longer length, a wider range): existing rows fit.",
     _product("name: string(1..50)"), _product("name: string(1..200)"))
kind("CX210", "column-made-required", DB, D,
     "A nullable column became required without a default: rows holding null must be "
     "backfilled first (data-dependent).",
     _product("name: string?"), _product("name: string"))
kind("CX211", "column-made-optional", DB, S, "A required column became nullable.",
     _product("name: string"), _product("name: string?"))
kind("CX212", "column-required-with-default", DB, S,
     "A nullable column became required with a default: null rows are backfilled with it.",
     _product("name: string?"), _product('name: string = "unnamed"'))
kind("CX213", "unique-added", DB, D,
     "A unique constraint was added (`@unique`, `@@unique`): the migration fails if "
     "existing rows hold duplicates (data-dependent).",
     _product("sku: string"), _product("sku: string @unique"))
kind("CX214", "index-changed", DB, S,
     "An index was added or removed, or a unique constraint removed: no data changes.",
     _product("sku: string"), _product("sku: string", "@@index(sku)"))

# ---- events ---------------------------------------------------------------------------------
kind("CX301", "event-removed", EV, B,
     "An event version is gone: consumers outside the specs (subscribers of the outbox) "
     "stop receiving it.", _placed("total: int"), "")
kind("CX302", "event-removed-while-listened", EV, B,
     "An event version is gone while a job, notification, metric, experiment or learning "
     "step listened to it: they silently stop working.",
     _placed("total: int") + "\n" + _job() + "\non order.placed run reindex\n",
     _job())
kind("CX303", "event-added", EV, S, "A new event version.", "", _placed("total: int"))
kind("CX304", "payload-field-removed", EV, B,
     "A payload field was removed: consumers reading it break.",
     _placed("total: int", "note: string?"), _placed("total: int"))
kind("CX305", "payload-field-retyped", EV, B,
     "A payload field has another type, or may now be missing (required to optional): "
     "consumers reading it break.", _placed("total: int"), _placed("total: string"))
kind("CX306", "payload-field-added", EV, S,
     "A payload field was added: consumers ignore what they do not read.",
     _placed("total: int"), _placed("total: int", "note: string?"))
kind("CX307", "payload-field-tightened", EV, S,
     "An optional payload field became required: consumers always get it now.",
     _placed("note: string?"), _placed("note: string"))

# ---- policy ---------------------------------------------------------------------------------
_PING = "query ping v1 {{\n  policy {policy}\n}}\n"
kind("CX401", "access-widened", PO, D,
     "A role gains access (a role or permission gains an operation, a policy rule or a "
     "transition): review that it should.",
     _PING.format(policy="admin"), _PING.format(policy="admin or member"))
kind("CX402", "access-narrowed", PO, B,
     "A role loses access it had: its users get 403 where they used to succeed.",
     _PING.format(policy="admin or member"), _PING.format(policy="admin"))
kind("CX403", "policy-removed", PO, D,
     "An operation is left without a policy: anybody can call it.",
     _PING.format(policy="admin"), "query ping v1 {\n}\n")
kind("CX404", "policy-rewritten", PO, S,
     "A policy expression was rewritten without changing who may do what.",
     _PING.format(policy="admin or owner"), _PING.format(policy="owner or admin"))

# ---- workflows ------------------------------------------------------------------------------
kind("CX501", "workflow-removed", WF, B,
     "A workflow is gone: its transition commands disappear.",
     _flow("draft live", "transition publish: draft -> live by admin", "final live"),
     _flow("draft live").split("\nworkflow")[0])
kind("CX502", "state-removed", WF, B,
     "A workflow state was removed while rows may be in it: add `migrate state old -> new`.",
     _flow("draft live archived", "transition publish: draft -> live by admin",
           "transition archive: live -> archived by admin", "final archived"),
     _flow("draft live", "transition publish: draft -> live by admin", "final live"),
     also=("CX113", "CX504"))
kind("CX503", "state-migrated", WF, S,
     "A workflow state was removed and `migrate state old -> new` moves its rows.",
     _flow("draft live archived", "transition publish: draft -> live by admin",
           "transition archive: live -> archived by admin", "final archived"),
     _flow("draft live archived", "transition publish: draft -> live by admin", "final live",
           "migrate state archived -> live"), also=("CX504",))
kind("CX504", "transition-removed", WF, B,
     "A transition was removed: its command disappears, and clients calling it break.",
     _flow("draft live", "transition publish: draft -> live by admin",
           "transition revert: live -> draft by admin", "final live"),
     _flow("draft live", "transition publish: draft -> live by admin", "final live"))
kind("CX505", "guard-changed", WF, D,
     "A transition's `when` guard changed: records that could move may no longer (or the "
     "other way round).",
     _flow("draft live", "transition publish: draft -> live by admin", "final live"),
     _flow("draft live", "transition publish: draft -> live by admin when self.status == draft",
           "final live"))
kind("CX506", "transition-rerouted", WF, D,
     "A transition goes from or to other states, or emits another event.",
     _flow("draft live gone", "transition publish: draft -> live by admin",
           "transition drop: draft -> gone by admin", "final live gone"),
     _flow("draft live gone", "transition publish: draft -> live by admin",
           "transition drop: draft, live -> gone by admin", "final gone"))
kind("CX507", "workflow-extended", WF, S, "A workflow, state or transition was added.",
     _flow("draft live", "transition publish: draft -> live by admin", "final live"),
     _flow("draft live", "transition publish: draft -> live by admin",
           "transition revert: live -> draft by admin", "final live"))

# ---- money and meaning ----------------------------------------------------------------------
kind("CX601", "scale-changed", ME, D,
     "A `money` or `decimal` field's precision or scale changed, or it became or stopped "
     "being money: amounts are rounded or reinterpreted; acknowledge it.",
     _product("price: decimal(12,2)"), _product("price: decimal(12,4)"))
kind("CX602", "aggregation-changed", ME, D,
     "A metric's aggregation, unit, period or source changed: its history no longer adds up "
     "with new values, and plan limits on it mean something else.",
     "metric calls {\n  unit call\n  aggregate sum monthly\n}\n",
     "metric calls {\n  unit call\n  aggregate max monthly\n}\n")
kind("CX603", "formula-changed", ME, D,
     "A default value or formula changed: new records get another value than before, old "
     "ones keep theirs.",
     _product("discount: int = 0"), _product("discount: int = 5"))
kind("CX604", "metric-removed", ME, D,
     "A metric is gone: its recorded usage is no longer read, and plan limits lose it.",
     "metric calls {\n  unit call\n  aggregate sum monthly\n}\n",
     "")

# ---- flags ----------------------------------------------------------------------------------
_FLAG = "flag beta {{\n  default {state}\n}}\n"
kind("CX701", "flag-removed-while-used", FL, B,
     "A flag is gone while an operation or plan used it: what it gated is now always on, or "
     "the plan silently lost a feature.",
     _FLAG.format(state="off") + "\nquery ping v1 {\n  policy admin\n"
     "  behind beta\n}\n", "query ping v1 {\n  policy admin\n}\n")
kind("CX702", "flag-removed", FL, D,
     "A flag is gone: clients that evaluate it by name get nothing.",
     _FLAG.format(state="off"), "")
kind("CX703", "flag-default-changed", FL, D,
     "A flag's default changed: everybody outside its targets and rollout switches.",
     _FLAG.format(state="off"), _FLAG.format(state="on"))
kind("CX704", "flag-targeting-changed", FL, S, "A flag's rollout or targets changed.",
     _FLAG.format(state="off"),
     "flag beta {\n  default off\n  rollout 10% by org\n}\n")

# ---- jobs -----------------------------------------------------------------------------------
kind("CX801", "job-retries-changed", JO, D,
     "A job's retries or backoff changed: failures are retried differently.",
     _job("retries 5"), _job("retries 1"))
kind("CX802", "job-timeout-changed", JO, D,
     "A job's timeout changed: runs that used to finish may be cut off (or hang longer).",
     _job("timeout 10m"), _job("timeout 1m"))
kind("CX803", "job-removed", JO, D,
     "A job is gone: runs already queued for it can no longer run.",
     _job("timeout 10m"), "")
kind("CX804", "job-input-changed", JO, B,
     "A job's input lost or retyped a field, or gained a required one: runs queued with the "
     "old input fail.",
     _job("input {", "  full: bool?", "}"),
     _job("input {", "  full: bool", "}"))
kind("CX805", "job-input-extended", JO, S,
     "A job's input gained an optional field, or a field accepts more values.",
     _job("input {", "  full: bool?", "}"),
     _job("input {", "  full: bool?", "  since: date?", "}"))
