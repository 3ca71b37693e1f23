"""Who can do what: the operation-by-role matrix from grants and policies."""

from __future__ import annotations

from pathlib import Path

from contractspec.analysis import analyze_texts, analyze_workspace
from contractspec.ide.access import Access, AccessMatrix, access_matrix
from contractspec.ide.world import World

FULL = Path(__file__).resolve().parent / "data" / "full"


def matrix(world: World, module: str) -> AccessMatrix:
    mod = world.analysis.program.module(module)
    assert mod is not None
    return access_matrix(world.index, mod, world.visible(module))


def cells(m: AccessMatrix, row: str) -> dict[str, Access]:
    found = next(r for r in m.rows if r.name == row)
    return dict(zip(m.roles, found.cells, strict=True))


def test_matrix_of_the_full_workspace() -> None:
    m = matrix(World(analyze_workspace([FULL])), "crm")
    # `operator` comes from `identity`, `worker` from `jobs`: platform roles, granted nothing
    # here
    assert m.roles == ("owner", "admin", "member", "operator", "worker")
    assert cells(m, "createDeal v1") == {"owner": Access.YES, "admin": Access.YES,
                                         "member": Access.NO, "operator": Access.NO,
                                         "worker": Access.NO}
    assert cells(m, "listDeals v1") == {"owner": Access.YES, "admin": Access.YES,
                                        "member": Access.YES, "operator": Access.NO,
                                        "worker": Access.NO}
    assert cells(m, "Deal: update")["member"] is Access.CONDITIONAL
    assert cells(m, "Deal: delete") == {"owner": Access.NO, "admin": Access.YES,
                                        "member": Access.NO, "operator": Access.NO,
                                        "worker": Access.NO}
    assert cells(m, "DealFlow.reopen")["admin"] is Access.YES
    assert cells(m, "Deal: upload")["owner"] is Access.YES
    assert cells(m, "salesAssistant")["member"] is Access.YES


def test_operations_without_policy_and_logic() -> None:
    text = ("module a\n\nuse identity\n\npermission p\npermission q\n\ngrant admin: p, q\n"
            "grant member: p\n\ncommand open1 v1 {}\n\ncommand both v1 {\n  policy p and q\n}\n"
            "\ncommand notAdmin v1 {\n  policy not admin\n}\n\ncommand anyone v1 {\n"
            "  policy authenticated\n}\n")
    m = matrix(World(analyze_texts({"a.cspec": text})), "a")
    assert set(cells(m, "open1 v1").values()) == {Access.OPEN}
    assert cells(m, "both v1") == {"owner": Access.NO, "admin": Access.YES, "member": Access.NO,
                                   "operator": Access.NO}
    assert cells(m, "notAdmin v1") == {"owner": Access.YES, "admin": Access.NO,
                                       "member": Access.YES, "operator": Access.YES}
    assert set(cells(m, "anyone v1").values()) == {Access.YES}
    data = m.to_json()
    assert data["roles"] == ["owner", "admin", "member", "operator"]
    markdown = m.markdown()
    assert "| command `both v1` | ✗ | ✓ | ✗ | ✗ | `p and q` |" in markdown
    assert "*no policy*" in markdown


def test_empty_module() -> None:
    m = matrix(World(analyze_texts({"a.cspec": "module a\n"})), "a")
    assert m.rows == () and "declares nothing" in m.markdown()
