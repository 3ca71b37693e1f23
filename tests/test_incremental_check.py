"""Incremental checking: after edits, per-module checks run again only for the modules an
edit can affect, and the diagnostics equal those of a whole, fresh analysis."""

from __future__ import annotations

import shutil
from pathlib import Path

from contractspec.analysis import ParseCache, analyze_sources, analyze_texts
from contractspec.check.engine import CheckResult
from contractspec.ide.host import Host

DATA = Path(__file__).resolve().parent / "data" / "lsp" / "spec"
OPS = ("module ops\n\nuse identity\n\nentity Ticket {\n  id: uuid @id\n  title: strin\n"
       "  org: ref identity.Org @tenant\n}\n\npermission triage \"Triage\"\n")
SHOP = "spec/shop.cspec"


def workspace(tmp_path: Path) -> Path:
    """shop; billing uses shop; ops uses neither (each with some mistakes)."""
    (tmp_path / "cspec.toml").write_text('[workspace]\nspecs = ["spec"]\n', encoding="utf-8")
    shutil.copytree(DATA, tmp_path / "spec")
    (tmp_path / "spec" / "ops.cspec").write_text(OPS, encoding="utf-8")
    return tmp_path


def edits(shop: str) -> list[str]:
    """A sequence of edits to shop: typos in and out, an entity renamed that billing uses,
    a `use` added and removed, a permission dropped, a broken line, then the original."""
    renamed = shop.replace("entity Order {", "entity Purchase {")
    return [
        shop.replace("total: mony", "total: money"),
        shop.replace("uuid @id", "uuid @idd"),
        renamed,
        renamed.replace("use identity\n", "use identity\nuse ops\n"),
        shop.replace('permission place_orders "Place orders"\n', ""),
        shop.replace("  placedBy: ref identity.User\n", "  placedBy: ref identity.\n"),
        shop.replace("module shop\n", "module shop\n\nuse billing\n"),
        shop,
    ]


def findings_of(checks: CheckResult | None, module: str) -> list[object]:
    assert checks is not None
    return [found[module] for found in checks.findings if isinstance(found, dict)]


def test_edits_to_one_module_give_the_diagnostics_of_a_whole_analysis(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    host = Host(root)
    first = host.world().analysis
    assert {"CS201"} <= {d.code for d in first.diagnostics_for("spec/ops.cspec")}
    for text in edits((root / SHOP).read_text(encoding="utf-8")):
        before = host.world().analysis
        host.set_text(SHOP, text)
        analysis = host.world().analysis
        fresh = analyze_sources(host.config, host.files, dict(host.buffers))
        assert analysis.diagnostics == fresh.diagnostics
        # ops neither uses shop nor is used by it: its per-module findings are reused
        assert all(a is b for a, b in zip(findings_of(analysis.checks, "ops"),
                                          findings_of(before.checks, "ops"), strict=True))


def test_a_module_that_uses_the_edited_one_is_checked_again(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    host = Host(root)
    before = host.world().analysis
    shop = (root / SHOP).read_text(encoding="utf-8")
    host.set_text(SHOP, shop.replace("entity Order {", "entity Purchase {"))
    analysis = host.world().analysis
    assert any(a is not b for a, b in zip(findings_of(analysis.checks, "billing"),
                                          findings_of(before.checks, "billing"), strict=True))
    assert "CS201" in {d.code for d in analysis.diagnostics_for("spec/billing.cspec")}


def test_analyze_texts_with_a_cache_reuses_the_standard_modules_parse() -> None:
    """In-memory analyses sharing a parse cache parse `identity` once, and give the
    diagnostics of an analysis without one."""
    cache: ParseCache = {}
    first = analyze_texts({"ops.cspec": OPS}, cache=cache)
    std = [name for name in cache if name != "ops.cspec"]
    assert std and all(name in first.sources and name.startswith("<std>") for name in std)
    kept = {name: cache[name][2] for name in std}
    edited = OPS.replace("strin", "string")
    again = analyze_texts({"ops.cspec": edited}, cache=cache)
    assert all(cache[name][2] is kept[name] for name in std)
    assert again.diagnostics == analyze_texts({"ops.cspec": edited}).diagnostics
    assert first.diagnostics == analyze_texts({"ops.cspec": OPS}).diagnostics
