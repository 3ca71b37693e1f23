"""The quick fix of CS601, "keep vN, add vN+1": the released version is written back from the
lock, the changed declaration becomes the next version, and the error is gone."""

from __future__ import annotations

from pathlib import Path

from contractspec.analysis import analyze_texts
from contractspec.diagnostics import Severity
from contractspec.evolve.lock import build_lock, write_lock
from contractspec.ide.actions import code_actions
from contractspec.ide.world import World
from tests.test_rules_releases import RELEASED


def fix(tmp_path: Path, released: str, now: str) -> tuple[str, str]:
    """Release `released`, change it to `now`, apply the CS601 quick fix: (title, result)."""
    write_lock(tmp_path, analyze_texts({"shop.cspec": released}, root=tmp_path).program)
    world = World(analyze_texts({"shop.cspec": now}, root=tmp_path))
    assert "CS601" in [d.code for d in world.analysis.diagnostics]
    [action] = [a for a in code_actions(world, "shop.cspec", 0, len(now))
                if a.diagnostic is not None and a.diagnostic.code == "CS601"]
    [edit] = action.edits["shop.cspec"]
    result = now[:edit.span.start_offset] + edit.new_text + now[edit.span.end_offset:]
    after = analyze_texts({"shop.cspec": result}, root=tmp_path)
    assert [d.message for d in after.diagnostics if d.severity is Severity.ERROR] == []
    assert not [d for d in after.diagnostics if d.code.startswith("CS6")]
    return action.title, result


def test_keep_v1_add_v2(tmp_path: Path) -> None:
    released = RELEASED.replace("    total: money\n", "    total: money\n"
                                '    note: string? @label("Note")\n').replace(
        "  emits order.placed\n", "  emits order.placed\n  errors {\n    Closed 409 \"The "
        "shop is closed\"\n  }\n")
    now = released.replace("    total: money\n", "    total: int\n").replace(
        "    note: string? @label(\"Note\")\n", "")
    title, result = fix(tmp_path, released, now)
    assert title == "Keep `placeOrder v1` as released, add `placeOrder v2`"
    start = result.index("/// Place an order.")
    end = result.index("\nevent order.placed")
    assert result[start:end] == (
        "/// Place an order.\ncommand placeOrder v1 {\n  input {\n    total: money\n"
        "    note: string?\n  }\n  output Order\n  policy admin\n"
        "  emits order.placed\n  errors {\n    Closed 409 \"The shop is closed\"\n  }\n}\n\n"
        "/// Place an order.\ncommand placeOrder v2 {\n  input {\n    total: int\n  }\n"
        "  output Order\n  policy admin\n  emits order.placed\n  errors {\n    Closed 409 "
        "\"The shop is closed\"\n  }\n}\n")
    program = analyze_texts({"shop.cspec": result}, root=tmp_path).program
    ops = build_lock(program)["modules"]["shop"]["operations"]["placeOrder"]
    assert set(ops) == {"v1", "v2"}


def test_event_and_unversioned_declarations(tmp_path: Path) -> None:
    released = RELEASED.replace("event order.placed v1", "event order.placed")
    released = released.replace("  emits order.placed\n", "")
    now = released.replace("    order: ref Order\n", "    order: ref Order?\n")
    title, result = fix(tmp_path, released, now)
    assert title == "Keep `order.placed` as released, add `order.placed v2`"
    assert "event order.placed {\n  payload {\n    order: ref Order\n  }\n}\n\n" \
           "event order.placed v2 {\n  payload {\n    order: ref Order?\n  }\n}" in result


def test_a_lock_entry_of_another_shape_copies_the_declaration(tmp_path: Path) -> None:
    now = RELEASED.replace("    total: money\n", "    total: int\n")
    write_lock(tmp_path, analyze_texts({"shop.cspec": RELEASED}, root=tmp_path).program)
    lock = (tmp_path / "cspec.lock").read_text(encoding="utf-8")
    (tmp_path / "cspec.lock").write_text(lock.replace('"input": {', '"input": ["odd"], "x": {'),
                                         encoding="utf-8")
    world = World(analyze_texts({"shop.cspec": now}, root=tmp_path))
    titles = [a.title for a in code_actions(world, "shop.cspec", 0, len(now))
              if a.diagnostic is not None and a.diagnostic.code == "CS601"]
    assert titles == ["Copy as `placeOrder v2`"]
