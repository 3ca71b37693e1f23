"""Names in the generated database code: classes, tables, columns, constraints.

Shared with the other targets (the API maps spec fields to these attribute names):
- class: the entity or enum name, `<Module><Name>` when two modules declare the same name
  (entities and enums share one Python namespace) or the name is one the code imports;
- table: snake_case of `<module>_<entity>` (`crm_deal`, `identity_org_membership`);
- column and attribute: snake_case of the field name, `<field>_id` for a `ref`; an attribute
  that would shadow a Python keyword or a name the models import gets a trailing `_`.
"""

from __future__ import annotations

import json
import keyword
import re
from collections import Counter
from functools import lru_cache

from contractspec.ir import nodes as ir

# Names models.py / enums.py import or SQLAlchemy reserves on a declarative class.
RESERVED_CLASSES = frozenset({"Any", "Base", "Mapped", "StrEnum", "annotations"})
RESERVED_ATTRIBUTES = frozenset({
    "datetime", "decimal", "uuid", "sa", "Any", "Mapped", "mapped_column", "relationship",
    "metadata", "registry", "annotations",
})

# Words PostgreSQL or SQLite reserve; columns named so are quoted in CHECK constraints.
_SQL_WORDS = """
abort all analyse analyze and any array as asc asymmetric authorization between binary both
case cast check collate collation column concurrently constraint create cross current_catalog
current_date current_role current_schema current_time current_timestamp current_user default
deferrable desc distinct do else end except exists false fetch for foreign freeze from full
glob grant group having ilike in initially inner intersect into is isnull join key lateral
leading left like limit localtime localtimestamp natural not notnull null offset on only or
order outer overlaps placing primary references regexp returning right select session_user
similar some symmetric table tablesample then to trailing true union unique user using
variadic verbose when where window with
"""
SQL_RESERVED = frozenset(_SQL_WORDS.split())

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@lru_cache(maxsize=1 << 16)
def snake(name: str) -> str:
    """`contactEmail` -> `contact_email`, `OrderLine` -> `order_line`, `APIKey` -> `api_key`."""
    return re.sub(r"\W+", "_", _CAMEL.sub("_", name)).strip("_").lower() or "x"


def kebab(name: str) -> str:
    """`createDeal` -> `create-deal` (URL paths)."""
    return snake(name).replace("_", "-")


@lru_cache(maxsize=1 << 16)
def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[\W_]+", name) if part)


def table_name(module: str, entity: str) -> str:
    return f"{snake(module)}_{snake(entity)}"


def attribute_name(name: str) -> str:
    """A Python attribute that shadows nothing the generated module uses."""
    return f"{name}_" if keyword.iskeyword(name) or name in RESERVED_ATTRIBUTES else name


def column_name(f: ir.FieldDecl) -> str:
    return snake(f.name) + ("_id" if f.type.is_ref else "")


def class_names(program: ir.Program) -> dict[tuple[str, str], str]:
    """The Python class of every entity and enum, keyed by (module, name)."""
    declared = [(m.name, d.name) for m in program.modules for d in (*m.entities, *m.enums)]
    counts = Counter(name for _, name in declared)
    return {
        (module, name): (pascal(module) + name
                         if counts[name] > 1 or name in RESERVED_CLASSES else name)
        for module, name in declared
    }


def sql_identifier(name: str) -> str:
    """A column name as written in raw SQL (quoted when a reserved word)."""
    return f'"{name}"' if name in SQL_RESERVED else name


def py_str(text: str) -> str:
    """A Python string literal (double quotes unless the text holds only double quotes)."""
    if _PLAIN.fullmatch(text):  # the common case, as json.dumps would write it
        return f'"{text}"'
    if '"' in text and _PLAIN_SINGLE.fullmatch(text):
        return f"'{text}'"
    return json.dumps(text, ensure_ascii=False)


_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')  # what json.dumps writes unescaped
_PLAIN_SINGLE = re.compile(r"[^'\\\x00-\x1f]*")


def member_name(value: str) -> str:
    """An enum member's Python name (its value is the spec's name, unchanged)."""
    return f"{value}_" if keyword.iskeyword(value) or value in ("name", "value", "mro") else value
