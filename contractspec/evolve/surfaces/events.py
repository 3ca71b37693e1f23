"""The events surface: event versions and their payloads, and who listens to them."""

from __future__ import annotations

from contractspec.evolve.differ import Differ, same, section, strings, versioned
from contractspec.evolve.fields import Block, Role, compare_blocks, shapes
from contractspec.evolve.lock import ANY_VERSION, UNVERSIONED, Json
from contractspec.evolve.surfaces.api import label


def events(differ: Differ, module: str, old: Json, new: Json) -> None:
    found = differ.module(module)
    decls = {(e.name, e.version or UNVERSIONED): e for e in (found.events if found else ())}
    before, after = versioned(old, "events"), versioned(new, "events")
    remaining = {name for name, _ in after}
    for key, item in before.items():
        subject = f"event `{label(*key)}`"
        released = ("events", *key)
        if key in after:
            if same(item, after[key]):
                continue
            decl = decls.get(key)
            compare_blocks(Block(differ, module, subject, Role.PAYLOAD,
                                 decl.name_span if decl else None,
                                 {f.name: f for f in decl.payload} if decl else {},
                                 released=released), shapes(item, "payload"),
                           shapes(after[key], "payload"))
            continue
        listeners = _listeners(old, key[0], key[1], key[0] not in remaining)
        if listeners:
            differ.add("CX302", module, subject, f"{subject} was removed while "
                       f"{', '.join(listeners)} listened to it: they stop working",
                       differ.module_span(module), released=released)
        else:
            differ.add("CX301", module, subject, f"{subject} was removed: its consumers stop "
                       "receiving it", differ.module_span(module), released=released)
    for key in after.keys() - before.keys():
        decl = decls.get(key)
        differ.add("CX303", module, f"event `{label(*key)}`",
                   f"event `{label(*key)}` was added", decl.name_span if decl else None)


def _listeners(old: Json, name: str, version: str, gone: bool) -> list[str]:
    """What listened to an event version in the base: by that version, or by the event's
    name alone when no version of it is left."""
    by_version = section(old, "dependents").get("events", {}).get(name)
    if not isinstance(by_version, dict):
        return []
    found = strings(by_version.get(version))
    return found + (strings(by_version.get(ANY_VERSION)) if gone else [])
