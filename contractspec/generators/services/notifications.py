"""The `notifications` service provider: the std module's operations (inbox, mark read,
deliveries, retry, preferences, templates, channels), its jobs (`deliverNotification`,
`purgeDeliveries`) and the runtime of the spec's `notification` rules under
`<app>/notifications/` (catalog, render, rules, delivery, transports)."""

from __future__ import annotations

import re
from collections import deque
from typing import TYPE_CHECKING, ClassVar

from contractspec.generators.db.naming import column_name, py_str
from contractspec.generators.events.shapes import build_catalog
from contractspec.generators.services import notifications_runtime as runtime
from contractspec.generators.services import notifications_service as service
from contractspec.generators.services.base import ServiceInput, ServiceProvider
from contractspec.ir import nodes as ir

if TYPE_CHECKING:  # the api package imports the providers
    from contractspec.generators.api.model import Operation

MODULE = "notifications"
OPERATIONS = ("listInbox", "markRead", "listDeliveries", "retryDelivery", "listMyPreferences",
              "setPreference", "saveTemplate", "setOrgChannel")


class NotificationsProvider(ServiceProvider):
    """Generated implementations of `notifications`' operations and jobs."""

    module: ClassVar[str] = MODULE
    operations: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        (name, "v1") for name in OPERATIONS)

    def files(self, given: ServiceInput) -> dict[str, str]:
        names = {"Delivery": given.orm(MODULE, "Delivery"),
                 "Preference": given.orm(MODULE, "NotificationPreference"),
                 "OrgSetting": given.orm(MODULE, "OrgChannelSetting"),
                 "Template": given.orm(MODULE, "Template"),
                 "Membership": given.orm("identity", "OrgMembership"),
                 "User": given.orm("identity", "User")}

        def fill(text: str) -> str:
            rows = "\n".join(f"{key}Row = models.{value}" for key, value in names.items()
                             if f"{key}Row" in text)
            return given.top + text.replace("{app}", given.app).replace("<<rows>>", rows)

        ops = {name: given.operation(MODULE, name) for name in OPERATIONS}
        return {
            "notifications/__init__.py": given.top + runtime.INIT,
            "notifications/catalog.py": given.top + catalog_module(given, names["User"]),
            "notifications/render.py": fill(runtime.RENDER),
            "notifications/transports.py": given.top + runtime.TRANSPORTS,
            "notifications/rules.py": fill(runtime.RULES),
            "notifications/delivery.py": fill(runtime.DELIVERY),
            "services/notifications.py": fill(service.module_text(ops, _errors(ops))),
        }


def _errors(ops: dict[str, Operation]) -> dict[str, str]:
    """`<operation>.<error>` -> the error class in `<app>.api.errors`."""
    found = {}
    for name, op in ops.items():
        for error in (e.name for e in op.decl.errors):
            entry = next(e for e in op.errors if e.class_name.endswith(error))
            found[f"{name}.{error}"] = entry.class_name
    return found


# ---- catalog.py -------------------------------------------------------------------------


def catalog_module(given: ServiceInput, user_class: str) -> str:
    """The rules, the payload fields of their events and the fields of reachable records."""
    catalog = {(e.module, id(e.decl)): e for e in build_catalog(given.program).events}
    rules: list[str] = []
    payloads: dict[tuple[str, str], dict[str, Found]] = {}
    for module in given.program.modules:
        for note in module.notifications:
            sym = given.symbols.event(module.name, note.on).symbol if note.on else None
            event = catalog.get((sym.module, id(sym.decl))) if sym is not None else None
            if event is None or not note.channels or note.template is None:
                continue
            rules.append(_rule(note, event.type, event.version))
            payloads[(event.type, event.version)] = {
                f.name: _field(given, event.module, f) for f in event.decl.payload}
    fields = _reachable(given, payloads, user_class)
    lines = [
        '"""The spec\'s `notification` rules, and what their templates may read: the payload',
        "fields of their events and the fields of the records `ref`s lead to (by spec name;",
        '`@secret` fields left out)."""', "", "from __future__ import annotations", "",
        "from dataclasses import dataclass", "", "",
        "@dataclass(frozen=True)", "class Field:",
        '    """A field as templates see it: its model attribute, the model class of the',
        '    record a `ref` points to, and its type as a template variable."""', "",
        "    attr: str", "    target: str | None = None", '    type: str = "string"', "", "",
        "@dataclass(frozen=True)", "class Rule:",
        '    """A `notification`: its event, recipients (payload paths and roles), channels',
        '    and templates."""', "", "    name: str", "    event: str", "    version: str",
        "    paths: tuple[str, ...]", "    roles: tuple[str, ...]",
        "    channels: tuple[str, ...]", "    subject: str | None", "    template: str", "", "",
        f"USER = {py_str(user_class)}  # the model class of `identity.User`", "",
        "RULES: tuple[Rule, ...] = (", *rules, ")", "",
        "NAMES: frozenset[str] = frozenset(rule.name for rule in RULES)", "",
        "PAYLOADS: dict[tuple[str, str], dict[str, Field]] = {",
    ]
    for (type_, version), found in sorted(payloads.items()):
        lines.append(f"    ({py_str(type_)}, {py_str(version)}): {{")
        lines += [f"        {py_str(name)}: {_field_text(attr)}," for name, attr in found.items()]
        lines.append("    },")
    lines += ["}", "", "FIELDS: dict[str, dict[str, Field]] = {"]
    for class_name, found in sorted(fields.items()):
        lines.append(f"    {py_str(class_name)}: {{")
        lines += [f"        {py_str(name)}: {_field_text(attr)}," for name, attr in found.items()]
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines).replace("{\n    }", "{}") + "\n"


def _rule(note: ir.NotificationDecl, event: str, version: str) -> str:
    paths = [r.name for r in note.recipients if r.kind == "path"]
    roles = [r.name for r in note.recipients if r.kind == "role"]
    channels = [c.name for c in note.channels]
    return (f"    Rule(\n        name={py_str(note.name)},\n        event={py_str(event)},\n"
            f"        version={py_str(version)},\n        paths={_tuple(paths)},\n"
            f"        roles={_tuple(roles)},\n        channels={_tuple(channels)},\n"
            f"        subject={_string(note.subject, 8) if note.subject is not None else 'None'},\n"
            f"        template={_string(note.template or '', 8)},\n    ),")


def _string(text: str, indent: int, width: int = 98) -> str:
    """A string literal, split into implicitly concatenated parts when the line is long."""
    literal = py_str(text)
    if indent + len("template=") + len(literal) + 1 <= width:
        return literal
    parts: list[str] = []
    words = re.split(r"(?<=[ \n])", text)
    for piece in (w[i:i + 60] for w in words for i in range(0, len(w), 60)):
        if parts and len(py_str(parts[-1] + piece)) + indent + 4 <= width:
            parts[-1] += piece
        else:
            parts.append(piece)
    pad = " " * (indent + 4)
    return "(\n" + "".join(f"{pad}{py_str(p)}\n" for p in parts) + " " * indent + ")"


def _tuple(items: list[str]) -> str:
    inner = ", ".join(py_str(i) for i in items)
    return f"({inner},)" if len(items) == 1 else f"({inner})"


Found = tuple[str, str | None, str]  # attribute, model class of a `ref`, VariableType
_TYPES = {"int": "number", "bigint": "number", "decimal": "number", "float": "number",
          "money": "money", "date": "date", "datetime": "datetime", "url": "url",
          "bool": "bool"}


def _field(given: ServiceInput, module: str, f: ir.FieldDecl) -> Found:
    """(payload key, the model class of a `ref`'s entity, the template variable type)."""
    kind = "string" if f.type.is_list else _TYPES.get(f.type.name, "string")
    if not f.type.is_ref or f.type.is_list:
        return f.name, None, kind
    sym = given.symbols.lookup(module, f.type.name, "type", frozenset({"entity"})).symbol
    return f.name, given.orm(sym.module, sym.name) if sym is not None else None, kind


def _reachable(given: ServiceInput, payloads: dict[tuple[str, str], dict[str, Found]],
               user_class: str) -> dict[str, dict[str, Found]]:
    """The readable fields of every model a payload's `ref`s lead to, transitively."""
    tables = {t.class_name: t for t in given.schema.tables}
    todo = deque([user_class, *(target for found in payloads.values()
                                for _, target, _ in found.values() if target is not None)])
    fields: dict[str, dict[str, Found]] = {}
    while todo:
        name = todo.popleft()
        table = tables.get(name)
        if table is None or name in fields:
            continue
        attrs = {c.name: c.attr for c in table.columns}
        found: dict[str, Found] = {}
        for f in table.entity.fields:
            column = column_name(f)
            if column not in attrs or f.attribute("secret"):
                continue
            _, target, kind = _field(given, table.module, f)
            found[f.name] = (attrs[column], target, kind)
            if target is not None:
                todo.append(target)
        fields[name] = found
    return fields


def _field_text(found: Found) -> str:
    attr, target, kind = found
    args = [py_str(attr), *([py_str(target)] if target else []),
            *([f"type={py_str(kind)}"] if kind != "string" else [])]
    return f"Field({', '.join(args)})"
