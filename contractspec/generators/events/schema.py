"""JSON Schema (draft 2020-12) of each event version: the envelope and its payload."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from contractspec.generators.events import shapes as s

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ACTOR = "EventActor"
ACTOR_KINDS = ("user", "agent", "system")
ACTOR_ID_LENGTH = (1, 64)  # as audit.AuditEntry.actorId

Json = dict[str, Any]


def event_schema(event: s.EventVersion, catalog: s.Catalog, comment: str) -> Json:
    decl = event.decl
    properties: Json = {
        "id": {**uuid_schema(), "description": "Unique id of this occurrence."},
        "type": {"const": event.type, "description": "The event's name."},
        "version": {"const": event.version, "description": "The event's version."},
        "occurredAt": {**scalar_schema(s.Scalar("datetime")),
                       "description": "When it happened (RFC 3339, with an offset)."},
        "actor": {"$ref": f"#/$defs/{ACTOR}"},
    }
    if event.tenant:
        properties["orgId"] = {**uuid_schema(),
                               "description": "The organisation (tenant) the data belongs to."}
    properties["payload"] = object_schema(event.props, f"{event.class_name}Payload", None)
    defs: Json = {ACTOR: actor_schema()}
    for name in event.deps:
        defs[name] = definition_schema(catalog.definitions[name])
    schema: Json = {
        "$schema": DIALECT,
        "$id": f"urn:cspec:event:{event.type}:{event.version}",
        "$comment": comment,
        "title": f"{event.type} {event.version}",
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
        "$defs": defs,
        "x-cspec-module": event.module,
        "x-cspec-severity": decl.severity.name if decl.severity is not None else "info",
        "x-cspec-audit": decl.audit,
    }
    if decl.doc:
        schema["description"] = decl.doc
    if decl.retention is not None:
        schema["x-cspec-retention"] = decl.retention.text
        schema["x-cspec-retention-seconds"] = _number(decl.retention.seconds)
    return schema


def actor_schema() -> Json:
    low, high = ACTOR_ID_LENGTH
    return {
        "type": "object",
        "title": ACTOR,
        "description": "Who caused the event: a user, an AI agent or the system itself.",
        "properties": {
            "kind": {"type": "string", "enum": list(ACTOR_KINDS)},
            "id": {"type": "string", "minLength": low, "maxLength": high,
                   "description": "The user's id, the agent's name, or a system process."},
        },
        "required": ["kind", "id"],
        "additionalProperties": False,
    }


def definition_schema(definition: s.Definition) -> Json:
    if definition.values:
        schema: Json = {"type": "string", "title": definition.name,
                        "enum": list(definition.values)}
        if definition.doc:
            schema["description"] = definition.doc
        schema["x-cspec-enum"] = definition.qualified
        return schema
    schema = object_schema(definition.props, definition.name, definition.doc)
    schema["x-cspec-type"] = definition.qualified
    return schema


def object_schema(props: tuple[s.Prop, ...], title: str, doc: str | None) -> Json:
    schema: Json = {
        "type": "object",
        "title": title,
        "properties": {p.name: prop_schema(p) for p in props},
        "required": [p.name for p in props if not p.shape.optional],
        "additionalProperties": False,
    }
    if doc:
        schema["description"] = doc
    return schema


def prop_schema(prop: s.Prop) -> Json:
    shape = prop.shape
    schema = value_schema(shape)
    if shape.is_list:
        schema = {"type": "array", "items": schema}
    if shape.optional:
        schema = {"anyOf": [schema, {"type": "null"}]}
    if prop.doc:
        schema["description"] = prop.doc
    if prop.label:
        schema["title"] = prop.label
    if prop.pii:
        schema["x-cspec-pii"] = True
    if prop.secret:
        schema["x-cspec-secret"] = True
    return schema


def value_schema(shape: s.Shape) -> Json:
    if shape.kind == "scalar" and shape.scalar is not None:
        return scalar_schema(shape.scalar)
    if shape.kind == "ref" and shape.scalar is not None:
        return {**scalar_schema(shape.scalar), "x-cspec-ref": shape.entity,
                "description": f"Id of the referenced `{shape.entity}`."}
    if shape.definition is not None:
        return {"$ref": f"#/$defs/{shape.definition}"}
    return {}


def uuid_schema() -> Json:
    return scalar_schema(s.Scalar("uuid"))


def scalar_schema(scalar: s.Scalar) -> Json:
    name = scalar.name
    if name in ("string", "text", "email", "url"):
        schema: Json = {"type": "string"}
        if scalar.low is not None:
            schema["minLength"] = int(scalar.low)
        if scalar.high is not None:
            schema["maxLength"] = int(scalar.high)
        builtin = {"email": ("email", s.EMAIL_PATTERN), "url": ("uri", s.URL_PATTERN)}
        if name in builtin:
            schema["format"], schema["pattern"] = builtin[name]
        if scalar.pattern is not None:
            schema["pattern"] = scalar.pattern
        return schema
    if name in ("int", "bigint"):
        schema = {"type": "integer"}
        if scalar.low is not None:
            schema["minimum"] = int(scalar.low)
        if scalar.high is not None:
            schema["maximum"] = int(scalar.high)
        return schema
    if name in ("decimal", "money"):
        schema = {"type": "string", "pattern": decimal_pattern(scalar), "x-cspec-type": name}
        if scalar.low is not None:
            schema["x-cspec-minimum"] = str(scalar.low)
        if scalar.high is not None:
            schema["x-cspec-maximum"] = str(scalar.high)
        return schema
    lexical = {
        "uuid": ("uuid", s.UUID_PATTERN), "date": ("date", s.DATE_PATTERN),
        "datetime": ("date-time", s.DATETIME_PATTERN),
        "duration": ("duration", s.DURATION_PATTERN),
    }
    if name in lexical:
        fmt, pattern = lexical[name]
        return {"type": "string", "format": fmt, "pattern": pattern}
    if name == "bool":
        return {"type": "boolean"}
    return {}  # json: any JSON value


def decimal_pattern(scalar: s.Scalar) -> str:
    """A decimal written out in full: `-12.50`; no sign when the minimum is not negative."""
    sign = "" if scalar.low is not None and scalar.low >= 0 else "-?"
    if scalar.digits is None:
        return rf"^{sign}\d+(\.\d+)?$"
    precision, scale = scalar.digits
    whole = rf"\d{{1,{precision - scale}}}" if precision > scale else "0"
    fraction = rf"(\.\d{{1,{scale}}})?" if scale else ""
    return f"^{sign}{whole}{fraction}$"


def _number(value: float) -> int | float:
    return int(value) if Decimal(value) == int(value) else value
