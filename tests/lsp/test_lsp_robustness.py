"""Never crash, never hang: unknown files, out-of-range positions, huge files, failures."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from contractspec.server import create_server
from tests.lsp.conftest import DATA, diagnostics, open_document, session, uri, workspace

SHOP = (DATA / "lsp" / "spec" / "shop.cspec").read_text(encoding="utf-8")
FAR = lsp.Position(line=1_000_000, character=1_000_000)


@pytest.mark.asyncio
async def test_unknown_files_and_out_of_range_positions(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"shop.cspec": SHOP})
    async with session(root) as client:
        shop = open_document(client, root / "spec" / "shop.cspec")
        await diagnostics(client, shop, {"CS201"})
        for document in (uri(tmp_path / "nowhere.cspec"), "untitled:Untitled-1", shop):
            ident = lsp.TextDocumentIdentifier(uri=document)
            hover = await client.text_document_hover_async(lsp.HoverParams(
                text_document=ident, position=FAR))
            assert hover is None
            found = await client.text_document_definition_async(lsp.DefinitionParams(
                text_document=ident, position=FAR))
            assert not found
            refs = await client.text_document_references_async(lsp.ReferenceParams(
                text_document=ident, position=FAR,
                context=lsp.ReferenceContext(include_declaration=True)))
            assert not refs
            completion = await client.text_document_completion_async(lsp.CompletionParams(
                text_document=ident, position=FAR))
            assert isinstance(completion, lsp.CompletionList)
            actions = await client.text_document_code_action_async(lsp.CodeActionParams(
                text_document=ident, range=lsp.Range(FAR, FAR),
                context=lsp.CodeActionContext(diagnostics=[])))
            assert not actions
        unknown = lsp.TextDocumentIdentifier(uri=uri(tmp_path / "nowhere.cspec"))
        assert await client.text_document_document_symbol_async(
            lsp.DocumentSymbolParams(text_document=unknown)) in ([], (), None)
        tokens = await client.text_document_semantic_tokens_full_async(
            lsp.SemanticTokensParams(text_document=unknown))
        assert tokens is not None and not tokens.data
        assert client.error is None


@pytest.mark.asyncio
async def test_huge_file(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"shop.cspec": SHOP})
    huge = root / "spec" / "huge.cspec"
    text = "module huge\n" + "// filler line of a generated file\n" * 180_000
    async with session(root) as client:
        document = open_document(client, huge, text)
        found = await diagnostics(client, document, {"CS113"})
        assert [d.code for d in found] == ["CS113"]
        hover = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=document),
            position=lsp.Position(line=0, character=2)))
        assert hover is None
        symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
            text_document=lsp.TextDocumentIdentifier(uri=document)))
        assert not symbols


@pytest.mark.asyncio
async def test_errors_the_user_can_act_on_are_json_rpc_errors(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"shop.cspec": SHOP})
    async with session(root) as client:
        open_document(client, root / "spec" / "shop.cspec")
        with pytest.raises(Exception, match="needs the URI of a spec file"):
            await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
                command="cspec.whoCanDoWhat", arguments=[]))
        with pytest.raises(Exception, match="not a valid name"):
            await client.text_document_rename_async(lsp.RenameParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri(root / "spec" / "shop.cspec")),
                position=lsp.Position(line=6, character=8), new_name="no way"))
        # the server is still there
        hover = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri(root / "spec" / "shop.cspec")),
            position=lsp.Position(line=6, character=8)))
        assert hover is not None


@pytest.mark.asyncio
async def test_unexpected_failures_are_logged_and_answered_empty() -> None:
    server = create_server()
    logged: list[str] = []
    server.log = lambda message, kind=lsp.MessageType.Log: logged.append(message)  # type: ignore[method-assign]

    async def broken() -> list[int]:
        raise KeyError("boom")

    assert await server.guarded("hover", [], broken) == []
    assert "hover failed" in logged[0] and "KeyError: 'boom'" in logged[0]


@pytest.mark.asyncio
async def test_tcp(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "contractspec.cli.main", "lsp", "--tcp", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        reader = writer = None
        for _ in range(200):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        assert reader is not None and writer is not None
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}}).encode()
        writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        headers = await reader.readuntil(b"\r\n\r\n")
        length = int(headers.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        reply = json.loads(await reader.readexactly(length))
        assert reply["id"] == 1
        assert reply["result"]["serverInfo"]["name"] == "cspec"
        writer.close()
    finally:
        process.kill()
        process.wait()


def test_bad_tcp_address_is_a_usage_error() -> None:
    result = subprocess.run([sys.executable, "-m", "contractspec.cli.main", "lsp", "--tcp",
                             "nowhere"], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "HOST:PORT" in result.stderr
