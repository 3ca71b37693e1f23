"""`cspec.whoCanDoWhat` with `{"showMessage": false}`: the VS Code extension shows the matrix
as a table, so the server sends the answer without its plain-text message."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.lsp.conftest import DATA, session, uri, workspace

pytestmark = pytest.mark.asyncio

SHOP = (DATA / "lsp" / "spec" / "shop.cspec").read_text(encoding="utf-8")


def _matrix_messages(messages: list[lsp.ShowMessageParams]) -> int:
    return sum("Who can do what in shop" in m.message for m in messages)


async def test_who_can_do_what_without_message(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"shop.cspec": SHOP})
    async with session(root) as client:
        target = uri(root / "spec" / "shop.cspec")
        quiet = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="cspec.whoCanDoWhat", arguments=[target, {"showMessage": False}]))
        assert quiet["module"] == "shop"
        assert "| command `placeOrder v1` |" in quiet["markdown"]
        assert _matrix_messages(client.messages) == 0
        # The message precedes the answer on the wire: by now it would be there.
        loud = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="cspec.whoCanDoWhat", arguments=[target]))
        assert loud == quiet
        assert _matrix_messages(client.messages) == 1
