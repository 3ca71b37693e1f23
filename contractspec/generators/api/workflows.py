"""Workflows as routes: one `POST /v1/<workflow>/<transition>` per transition.

The body names the record (`{"id": ...}`); the route answers 404 when the actor may not read
it, 403 when the transition's `by` refuses the actor, 409 (`transition_not_allowed`, with the
current state and the transitions open now) when the record's state is not a source of the
transition or its `when` is false; otherwise it sets the state, emits the transition's event,
records the transition in the audit trail and returns the record. A standard module's
transitions are served only where `SERVED_STD_TRANSITIONS` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

from contractspec.check.access import subject_parts
from contractspec.check.symbols import SymbolTable
from contractspec.generators.api.access import AccessModel, EntityAccess
from contractspec.generators.db.naming import kebab, member_name, pascal, snake
from contractspec.ir import nodes as ir

WORKFLOW_VERSION = "v1"
# The standard modules' transitions served as routes, (module, workflow, transition). The
# others are their generated services' business (an invitation is accepted by its
# operations, a job moved by the worker): a route would skip what those do besides.
SERVED_STD_TRANSITIONS = frozenset({
    ("learning", "EnrollmentFlow", "drop"),  # a learner leaves a track...
    ("learning", "EnrollmentFlow", "resume"),  # ...and comes back to it
})


@dataclass
class FlowTransition:
    name: str
    decl: ir.Transition
    sources: list[str]  # enum member names
    target: str
    function: str  # deal_flow_win: route function and operationId
    path: str
    event: tuple[str, ir.EventDecl] | None = None  # (module, event) it emits

    @property
    def guard(self) -> str:
        return f"{self.function}_by"

    @property
    def condition(self) -> str:
        return f"{self.function}_when"


@dataclass
class Flow:
    name: str
    module: str
    entity: EntityAccess
    state: ir.FieldDecl
    column: str  # the state column's attribute
    enum: str  # the state enum's class
    initial: str | None = None  # the enum member a new record starts in
    transitions: list[FlowTransition] = dataclass_field(default_factory=list)

    @property
    def allowed(self) -> str:
        return f"{snake(self.name)}_transitions"

    @property
    def input_model(self) -> str:
        return f"{pascal(self.name)}TransitionInput"


def build_flows(program: ir.Program, access: AccessModel, symbols: SymbolTable) -> list[Flow]:
    flows: list[Flow] = []
    for module in program.modules:
        for decl in module.workflows:
            served = [t for t in decl.transitions if not module.std
                      or (module.name, decl.name, t.name) in SERVED_STD_TRANSITIONS]
            if not served:
                continue
            entity_ref, field_ref = subject_parts(decl.subject)
            sym = symbols.lookup(module.name, entity_ref.name, "type",
                                 frozenset({"entity"})).symbol if entity_ref else None
            entity = access.of(sym) if sym is not None else None
            spec = entity.table.entity.field(field_ref.name) if entity and field_ref else None
            column = access.column(entity.table, spec) if entity and spec else None
            if entity is None or spec is None or column is None or column.enum is None:
                continue
            flow = Flow(decl.name, module.name, entity, spec, column.attr,
                        column.enum.class_name,
                        member_name(decl.initial.name) if decl.initial is not None else None)
            for t in served:
                function = f"{snake(decl.name)}_{snake(t.name)}"
                event = None
                if t.emits is not None:
                    found = symbols.event(module.name, t.emits).symbol
                    event = (found.module, found.decl) if found is not None else None
                flow.transitions.append(FlowTransition(
                    t.name, t, [member_name(s.name) for s in t.sources],
                    member_name(t.target.name), function,
                    f"/{WORKFLOW_VERSION}/{kebab(decl.name)}/{kebab(t.name)}", event))
            flows.append(flow)
    return sorted(flows, key=lambda f: (f.module, f.name))
