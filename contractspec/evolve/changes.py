"""The change analysis: what changed between a base snapshot (a release lock, or the lock of
the specs at a git ref) and the current specs, as a typed list of changes (`Change`, see
contractspec/evolve/differ.py), one surface at a time (contractspec/evolve/surfaces/)."""

from __future__ import annotations

from contractspec.evolve.differ import Change, Differ
from contractspec.evolve.lock import Json, build_lock
from contractspec.evolve.surfaces import SURFACES
from contractspec.ir import nodes as ir
from contractspec.source import SourceFile

__all__ = ["Change", "analyse_changes"]


def analyse_changes(base: Json, program: ir.Program, sources: dict[str, SourceFile],
                    routes: bool = True) -> list[Change]:
    """The changes from the lock `base` to `program` (whose texts are `sources`), most
    severe first. `routes=False` skips HTTP routes (for a program with errors)."""
    modules = base.get("modules")
    old = {k: v for k, v in modules.items() if isinstance(v, dict)} if isinstance(
        modules, dict) else {}
    new = build_lock(program, routes=routes)["modules"]
    differ = Differ(old, new, program, sources)
    for name in sorted(set(old) | set(new)):
        for surface in SURFACES:
            surface(differ, name, old.get(name, {}), new.get(name, {}))
    return sorted(differ.changes, key=lambda c: (c.level.rank, c.module, c.code, c.subject))
