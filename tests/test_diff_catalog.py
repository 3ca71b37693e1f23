"""Every change code of the catalog, on its own before/after example: the exact set of codes
reported, their level and surface, and that the examples are valid specs."""

from __future__ import annotations

import pytest

from contractspec.diagnostics import Severity
from contractspec.evolve.catalog import KINDS, ChangeKind, Level, Surface
from contractspec.evolve.changes import Change, analyse_changes
from contractspec.evolve.lock import build_lock
from tests.conftest import analyse

# The examples declare jobs, flags and metrics too, which need their standard modules (CS523).
PRELUDE = "module shop\n\nuse identity\nuse jobs\nuse flags\nuse metering\n\n"


def changes(before: str, after: str) -> list[Change]:
    """The changes from the spec `before` to `after` (both after the prelude)."""
    old, new = analyse(PRELUDE + before), analyse(PRELUDE + after)
    for analysis in (old, new):
        assert [d.message for d in analysis.diagnostics if d.severity is Severity.ERROR] == []
    return analyse_changes(build_lock(old.program), new.program, new.sources)


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_each_code_is_classified_exactly(kind: ChangeKind) -> None:
    found = changes(kind.before, kind.after)
    assert {c.code for c in found} == kind.reports
    [change] = [c for c in found if c.code == kind.code]
    assert (change.level, change.surface, change.kind.name) == (kind.level, kind.surface,
                                                                kind.name)
    assert change.module == "shop" and change.approved is None
    assert change.message and kind.name and kind.summary.endswith(".")


def test_codes_are_numbered_by_surface() -> None:
    digit = {Surface.API: "1", Surface.DATABASE: "2", Surface.EVENTS: "3", Surface.POLICY: "4",
             Surface.WORKFLOWS: "5", Surface.MEANING: "6", Surface.FLAGS: "7", Surface.JOBS: "8"}
    assert all(code.startswith("CX" + digit[k.surface]) for code, k in KINDS.items())
    assert len({k.name for k in KINDS.values()}) == len(KINDS)
    assert {k.level for k in KINDS.values()} == set(Level)


def test_no_change_no_changes() -> None:
    spec = "".join(k.after for k in (KINDS["CX102"], KINDS["CX303"], KINDS["CX507"]))
    assert changes(spec, spec) == []


def test_changes_are_sorted_most_severe_first() -> None:
    before = KINDS["CX104"].before + "\n" + KINDS["CX204"].before
    after = KINDS["CX104"].after + "\n" + KINDS["CX204"].after
    assert [c.code for c in changes(before, after)] == ["CX204", "CX104"]


def test_spans_point_into_the_current_specs() -> None:
    kind = KINDS["CX103"]
    [change] = changes(kind.before, kind.after)
    text = PRELUDE + kind.after
    assert change.span is not None
    assert text[change.span.start_offset:change.span.end_offset] == "quantity"
    assert change.released == ("operations", "order", "v1")
    [removed] = changes(KINDS["CX101"].before, KINDS["CX101"].after)
    assert removed.span is not None and removed.span.start_line == 1  # the module header
