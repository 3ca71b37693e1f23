"""Derived models are built once per program object and forgotten with it
(contractspec.generators.memo)."""

from __future__ import annotations

import gc
import weakref

from contractspec.analysis import analyze_texts
from contractspec.generators.db.schema import build_schema
from contractspec.generators.memo import per_program
from contractspec.generators.runtime import with_runtime
from contractspec.ir import nodes as ir

SPEC = "module shop\n\nentity Order {\n  id: uuid @id\n  total: int\n}\n"


def test_a_derivation_runs_once_per_program_object() -> None:
    calls: list[int] = []

    @per_program
    def modules(program: ir.Program) -> int:
        calls.append(id(program))
        return len(program.modules)

    first, second = (analyze_texts({"shop.cspec": SPEC}).program for _ in range(2))
    assert first == second and first is not second
    assert [modules(first), modules(first), modules(second)] == [1, 1, 1]
    assert len(calls) == 2  # the equal but distinct program is built for again


def test_results_are_forgotten_with_their_program() -> None:
    built: list[object] = []

    @per_program
    def marker(program: ir.Program) -> object:
        built.append(object())
        return built[-1]

    program = analyze_texts({"shop.cspec": SPEC}).program
    assert marker(program) is marker(program)
    results = next(cell.cell_contents for cell in marker.__closure__ or ()
                   if isinstance(cell.cell_contents, dict))  # the memo's own table
    assert len(results) == 1
    del program
    gc.collect()
    assert results == {}


def test_the_schema_of_one_program_is_shared_by_the_targets() -> None:
    program = analyze_texts({"shop.cspec": SPEC}).program
    assert build_schema(program) is build_schema(program)


def test_a_derivation_returning_its_program_does_not_keep_it_alive() -> None:
    """`with_runtime` of a workspace without `identity` is the program itself: memoised, it
    kept the program alive for good (a leak per analysis in the language server)."""
    program = analyze_texts({"shop.cspec": SPEC}).program
    assert with_runtime(program) is program
    alive = weakref.ref(program)
    del program
    gc.collect()
    assert alive() is None
