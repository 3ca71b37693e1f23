"""Diagnostics over LSP: the same as `cspec check`, pushed and pulled, across files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.lsp.conftest import (
    DATA,
    count_publishes,
    diagnostics,
    open_document,
    replace_text,
    session,
    settle,
    uri,
    workspace,
)

pytestmark = pytest.mark.asyncio

MISTAKES = {
    "shop.cspec": (DATA / "lsp" / "spec" / "shop.cspec").read_text(encoding="utf-8")
    .replace("  placedBy: ref identity.User\n",
             "  placedBy: ref identity.User\n  /// Café ☕ for the Zoë 😀 team\n"
             "  note: string @label(\"Zoë 😀\") @pii @bogus\n"),
    "billing.cspec": (DATA / "lsp" / "spec" / "billing.cspec").read_text(encoding="utf-8")
    .replace("  order: ref Order\n", "  order: ref Order\n  paid: bool = maybe\n"),
}


def code_points(text: str, position: lsp.Position) -> tuple[int, int]:
    """1-based (line, code-point column) of a UTF-16 LSP position."""
    line = text.split("\n")[position.line]
    units = 0
    col = 0
    for char in line:
        if units >= position.character:
            break
        units += 2 if ord(char) > 0xFFFF else 1
        col += 1
    return position.line + 1, col + 1


def cli_diagnostics(root: Path) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "contractspec.cli.main", "check", "--format", "json", "."],
        cwd=root, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    found: list[dict[str, object]] = json.loads(result.stdout)["diagnostics"]
    return found


async def test_diagnostics_are_identical_to_cspec_check(tmp_path: Path) -> None:
    root = workspace(tmp_path, MISTAKES)
    expected = sorted(
        (str(d["file"]), d["range"]["start"]["line"], d["range"]["start"]["column"],  # type: ignore[index]
         d["range"]["end"]["line"], d["range"]["end"]["column"],  # type: ignore[index]
         d["code"], d["severity"], d["message"])
        for d in cli_diagnostics(root))
    assert len(expected) >= 3
    severities = {lsp.DiagnosticSeverity.Error: "error", lsp.DiagnosticSeverity.Warning: "warning",
                  lsp.DiagnosticSeverity.Information: "info", lsp.DiagnosticSeverity.Hint: "hint"}
    async with session(root) as client:
        got = []
        for name in MISTAKES:
            path = root / "spec" / name
            text = path.read_text(encoding="utf-8")
            for d in await diagnostics(client, uri(path)):
                start = code_points(text, d.range.start)
                end = code_points(text, d.range.end)
                got.append((f"spec/{name}", *start, *end, str(d.code),
                            severities[d.severity or lsp.DiagnosticSeverity.Error],
                            d.message.split("\nhelp: ")[0]))
    assert sorted(got) == expected


async def test_whole_workspace_is_checked_on_start_and_kept_up_to_date(tmp_path: Path) -> None:
    root = workspace(tmp_path, MISTAKES)
    shop, billing = root / "spec" / "shop.cspec", root / "spec" / "billing.cspec"
    async with session(root) as client:
        # nothing opened yet: every file of the workspace gets its diagnostics
        assert "CS201" in {str(d.code) for d in await diagnostics(client, uri(shop))}
        assert "CS206" in {str(d.code) for d in await diagnostics(client, uri(billing))}
        text = shop.read_text(encoding="utf-8")
        document = open_document(client, shop, text)
        fixed = text.replace("mony", "money").replace(" @bogus", "")
        replace_text(client, document, fixed, 2)
        assert await settle(client, document, set()) == []
        # cross-file: renaming Order in shop breaks the `ref Order` of billing
        replace_text(client, document, fixed.replace("entity Order", "entity Purchase"), 3)
        found = await diagnostics(client, uri(billing), {"CS201"})
        assert any("Order" in d.message for d in found)
        replace_text(client, document, fixed, 4)
        assert await settle(client, uri(billing), {"CS206"}) == ["CS206"]


async def test_a_burst_of_edits_is_checked_once(tmp_path: Path) -> None:
    root = workspace(tmp_path, MISTAKES)
    shop = root / "spec" / "shop.cspec"
    async with session(root, debounce=1500) as client:
        await diagnostics(client, uri(shop), {"CS201"})
        text = shop.read_text(encoding="utf-8")
        document = open_document(client, shop, text)
        publishes = count_publishes(client, document)
        for version in range(2, 12):  # ten edits, each one stale as soon as the next comes
            replace_text(client, document, text.replace("mony", "mony" + "y" * version), version)
        replace_text(client, document, text.replace("mony", "money"), 12)
        await settle(client, document, {"CS207"})
        assert len(publishes) == 1


async def test_pull_diagnostics(tmp_path: Path) -> None:
    root = workspace(tmp_path, MISTAKES)
    shop = root / "spec" / "shop.cspec"
    async with session(root, pull=True) as client:
        open_document(client, shop)
        report = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri(shop))))
        assert isinstance(report, lsp.RelatedFullDocumentDiagnosticReport)
        assert {"CS201", "CS207"} <= {str(d.code) for d in report.items}
        everything = await client.workspace_diagnostic_async(lsp.WorkspaceDiagnosticParams(
            previous_result_ids=[]))
        by_uri = {r.uri: r for r in everything.items}
        assert set(by_uri) == {uri(shop), uri(root / "spec" / "billing.cspec")}
        assert client.diagnostics == {}  # a pulling client is not pushed to


@pytest.mark.parametrize(("offered", "chosen", "units"), [
    (None, "utf-16", lambda s: len(s.encode("utf-16-le")) // 2),
    (["utf-32", "utf-8", "utf-16"], "utf-8", lambda s: len(s.encode("utf-8"))),
    (["utf-16"], "utf-16", lambda s: len(s.encode("utf-16-le")) // 2),
    (["utf-32"], "utf-16", lambda s: len(s.encode("utf-16-le")) // 2),
])
async def test_position_encoding_gives_exact_ranges(tmp_path: Path, offered: list[str] | None,
                                                     chosen: str, units: object) -> None:
    assert callable(units)
    root = workspace(tmp_path, MISTAKES)
    shop = root / "spec" / "shop.cspec"
    text = shop.read_text(encoding="utf-8")
    async with session(root, encodings=offered) as client:
        info = client.server_info  # type: ignore[attr-defined]
        assert info.capabilities.position_encoding == chosen
        found = await diagnostics(client, uri(shop), {"CS207"})
        bogus = next(d for d in found if d.code == "CS207")
        line = text.split("\n")[bogus.range.start.line]
        start = line.index("bogus")  # the span of the attribute's name
        assert bogus.range.start.character == units(line[:start])
        assert bogus.range.end.character == units(line[:line.index("bogus") + 5])


async def test_files_created_on_disk_are_checked(tmp_path: Path) -> None:
    root = workspace(tmp_path, MISTAKES)
    async with session(root) as client:
        await diagnostics(client, uri(root / "spec" / "shop.cspec"), {"CS201"})
        extra = root / "spec" / "extra.cspec"
        extra.write_text("module extra\n\nentity E {\n  id: uuid @id\n  x: nope\n}\n",
                         encoding="utf-8")
        client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[
            lsp.FileEvent(uri=uri(extra), type=lsp.FileChangeType.Created)]))
        found = await diagnostics(client, uri(extra), {"CS201"})
        assert any("nope" in d.message for d in found)
        extra.unlink()
        client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[
            lsp.FileEvent(uri=uri(extra), type=lsp.FileChangeType.Deleted)]))
        assert await settle(client, uri(extra), set()) == []
