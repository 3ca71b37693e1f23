"""Language-server chaos: random incremental edits (positions past the end, splitting
surrogate pairs, CRLF and lone CR), bursts of changes with cancelled requests, files deleted
and renamed under the server. The server never exits or hangs, and once the burst is over
its diagnostics equal `cspec check --format json` on the final text.

The edits are applied to a client-side copy of the text as LSP says (lines end at `\\n`,
`\\r\\n` or `\\r`, not at `\\u2028`; a position past the end of a line or of the text is
clamped to it; a position inside a surrogate pair rounds to after the pair; a range given
backwards is reordered).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from contractspec.server.convert import Positions, apply_change
from tests.lsp.conftest import DATA, WAIT_STEPS, open_document, session, uri

SNIPPETS = ["\r\n", "\r", "\n", "😀", "a🎉b", "entity ", "{", "}", "\n  title: string\n",
            "\n  amount: mony\n", '"', "///", "é", "\t", "x", "  ", "(", ")", "ref ", "?",
            "\ufeff", "\u202e", "\x00", "// note\r\n", "policy Order {\n  read: nobody\n}\n",
            "command c v1 {\r\n  policy place_orders\r\n}\r\n", "\U0001d518\U0001d52b", "\n\n\n",
            "\u2028", "\x85", "\x0b"]
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def lsp_lines(text: str) -> list[tuple[int, str]]:
    """(offset, content without its end) of each line, as LSP counts lines."""
    lines = []
    for match in _LINE.finditer(text):
        lines.append((match.start(), match.group().rstrip("\r\n")))
    if not lines or text.endswith(("\n", "\r")):
        lines.append((len(text), ""))
    return lines


def offset(text: str, position: lsp.Position) -> int:
    """The code-point offset of a UTF-16 position, clamped (see the module docstring)."""
    lines = lsp_lines(text)
    if position.line >= len(lines):
        return len(text)
    start, content = lines[position.line]
    units = 0
    for k, char in enumerate(content):
        if units >= position.character:
            return start + k
        units += 2 if ord(char) > 0xFFFF else 1
    return start + len(content)


def random_position(text: str, rng: random.Random) -> lsp.Position:
    """Anywhere, including past the end of a line or of the text, and inside a pair."""
    lines = lsp_lines(text)
    line = rng.randrange(len(lines) + 2)
    width = len(lines[line][1].encode("utf-16-le")) // 2 if line < len(lines) else 0
    return lsp.Position(line=line, character=rng.randrange(width + 4))


def random_change(text: str, rng: random.Random) -> tuple[lsp.TextDocumentContentChangeEvent,
                                                          str]:
    """One change and the text after it."""
    if rng.random() < 0.03:
        new = text[: rng.randrange(len(text) + 1)] + rng.choice(SNIPPETS)
        return lsp.TextDocumentContentChangeWholeDocument(text=new), new
    start, end = random_position(text, rng), random_position(text, rng)
    if rng.random() < 0.5:
        end = start  # an insertion
    if offset(text, end) < offset(text, start) and rng.random() < 0.8:
        start, end = end, start  # else sent backwards: the server reorders it
    inserted = "" if rng.random() < 0.3 else "".join(
        rng.choice(SNIPPETS) for _ in range(rng.randint(1, 3)))
    a, b = sorted([offset(text, start), offset(text, end)])
    change = lsp.TextDocumentContentChangePartial(range=lsp.Range(start=start, end=end),
                                                  text=inserted)
    return change, text[:a] + inserted + text[b:]


def cli_diagnostics(root: Path) -> dict[str, list[tuple[Any, ...]]]:
    """`cspec check --format json` on a workspace, as LSP diagnostics per file URI."""
    result = subprocess.run([sys.executable, "-m", "contractspec.cli.main", "check", "--format",
                             "json", str(root)], capture_output=True, text=True, check=False,
                            cwd=root)
    assert result.returncode in (0, 1), result.stderr
    found: dict[str, list[tuple[Any, ...]]] = {}
    for d in json.loads(result.stdout)["diagnostics"]:
        path = root / d["file"]
        if not path.is_file():
            continue
        lines = path.read_text(encoding="utf-8").split("\n")

        def units(position: dict[str, int], lines: list[str] = lines) -> tuple[int, int]:
            line = lines[position["line"] - 1].rstrip("\r") if position["line"] <= len(
                lines) else ""
            return position["line"] - 1, len(
                line[: position["column"] - 1].encode("utf-16-le")) // 2

        message = d["message"] + (f"\nhelp: {d['help']}" if d.get("help") else "")
        key = (d["code"], d["severity"], message, units(d["range"]["start"]),
               units(d["range"]["end"]))
        found.setdefault(uri(path), []).append(key)
    return {k: sorted(v) for k, v in found.items()}


_SEVERITY = {lsp.DiagnosticSeverity.Error: "error", lsp.DiagnosticSeverity.Warning: "warning",
             lsp.DiagnosticSeverity.Information: "info", lsp.DiagnosticSeverity.Hint: "hint"}


def published(client: LanguageClient) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for document, items in client.diagnostics.items():
        keys = sorted((str(d.code), _SEVERITY[d.severity or lsp.DiagnosticSeverity.Error],
                       d.message, (d.range.start.line, d.range.start.character),
                       (d.range.end.line, d.range.end.character)) for d in items)
        if keys:
            out[document] = keys
    return out


async def settle_on(client: LanguageClient, expected: dict[str, list[tuple[Any, ...]]]) -> None:
    """Wait until the published diagnostics equal `expected` (a bound, not a timing)."""
    for _ in range(WAIT_STEPS):
        if published(client) == expected:
            return
        await asyncio.sleep(0.05)
    assert published(client) == expected


def reference(root: Path, files: dict[str, str], tmp_path: Path) -> dict[str, list[Any]]:
    """The CLI's diagnostics for `root` with `files` (relative path -> text) written, keyed
    by the URIs the server uses for `root`'s files."""
    copy = tmp_path / "reference"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy)
    for name, text in files.items():
        (copy / name).write_bytes(text.encode("utf-8"))
    return {k.replace(uri(copy), uri(root)): v for k, v in cli_diagnostics(copy).items()}


def workspace_copy(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(DATA / "lsp", root)
    return root


def hover_params(document: str, rng: random.Random) -> lsp.HoverParams:
    return lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=document),
                           position=lsp.Position(line=rng.randrange(40),
                                                 character=rng.randrange(40)))


async def answered(future: Any) -> None:
    """Wait (bounded) for the answer to a request: a result or an error, not silence."""
    try:
        await asyncio.wait_for(asyncio.wrap_future(future), 30)
    except TimeoutError:
        raise
    except Exception:  # an error answer (such as "request cancelled") is an answer
        return


@pytest.mark.asyncio
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_edits_with_cancelled_requests(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    root = workspace_copy(tmp_path)
    shop = root / "spec" / "shop.cspec"
    text = shop.read_text(encoding="utf-8")
    async with session(root) as client:
        document = open_document(client, shop, text)
        pending = []
        for version in range(2, 120):
            changes = []
            for _ in range(rng.choice([1, 1, 1, 2, 5])):
                change, text = random_change(text, rng)
                changes.append(change)
            client.text_document_did_change(lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=document,
                                                                  version=version),
                content_changes=changes))
            if rng.random() < 0.3:
                msg_id = f"chaos-{version}"
                pending.append(client.protocol.send_request(
                    lsp.TEXT_DOCUMENT_HOVER, hover_params(document, rng), msg_id=msg_id))
                if rng.random() < 0.7:
                    client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id=msg_id))
            if rng.random() < 0.1:
                await asyncio.sleep(0.02)  # let some analyses start
        for future in pending:
            await answered(future)
        await settle_on(client, reference(root, {"spec/shop.cspec": text}, tmp_path))
        symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
            text_document=lsp.TextDocumentIdentifier(uri=document)))
        assert symbols is not None
        assert client.error is None


@pytest.mark.asyncio
async def test_files_deleted_and_renamed_under_the_server(tmp_path: Path) -> None:
    root = workspace_copy(tmp_path)
    spec = root / "spec"
    async with session(root) as client:
        open_document(client, spec / "shop.cspec")
        await settle_on(client, reference(root, {}, tmp_path))
        steps: list[tuple[str, list[lsp.FileEvent]]] = [
            ("rename", [lsp.FileEvent(uri=uri(spec / "billing.cspec"),
                                      type=lsp.FileChangeType.Deleted),
                        lsp.FileEvent(uri=uri(spec / "invoices.cspec"),
                                      type=lsp.FileChangeType.Created)]),
            ("delete", [lsp.FileEvent(uri=uri(spec / "invoices.cspec"),
                                      type=lsp.FileChangeType.Deleted)]),
            ("folder", [lsp.FileEvent(uri=uri(spec / "more"), type=lsp.FileChangeType.Created)]),
            ("config", [lsp.FileEvent(uri=uri(root / "cspec.toml"),
                                      type=lsp.FileChangeType.Changed)]),
        ]
        for what, events in steps:
            if what == "rename":
                (spec / "billing.cspec").rename(spec / "invoices.cspec")
            elif what == "delete":
                (spec / "invoices.cspec").unlink()
            elif what == "folder":
                (spec / "more").mkdir()
                (spec / "more" / "extra.cspec").write_text(
                    "module extra\n\nentity Broken {\n  id: uuid @id\n  x: Nope\n}\n",
                    encoding="utf-8")
            else:
                (root / "cspec.toml").write_text("[workspace\n", encoding="utf-8")
            client.workspace_did_change_watched_files(
                lsp.DidChangeWatchedFilesParams(changes=events))
            if what != "config":  # a broken cspec.toml: the CLI stops, the server goes on
                await settle_on(client, reference(root, {}, tmp_path))
        hover = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri(spec / "shop.cspec")),
            position=lsp.Position(line=6, character=8)))
        assert hover is not None
        assert client.error is None


@pytest.mark.asyncio
async def test_half_a_surrogate_pair_in_a_buffer(tmp_path: Path) -> None:
    """JSON can carry a lone surrogate (`"\\ud83d"`), which no file can hold: the server
    reads it as `?` (as UTF-8 with replacement) and reports what the CLI says of that."""
    root = workspace_copy(tmp_path)
    shop = root / "spec" / "shop.cspec"
    text = shop.read_text(encoding="utf-8")
    async with session(root) as client:
        document = open_document(client, shop, text)
        where = lsp.Position(line=9, character=2)
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=document, version=2),
            content_changes=[lsp.TextDocumentContentChangePartial(
                range=lsp.Range(start=where, end=where), text="\ud83d")]))
        at = offset(text, where)
        replaced = text[:at] + "?" + text[at:]
        await settle_on(client, reference(root, {"spec/shop.cspec": replaced}, tmp_path))
        assert "CS101" in {str(d.code) for d in client.diagnostics[document]}
        assert client.error is None


@pytest.mark.parametrize(("text", "start", "end", "new", "expected", "encoding"), [
    ("ab\ncd\n", (0, 9), (1, 0), "X", "abXcd\n", "utf-16"),  # past the end of a line: its end
    ("ab\ncd", (7, 0), (9, 9), "X", "ab\ncdX", "utf-16"),  # past the last line
    ("}\n\nx", (0, 5), (2, 0), "", "}x", "utf-16"),  # the line end goes with the range
    ("a\u2028b\nc", (1, 0), (1, 0), "X", "a\u2028b\nXc", "utf-16"),  # not a line end in LSP
    ("a\rb\r\nc", (2, 0), (2, 0), "X", "a\rb\r\nXc", "utf-16"),  # a lone CR is one
    ("a😀b", (0, 2), (0, 2), "X", "a😀Xb", "utf-16"),  # half a pair: after it
    ("aé😀b", (0, 2), (0, 4), "", "aéb", "utf-8"),  # inside a UTF-8 sequence: after it
    ("abc", (0, 2), (0, 0), "X", "Xc", "utf-16"),  # backwards: reordered
])
def test_changes_are_applied_as_the_protocol_says(
        text: str, start: tuple[int, int], end: tuple[int, int], new: str, expected: str,
        encoding: str) -> None:
    """pygls put a position past the end of a line after the line end (the edit then ate
    the newline), counted U+2028 and friends as line ends, and duplicated text for a range
    given backwards: the server now applies changes itself."""
    change = lsp.TextDocumentContentChangePartial(
        range=lsp.Range(start=lsp.Position(*start), end=lsp.Position(*end)), text=new)
    assert apply_change(text, change, Positions(encoding)) == expected
