"""The change analysis on old and hand-edited locks: no spurious changes, no tracebacks."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

from contractspec.analysis import analyze_workspace
from contractspec.evolve.changes import analyse_changes
from contractspec.evolve.lock import build_lock

DERIVED = ("flags", "metrics", "access", "dependents", "http")


def test_a_lock_written_before_the_derived_sections_shows_no_changes(
        full_workspace: Path) -> None:
    analysis = analyze_workspace([full_workspace])
    lock = build_lock(analysis.program)
    for module in lock["modules"].values():
        for key in DERIVED:
            del module[key]
    assert analyse_changes(lock, analysis.program, analysis.sources) == []


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(
        value, list) else ()
    found = []
    for key, child in items:
        found.append((*prefix, key))
        found += _paths(child, (*prefix, key))
    return found


def test_hand_edited_locks_never_crash_the_analysis(full_workspace: Path) -> None:
    analysis = analyze_workspace([full_workspace])
    base = build_lock(analysis.program)
    paths = _paths(base)
    odd: list[Any] = [None, 1, "x", [], {}, ["a", 1], {"a": 1}, True]
    rng = random.Random(5)
    for _ in range(120):
        lock = copy.deepcopy(base)
        for path in rng.sample(paths, 3):
            parent: Any = lock
            for key in path[:-1]:
                parent = parent.get(key) if isinstance(parent, dict) else None
            if isinstance(parent, dict):
                parent[path[-1]] = rng.choice(odd)
        for change in analyse_changes(lock, analysis.program, analysis.sources):
            assert change.message
