"""Evolution intent in the specs: renames (`@renamedFrom`, `@@renamedFrom`), approvals
(`@allowBreaking`, `@@allowBreaking`, `// cspec-allow-breaking`), `migrate state`."""

from __future__ import annotations

from contractspec.evolve.catalog import KINDS, Level
from contractspec.evolve.changes import analyse_changes
from contractspec.evolve.lock import build_lock
from tests.conftest import analyse
from tests.test_diff_catalog import PRELUDE, changes

PRODUCT = KINDS["CX204"].before  # Product with `name` and `sku`


def test_a_renamed_column_keeps_its_data() -> None:
    after = PRODUCT.replace("  sku: string\n", "  code: string @renamedFrom(sku)\n")
    [change] = changes(PRODUCT, after)
    assert (change.code, change.level) == ("CX207", Level.SAFE)
    assert change.message == "column `code` of entity `Product` was renamed from `sku`"


def test_a_rename_that_also_changes_the_type_reports_both() -> None:
    after = PRODUCT.replace("  sku: string\n", "  code: string(1..20)? @renamedFrom(sku)\n")
    assert [c.code for c in changes(PRODUCT, after)] == ["CX208", "CX207", "CX211"]


def test_without_renamed_from_it_is_a_drop_and_an_add() -> None:
    after = PRODUCT.replace("  sku: string\n", "  code: string\n")
    assert [c.code for c in changes(PRODUCT, after)] == ["CX204", "CX206"]


def test_renamed_entity_and_its_fields() -> None:
    before = PRODUCT.replace("entity Product", "entity Item")
    after = PRODUCT.replace("  sku: string\n", "  code: string @renamedFrom(sku)\n"
                            "  @@renamedFrom(Item)\n")
    assert [(c.code, c.subject) for c in changes(before, after)] == [
        ("CX203", "entity `Product`"), ("CX207", "column `code` of entity `Product`")]


def test_renamed_enum_value_and_input_field() -> None:
    assert [c.code for c in changes(KINDS["CX124"].before, KINDS["CX124"].after)] == ["CX124"]
    [change] = changes(KINDS["CX123"].before, KINDS["CX123"].after)
    assert change.subject == "input field `comment` of operation `order v1`"


def test_a_stale_renamed_from_does_not_hide_a_removal() -> None:
    before = PRODUCT.replace("  sku: string\n", "  sku: string\n  code: string\n")
    after = PRODUCT.replace("  sku: string\n", "  code: string @renamedFrom(sku)\n")
    assert [c.code for c in changes(before, after)] == ["CX204"]


def test_field_approval() -> None:
    before = KINDS["CX106"].before
    after = KINDS["CX106"].after.replace("note: string", 'note: string @allowBreaking("v1 '
                                         'was never used without a note")')
    [change] = changes(before, after)
    assert change.code == "CX106" and change.approved == "v1 was never used without a note"
    assert not change.fails(Level.BREAKING) and not change.fails(Level.SAFE)


def test_entity_approval_covers_dropped_columns_and_outputs() -> None:
    kind = KINDS["CX112"]
    after = kind.after.replace("  name: string\n", '  name: string\n  @@allowBreaking("sku '
                               'moved to Variant")\n')
    found = changes(kind.before, after)
    assert [(c.code, c.approved) for c in found] == [("CX112", "sku moved to Variant"),
                                                     ("CX204", "sku moved to Variant")]


def test_comment_approval_names_its_codes() -> None:
    kind = KINDS["CX116"]
    approve = "// cspec-allow-breaking CX116: nobody handled it\n"
    [change] = changes(kind.before, approve + kind.after)
    assert change.approved == "nobody handled it"
    trailing = kind.after.replace("query price v1 {", "query price v1 { // cspec-allow-breaking "
                                  "CX116 CX117: both")
    assert changes(kind.before, trailing)[0].approved == "both"
    other_code = "// cspec-allow-breaking CX101: wrong code\n"
    assert changes(kind.before, other_code + kind.after)[0].approved is None
    no_reason = "// cspec-allow-breaking CX116\n"
    assert changes(kind.before, no_reason + kind.after)[0].approved is None


def test_removed_declarations_are_approved_on_the_module_header() -> None:
    kind = KINDS["CX101"]
    found = changes(kind.before, kind.after)
    assert found[0].approved is None
    old = analyse(PRELUDE + kind.before)
    new = analyse("// cspec-allow-breaking CX101: price is free now\n" + PRELUDE)
    [change] = analyse_changes(build_lock(old.program), new.program, new.sources)
    assert change.approved == "price is free now"


def test_migrate_state_makes_a_removed_state_safe() -> None:
    kind = KINDS["CX503"]
    found = {c.code: c for c in changes(kind.before, kind.after)}
    assert found["CX503"].level is Level.SAFE
    assert found["CX503"].message == ("state `archived` of workflow `ProductFlow` was removed "
                                      "and its rows move to `live`")
    assert "CX502" not in found
