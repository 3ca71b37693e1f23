"""Which flag or experiment gates an operation (`behind`), for the `api` target's routes.

Kept apart from the `flags` provider so that the routes writer imports no provider (the
providers import the `api` target).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contractspec.generators.base import GeneratorError
from contractspec.ir import nodes as ir

if TYPE_CHECKING:
    from contractspec.generators.api.model import Operation


def gate_key(program: ir.Program, op: Operation) -> str | None:
    """The flag or experiment an operation is `behind` (None when ungated). A `critical`
    operation behind an experiment (CS505) is refused: it must never be gated by one."""
    behind = op.decl.behind
    if behind is None or op.transition is not None:
        return None
    name = behind.name.rsplit(".", 1)[-1]
    experiments = {e.name for m in program.modules for e in m.experiments}
    critical = {ref.name.rsplit(".", 1)[-1] for m in program.modules for c in m.criticals
                for ref in c.operations}
    if name in experiments and op.decl.name in critical:
        raise GeneratorError(f"the critical operation `{op.decl.name}` is behind the "
                             f"experiment `{name}` (CS505): critical flows are never gated "
                             "by an experiment")
    return name
