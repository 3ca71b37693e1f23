"""Models derived from a program, built once per program object.

Several targets need the same derivations of the IR (the database schema, the event catalog,
the program with the runtime module); the IR is frozen and the derivations are pure, so
each is computed once for a given `ir.Program` object and forgotten when that object is.
Callers must treat the results as read-only, and a result must not hold its program (a
derivation that may return the program itself, like `with_runtime`, is not memoised then).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import TypeVar

from contractspec.ir import nodes as ir

T = TypeVar("T")


def per_program(build: Callable[[ir.Program], T]) -> Callable[[ir.Program], T]:
    """`build`, remembering its result for each live program object (by identity: hashing a
    whole program would cost more than building)."""
    results: dict[int, tuple[weakref.ref[ir.Program], T]] = {}

    @functools.wraps(build)
    def cached(program: ir.Program) -> T:
        key = id(program)
        hit = results.get(key)
        if hit is not None and hit[0]() is program:
            return hit[1]
        result = build(program)
        if result is not program:  # kept, it would keep its own key alive for good
            results[key] = (weakref.ref(program, lambda _: results.pop(key, None)), result)
        return result

    return cached
