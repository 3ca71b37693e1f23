"""Hypothesis strategies for valid specs, built from the grammar's constructs.

`valid_specs()` draws a whole module that is meant to pass `cspec check` with no error: the
names it declares are the names it uses (fields of the right kinds in workflows, views and
notifications, payload fields in templates, permissions granted and checked, jobs run by
triggers or schedules...). Names come from pools that include words the language or the
generated Python and SQL treat specially (`status`, `by`, `input`, `order`, `class`...).
Layout varies: whitespace, blank lines, `///` docs and `//` comments.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import TypeVar

from hypothesis import strategies as st

FIELD_WORDS = ["title", "amount", "status", "by", "input", "view", "on", "to", "from", "type",
               "order", "group", "select", "count", "limit", "value", "data", "note", "label",
               "class", "def", "import", "lambda", "pass", "global", "kind", "score", "start",
               "end", "key", "level", "state", "table", "index"]
ENTITY_WORDS = ["Deal", "Task", "Order", "Group", "Select", "Item", "Note", "Stage", "Ticket",
                "Invoice", "Table", "Index", "Record", "Event", "Query"]
VALUE_WORDS = ["open", "won", "lost", "draft", "done", "active", "archived", "pending", "new",
               "class", "none", "true_", "null_", "select", "order", "by", "on"]
SCALARS = ["string", "string(1..80)", "string(200)", "text", "int", "int(0..)", "int(-5..5)",
           "bigint", "decimal(12, 2)", "decimal(5, 2, 0..)", "money", "money(0..10000)", "bool",
           "date", "datetime", "duration", "uuid", "email", "url", "json"]
_DEFAULTS = {"bool": ["true", "false"], "int": ["0", "7", "-1"], "int(0..)": ["0", "3"],
             "string": ['"x"', '""', '"quote \\" and {{ braces }}"', '"ünï©ødé 🎉"'],
             "string(1..80)": ['"x"'], "text": ['"long text"'], "money": ["0", "12.50"],
             "datetime": ["now"]}
ROLES = ["owner", "admin", "member"]
T = TypeVar("T")
# The standard module behind each construct that needs one (CS523), by the lines it starts.
_STD_NEEDS = [("jobs", r"^(job|on|schedule) "), ("notifications", r"^notification "),
              ("flags", r"^(flag|experiment) "), ("files", r"^attachments "),
              ("metering", r"^(metric|plan) "), ("learning", r"^track "), ("audit", r"^  audit$")]


def _words(draw: st.DrawFn, pool: list[str], low: int, high: int) -> list[str]:
    return draw(st.lists(st.sampled_from(pool), min_size=low, max_size=high, unique=True))


@dataclass
class Field:
    name: str
    kind: str  # "scalar", "enum", "ref", "user"
    type: str
    line: str


@dataclass
class Entity:
    name: str
    fields: list[Field] = field(default_factory=list)
    tenant: bool = True

    def of(self, *kinds: str) -> list[Field]:
        return [f for f in self.fields if f.kind in kinds]


@dataclass
class Event:
    name: str
    fields: list[Field]


def _buildable(event: Event, entity: Entity) -> bool:
    """Whether a transition of `entity` can emit `event`: its payload is the record, the
    actor, or fields named like the entity's (the api target builds it from the record)."""
    names = {f.name for f in entity.fields}
    return all(f.kind == "user" or (f.kind == "ref" and f.type == entity.name)
               or f.name in names or f.line.split(":")[1].split()[0].endswith("?")
               for f in event.fields)


class _Builder:
    """Draws one module; `parts` are its declarations in order."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.parts: list[str] = []
        self.enums: dict[str, list[str]] = {}
        self.types: list[str] = []
        self.entities: list[Entity] = []
        self.permissions: list[str] = []
        self.events: list[Event] = []
        self.operations: list[str] = []
        self.flags: list[str] = []
        self.metrics: list[str] = []
        self.jobs: dict[str, list[Field]] = {}
        self.plans: list[str] = []
        self.roles = list(ROLES)

    def choose(self, pool: list[T]) -> T:
        return self.draw(st.sampled_from(pool))

    def coin(self) -> bool:
        return self.draw(st.booleans())

    def maybe(self, text: str) -> str:
        return text if self.coin() else ""

    def doc(self) -> str:
        return self.draw(st.sampled_from(["", "", "/// A doc comment.\n",
                                          "/// Two lines\n/// of docs ünï©ødé.\n",
                                          "// a plain comment\n"]))

    def add(self, text: str) -> None:
        self.parts.append(self.doc() + text)

    def std_modules(self) -> list[str]:
        """The standard modules to use: identity, and those behind the constructs drawn
        (CS523), and maybe audit anyway."""
        text = "\n".join(self.parts)
        needed = {"identity"} | ({"audit"} if self.coin() else set())
        needed |= {module for module, pattern in _STD_NEEDS if re.search(pattern, text, re.M)}
        return sorted(needed)

    # ---- data ---------------------------------------------------------------------------
    def enum(self, k: int) -> None:
        values = _words(self.draw, VALUE_WORDS, 2, 5)
        name = f"Kind{k}"
        self.enums[name] = values
        labelled = [v + self.maybe(f' @label("{v.title()}")') for v in values]
        separator = self.choose([" ", "\n  "])
        self.add(f"enum {name} {{\n  {separator.join(labelled)}\n}}")

    def scalar_field(self, name: str, optional: bool, stored: bool = False) -> Field:
        scalar = self.choose(SCALARS)
        attributes = []
        if scalar.startswith("string") and self.coin():
            attributes.append('@pattern("^[a-z]+$")')
        if self.coin():
            attributes.append(self.choose(['@label("A label")', "@pii"]
                                          + (["@immutable"] if stored else [])))
        default = ""
        if scalar in _DEFAULTS and not optional and self.coin():
            value = self.choose(_DEFAULTS[scalar])
            if value == "now":
                attributes.append("@default(now)")
            else:
                default = f" = {value}"
        suffix = "?" if optional else ""
        line = f"{name}: {scalar}{suffix}{default} {' '.join(attributes)}".rstrip()
        return Field(name, "scalar", scalar, line)

    def value_type(self, k: int) -> None:
        names = _words(self.draw, FIELD_WORDS, 1, 4)
        lines = [self.scalar_field(n, self.coin()).line for n in names]
        name = f"Shape{k}"
        self.types.append(name)
        self.add(f"type {name} {{\n" + "".join(f"  {line}\n" for line in lines) + "}")

    def entity(self, name: str) -> None:
        entity = Entity(name)
        entity.fields.append(Field("id", "scalar", "uuid", "id: uuid @id"))
        entity.fields.append(Field("org", "tenant", "ref identity.Org",
                                   "org: ref identity.Org @tenant"))
        for word in _words(self.draw, FIELD_WORDS, 1, 6):
            kind = self.choose(["scalar", "scalar", "enum", "ref", "user", "shape"])
            optional = self.coin()
            suffix = "?" if optional else ""
            if kind == "enum" and self.enums:
                enum = self.choose(sorted(self.enums))
                default = f" = {self.enums[enum][0]}" if not optional else ""
                entity.fields.append(Field(word, "enum", enum, f"{word}: {enum}{suffix}{default}"))
            elif kind == "ref" and self.entities:
                target = self.choose([e.name for e in self.entities])
                entity.fields.append(Field(word, "ref", target, f"{word}: ref {target}{suffix}"))
            elif kind == "user":
                entity.fields.append(Field(word, "user", "ref identity.User",
                                           f"{word}: ref identity.User{suffix}"))
            elif kind == "shape" and self.types:
                shape = self.choose(self.types)
                entity.fields.append(Field(word, "shape", shape, f"{word}: {shape}{suffix}"))
            else:
                entity.fields.append(self.scalar_field(word, optional, stored=True))
        lines = [f.line for f in entity.fields]
        indexed = [f.name for f in entity.fields[1:] if f.kind != "shape"]
        if self.coin():
            lines.append(f"@@index({', '.join(indexed[:2])})")
        if len(indexed) > 1 and self.coin():
            lines.append(f"@@unique({', '.join(indexed[:2])})")
        self.entities.append(entity)
        self.add(f"entity {name} {{\n" + "".join(f"  {line}\n" for line in lines) + "}")

    # ---- access ---------------------------------------------------------------------------
    def access(self, entity: Entity | None, depth: int = 2) -> str:
        """An access expression: permissions, roles, `self.<user field> == actor`."""
        users = entity.of("user") if entity is not None else []
        atoms = self.permissions + self.roles + [f"self.{f.name} == actor" for f in users]
        kind = self.choose(["atom", "atom", "and", "or", "not", "paren"] if depth else ["atom"])
        if kind == "atom":
            return self.choose(atoms)
        if kind == "not":
            return f"not {self.choose(self.permissions + self.roles)}"
        if kind == "paren":
            return f"({self.access(entity, depth - 1)})"
        return f"{self.access(entity, depth - 1)} {kind} {self.access(entity, depth - 1)}"

    def permissions_and_grants(self) -> None:
        self.permissions = [f"perm_{w}" for w in _words(self.draw, FIELD_WORDS, 1, 4)]
        if self.coin():
            self.roles.append("reviewer")
            self.add('role reviewer "Reviews things"')
        for permission in self.permissions:
            self.add(f"permission {permission}" + self.maybe(' "What it allows"'))
        for permission in self.permissions:
            roles = _words(self.draw, self.roles, 1, 3)
            self.add(f"grant {', '.join(roles)}: {permission}")
        for entity in self.entities:
            actions = _words(self.draw, ["read", "create", "update", "delete"], 1, 4)
            rules = "".join(f"  {a}: {self.access(entity)}\n" for a in sorted(
                actions, key=["read", "create", "update", "delete"].index))
            self.add(f"policy {entity.name} {{\n{rules}}}")
        # every permission is checked somewhere
        self.add(f"query checkAll v1 {{\n  policy {' and '.join(self.permissions)}\n}}")

    # ---- events and operations ------------------------------------------------------------
    def event(self, k: int) -> None:
        entity = self.choose([e.name for e in self.entities])
        fields = [Field("record", "ref", entity, f"record: ref {entity}")]
        for word in _words(self.draw, FIELD_WORDS, 0, 3):
            if self.coin():
                fields.append(Field(word, "user", "ref identity.User",
                                    f"{word}: ref identity.User"))
            else:
                fields.append(self.scalar_field(word, self.coin()))
        name = f"thing{k}.{self.choose(['created', 'changed', 'gone'])}"
        members = ["payload {\n" + "".join(f"    {f.line}\n" for f in fields) + "  }"]
        members.append("retention " + self.choose(["30d", "365d", "7y"]))
        if self.coin():
            members.append("severity " + self.choose(["info", "warning", "critical"]))
        if self.coin():
            members.append("audit")
        self.events.append(Event(name, fields))
        self.add(f"event {name} v1 {{\n" + "".join(f"  {m}\n" for m in members) + "}")

    def operation(self, k: int) -> None:
        kind = self.choose(["command", "query"])
        name = f"{kind}{k}"
        members = []
        inputs = []
        for word in _words(self.draw, FIELD_WORDS, 0, 3):
            if self.entities and self.coin():
                target = self.choose([e.name for e in self.entities])
                inputs.append(f"{word}: ref {target}" + self.maybe("?"))
            else:
                inputs.append(self.scalar_field(word, self.coin()).line)
        if inputs or self.coin():
            members.append("input {\n" + "".join(f"    {line}\n" for line in inputs) + "  }")
        if self.coin():
            target = self.choose([e.name for e in self.entities] + self.types)
            members.append("output " + (f"page<{target}>" if kind == "query" and self.maybe("p")
                                        else target))
        members.append(f"policy {self.access(None)}")
        if kind == "command" and self.events:
            emitted = _words(self.draw, [e.name for e in self.events], 1, 2)
            members.append("emits " + ", ".join(f"{e} v1" for e in emitted))
        if self.coin():
            members.append("errors {\n    NotFound 404\n    Clash 409 \"It clashes\"\n  }")
        if self.metrics and self.coin():
            members.append(f"meters {self.choose(self.metrics)}")
        if self.flags and self.coin():
            members.append(f"behind {self.choose(self.flags)}")
        else:
            self.operations.append(name)
        self.add(f"{kind} {name} v1 {{\n" + "".join(f"  {m}\n" for m in members) + "}")

    def emit_all(self) -> None:
        """A command emitting every event (no event is left unemitted)."""
        if self.events:
            emitted = ", ".join(f"{e.name} v1" for e in self.events)
            self.add(f"command emitAll v1 {{\n  policy {self.choose(self.permissions)}\n"
                     f"  emits {emitted}\n}}")

    # ---- workflows --------------------------------------------------------------------------
    def workflow(self, entity: Entity, subject: Field) -> None:
        states = self.enums[subject.type]
        lines = [f"initial {states[0]}"]
        for k, (source, target) in enumerate(itertools.pairwise(states)):
            clauses = f" by {self.access(entity, 1)}"
            numbers = [f for f in entity.of("scalar") if f.type.startswith(("int", "money"))]
            if numbers and self.coin():
                clauses += f" when self.{self.choose([f.name for f in numbers])} > 0"
            emittable = [e.name for e in self.events if _buildable(e, entity)]
            if emittable and self.coin():
                clauses += f" emits {self.choose(emittable)} v1"
            extra = f", {states[0]}" if k > 0 and self.coin() else ""
            lines.append(f"transition step{k}: {source}{extra} -> {target}{clauses}")
        lines.append(f"final {states[-1]}")
        self.add(f"workflow Flow{entity.name} on {entity.name}.{subject.name} {{\n"
                 + "".join(f"  {line}\n" for line in lines) + "}")

    # ---- jobs, notifications, flags, metering ------------------------------------------------
    def jobs_and_triggers(self) -> None:
        for k, event in enumerate(self.events):
            if not self.coin():
                continue
            provided = [f for f in event.fields if self.coin()]
            inputs = "".join(f"    {f.line}\n" for f in provided)
            members = [f"input {{\n{inputs}  }}"] if provided else []
            members.append(f"retries {self.draw(st.integers(0, 100))}")
            members.append("backoff " + self.choose(["exponential(30s, 1h)", "fixed(10s)",
                                                     "linear(5s, 1m)"]))
            members.append("timeout " + self.choose(["2m", "30s", "1h"]))
            self.add(f"job react{k} {{\n" + "".join(f"  {m}\n" for m in members) + "}")
            self.add(f"on {event.name} v1 run react{k}")
        if self.coin():
            self.add("job nightly {\n  timeout 10m\n}")
            when = self.choose(['cron "0 3 * * *"', 'cron "*/5 * * * 1-5"', "every 1h",
                                "every 15m"])
            self.add(f"schedule nightlyRun {when} run nightly")

    def notification(self, k: int, event: Event) -> None:
        users = [f.name for f in event.fields if f.kind == "user"]
        recipients = [*users[:1], *(["role " + self.choose(self.roles)] if not users or
                                    self.coin() else [])]
        scalars = [f.name for f in event.fields if f.kind == "scalar"]
        template = " ".join(["Changed:", *[f"{{{{ {n} }}}}" for n in scalars[:2]]])
        lines = [f"on {event.name} v1", f"to {', '.join(recipients)}",
                 "via " + ", ".join(_words(self.draw, ["email", "in_app", "webhook"], 1, 3))]
        if self.coin():
            lines.append('subject "Something happened"')
        lines.append(self.choose([f'template "{template}"',
                                  f'template """\n    {template}\n  """']))
        self.add(f"notification notify{k} {{\n" + "".join(f"  {x}\n" for x in lines) + "}")

    def flags_and_plans(self) -> None:
        self.flags = [f"flag{k}" for k in range(self.draw(st.integers(0, 2)))]
        self.plans = [f"plan{k}" for k in range(self.draw(st.integers(0, 2)))]
        for name in self.flags:
            lines = ["default " + self.choose(["on", "off"])]
            if self.coin():
                lines.append(f"rollout {self.draw(st.integers(0, 100))}% by "
                             + self.choose(["org", "user"]))
            if self.plans and self.coin():
                lines.append(f"target plan {', '.join(self.plans)}")
            self.add(f"flag {name}" + self.maybe(' "A flag"') + " {\n"
                     + "".join(f"  {x}\n" for x in lines) + "}")
        self.metrics = [f"usage{k}" for k in range(self.draw(st.integers(0, 2)))]
        for name in self.metrics:
            lines = ["unit call", "aggregate " + self.choose(["sum", "count", "max"]) + " "
                     + self.choose(["hourly", "daily", "monthly"])]
            self.add(f"metric {name} {{\n" + "".join(f"  {x}\n" for x in lines) + "}")
        for name in self.plans:
            lines = [f"limit {m} {self.draw(st.integers(1, 10**6))}/"
                     + self.choose(["day", "month", "year"]) for m in self.metrics]
            if self.flags:
                lines.append(f"flags {', '.join(self.flags)}")
            self.add(f"plan {name} {{\n" + "".join(f"  {x}\n" for x in lines) + "}")

    def extras(self) -> None:
        """Experiments, critical operations, attachments, tracks, views and agents."""
        if self.events and self.coin():
            share = self.draw(st.integers(1, 99))
            self.add(f"experiment trial {{\n  variants a {share}%, b {100 - share}%\n"
                     f"  metric {self.events[0].name} v1\n}}")
        if self.operations and self.coin():
            self.add(f"critical {', '.join(self.operations[:2])}")
        entity = self.choose([e.name for e in self.entities])
        if self.coin():
            self.add(f'attachments on {entity} {{\n  kinds "application/pdf", "image/*"\n'
                     f"  max 10MB\n  upload: {self.choose(self.permissions)}\n"
                     f"  view: {self.access(None, 1)}\n  retention 7y\n}}")
        if self.events and self.coin():
            event = self.choose(self.events)
            self.add(f'track learn "Learn" {{\n  unit first "First" {{\n'
                     f'    step one "One" {{\n      completes on {event.name} v1\n'
                     f'      content """\n        Do it.\n      """\n    }}\n  }}\n}}')
        for k, record in enumerate(self.entities):
            if not self.coin():
                continue
            names = [f.name for f in record.fields[2:] if f.kind in ("scalar", "enum", "ref")]
            if not names:
                continue
            kind = self.choose(["list", "form", "detail"])
            option = {"list": "columns", "form": "fields", "detail": "fields"}[kind]
            self.add(f"view screen{k} {kind} of {record.name} {{\n"
                     f"  {option} {', '.join(names[:3])}\n}}")
            if kind == "form":  # a form calls the entity's create operation (CS524)
                self.add(f"command create{record.name} v1 {{\n  output {record.name}\n"
                         f"  policy {self.choose(self.permissions)}\n}}")
        if self.operations and self.coin():
            self.add(f'agent helper "Helps" {{\n  model "provider/model"\n'
                     f"  tools {', '.join(self.operations[:2])}\n"
                     f"  policy {self.choose(self.permissions)}\n"
                     f"  limits {{\n    steps 10\n    time 30s\n  }}\n}}")


@st.composite
def valid_specs(draw: st.DrawFn) -> str:
    """A whole module meant to pass `cspec check` with no error."""
    build = _Builder(draw)
    header = "module generated" + build.maybe(" version 1.2.3")
    build.parts.append(build.doc() + header)
    build.parts.append("")  # the `use` lines, once the constructs that need them are known
    for k in range(draw(st.integers(0, 3))):
        build.enum(k)
    for k in range(draw(st.integers(0, 2))):
        build.value_type(k)
    for name in _words(draw, ENTITY_WORDS, 1, 4):
        build.entity(name)
    build.permissions_and_grants()
    build.flags_and_plans()
    for k in range(draw(st.integers(0, 3))):
        build.event(k)
    for k in range(draw(st.integers(0, 4))):
        build.operation(k)
    build.emit_all()
    for entity in build.entities:
        subjects = [f for f in entity.of("enum") if "=" in f.line]
        if subjects and build.coin():
            build.workflow(entity, subjects[0])
    build.jobs_and_triggers()
    for k, event in enumerate(build.events):
        if build.coin():
            build.notification(k, event)
    build.extras()
    build.parts[1] = "\n".join(f"use {m}" for m in build.std_modules())
    text = draw(st.sampled_from(["\n\n", "\n", "\n\n\n"])).join(build.parts) + "\n"
    return text.replace("\n", "\r\n") if draw(st.booleans()) and draw(st.booleans()) else text
