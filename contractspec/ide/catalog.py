"""What the editor says about built-in words: scalar types, attributes, keywords, snippets."""

from __future__ import annotations

SCALAR_DOCS: dict[str, str] = {
    "string": "Short text; `string(80)` or `string(1..80)` bounds its length.",
    "text": "Long text without a length limit.",
    "int": "A 64-bit whole number; `int(0..)` bounds it.",
    "bigint": "An arbitrarily large whole number.",
    "decimal": "An exact decimal number.",
    "money": "An amount of money with its currency.",
    "bool": "`true` or `false`.",
    "date": "A calendar date.",
    "datetime": "A point in time, with time zone.",
    "duration": "A length of time such as `30s` or `2h`.",
    "uuid": "A UUID; the usual type of an `@id` field.",
    "email": "An e-mail address (validated).",
    "url": "A URL (validated).",
    "json": "Any JSON value.",
    "page": "`page<Entity>`: one page of results (an operation's output).",
    "list": "`list<T>`: a list of values.",
}

ATTRIBUTE_DOCS: dict[str, str] = {
    "id": "The entity's primary key.",
    "unique": "No two records share this value.",
    "index": "The database keeps an index on this field.",
    "tenant": "The tenant (organisation) that owns the record; every query is scoped to it.",
    "immutable": "Set on creation, never changed afterwards.",
    "pii": "Personal data: redacted in audit trails, listed in privacy docs.",
    "secret": "Never returned by the API nor logged.",
    "default": "The value when none is given: `@default(now)`.",
    "label": "The human label in generated UIs: `@label(\"Title\")`.",
    "deprecated": "Still there, but going away: `@deprecated(\"why\")`.",
    "renamedFrom": "This field was renamed: a safe rename instead of a drop and an add.",
    "pattern": "A regular expression the value must match.",
    "allowBreaking": "Accept a breaking change to a released contract: `@allowBreaking(\"why\")`.",
}

MODEL_ATTRIBUTE_DOCS: dict[str, str] = {
    "index": "A database index over several fields: `@@index(org, stage)`.",
    "unique": "No two records share these values together: `@@unique(org, title)`.",
    "global": "The entity is shared by every tenant (it has no `@tenant` field on purpose).",
    "renamedFrom": "This entity was renamed: its table is renamed, rows are kept.",
    "allowBreaking": "Accept breaking changes to this entity and its fields: "
                     "`@@allowBreaking(\"why\")`.",
}

BUILTIN_DOCS: dict[str, str] = {
    "self": "The record a rule is about; `self.owner` is one of its fields.",
    "actor": "The signed-in user (an `identity.User`); `actor.email` is one of its fields.",
    "authenticated": "Any signed-in member, whatever their roles and permissions.",
    "now": "The current time.",
}

DECLARATION_DOCS: dict[str, str] = {
    "module": "Names the module this file belongs to.",
    "use": "Makes another module's declarations visible here.",
    "enum": "A closed set of values.",
    "type": "A structured value embedded where it is used (no table of its own).",
    "entity": "A stored record: a table, an API resource and UI pages derive from it.",
    "permission": "Something a role may be granted.",
    "role": "A role members can hold in an organisation.",
    "grant": "Gives roles permissions: `grant admin: manage_deals`.",
    "policy": "Who may read, create, update and delete an entity's records.",
    "command": "An operation that changes state.",
    "query": "An operation that reads state.",
    "event": "Something that happened, with its payload; `audit` also writes it to the trail.",
    "workflow": "A state machine over an enum field of an entity.",
    "job": "Background work with retries, backoff and timeout.",
    "on": "Runs a job when an event happens: `on task.due run sendReminder`.",
    "schedule": "Runs a job on a cron expression or an interval.",
    "notification": "A message sent on an event to roles or people named in its payload.",
    "flag": "A feature flag with a default, a rollout and targets.",
    "experiment": "Variants of a flow, measured by an event.",
    "critical": "Operations that must never be behind an experiment.",
    "attachments": "Files attached to an entity's records, with kinds, size and access rules.",
    "metric": "A usage metric, counted from events or metered operations.",
    "plan": "A subscription plan: limits on metrics and the flags it turns on.",
    "track": "A learning journey of units and steps.",
    "view": "A generated UI view: list, board, form or detail.",
    "agent": "An AI agent whose tools are operations, bound by a policy and limits.",
}

# Declaration skeletons (LSP snippet syntax).
SNIPPETS: dict[str, str] = {
    "module": "module ${1:name}",
    "use": "use ${1:identity}",
    "enum": "enum ${1:Name} {\n  ${2:value}\n}",
    "type": "type ${1:Name} {\n  ${2:field}: ${3:string}\n}",
    "entity": "entity ${1:Name} {\n  id: uuid @id\n  org: ref identity.Org @tenant\n"
              "  ${2:name}: ${3:string}\n}",
    "permission": "permission ${1:name} \"${2:What it allows}\"",
    "role": "role ${1:name} \"${2:Description}\"",
    "grant": "grant ${1:admin}: ${2:permission}",
    "policy": "policy ${1:Entity} {\n  read: ${2:permission}\n  create: ${3:permission}\n"
              "  update: ${4:permission}\n  delete: ${5:admin}\n}",
    "command": "command ${1:name} v1 {\n  input {\n    ${2:field}: ${3:string}\n  }\n"
               "  output ${4:Entity}\n  policy ${5:permission}\n}",
    "query": "query ${1:name} v1 {\n  output page<${2:Entity}>\n  policy ${3:permission}\n}",
    "event": "event ${1:thing.happened} v1 {\n  payload {\n    ${2:field}: ${3:string}\n  }\n"
             "  retention ${4:365d}\n}",
    "workflow": "workflow ${1:Name} on ${2:Entity}.${3:status} {\n  initial ${4:draft}\n"
                "  transition ${5:publish}: ${4:draft} -> ${6:published} by ${7:permission}\n"
                "  final ${6:published}\n}",
    "job": "job ${1:name} {\n  retries ${2:3}\n  timeout ${3:5m}\n}",
    "on": "on ${1:event} run ${2:job}",
    "schedule": "schedule ${1:name} cron \"${2:0 3 * * *}\" run ${3:job}",
    "notification": "notification ${1:name} {\n  on ${2:event}\n  to role ${3:admin}\n"
                    "  via ${4:email}\n  template \"${5:Text}\"\n}",
    "flag": "flag ${1:name} \"${2:Description}\" {\n  default off\n}",
    "experiment": "experiment ${1:name} {\n  variants control 50%, ${2:variant} 50%\n"
                  "  metric ${3:event}\n}",
    "critical": "critical ${1:operation}",
    "attachments": "attachments on ${1:Entity} {\n  kinds \"${2:application/pdf}\"\n"
                   "  max ${3:10MB}\n  upload: ${4:permission}\n  view: ${5:permission}\n}",
    "metric": "metric ${1:name} \"${2:Description}\" {\n  unit ${3:call}\n"
              "  aggregate ${4:sum} ${5:monthly}\n}",
    "plan": "plan ${1:name} {\n  limit ${2:metric} ${3:1000} / ${4:month}\n}",
    "track": "track ${1:name} \"${2:Title}\" {\n  unit ${3:first} \"${4:Title}\" {\n"
             "    step ${5:step} \"${6:Title}\" {\n      completes on ${7:event}\n    }\n  }\n}",
    "view": "view ${1:name} ${2|list,board,form,detail|} of ${3:Entity} {\n"
            "  ${4:columns} ${5:field}\n}",
    "agent": "agent ${1:name} {\n  model \"${2:provider/model}\"\n  tools ${3:operation}\n"
             "  policy ${4:permission}\n}",
}

POLICY_ACTIONS: dict[str, str] = {
    "read": "Who may see records.",
    "create": "Who may create records.",
    "update": "Who may change records.",
    "delete": "Who may delete records.",
}
ATTACHMENT_ACTIONS: dict[str, str] = {
    "upload": "Who may attach files.",
    "view": "Who may see and download files.",
    "delete": "Who may remove files.",
}
EVENT_SEVERITIES = ("info", "warning", "critical")
