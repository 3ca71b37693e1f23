"""The regeneration preview over LSP carries the plan of `cspec gen --plan` (`plan`), with
the options base, dialect and format; bad options are refused readably."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.lsp.conftest import diagnostics, open_document, replace_text, session, workspace

pytestmark = pytest.mark.asyncio

SHOP = """module shop version 1.0.0

/// Something we sell.
entity Product {
  id: uuid @id
  name: string(1..80)
}
"""


async def preview(client: LanguageClient, *args: Any) -> Any:
    return await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="cspec.previewRegeneration", arguments=list(args)))


async def test_preview_returns_the_plan(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"shop.cspec": SHOP})
    async with session(root) as client:
        document = open_document(client, root / "spec" / "shop.cspec")
        await diagnostics(client, document)
        replace_text(client, document, SHOP.replace("  name: string(1..80)\n",
                                                    "  name: string(1..80)\n  sku: string?\n"), 2)
        text = await preview(client, document)
        assert text["files"] and text["summary"]
        assert text["plan"].startswith("== Spec changes ==\nspec diff: give --base REF")
        assert "+    sku: Mapped[str | None]" in text["plan"]
        assert "CREATE TABLE shop_product (" in text["plan"]
        assert "sku TEXT" in text["plan"]  # the unsaved text is what is planned
        markdown = await preview(client, {"dialect": "postgresql", "format": "markdown"},
                                 document)
        assert "## Migration SQL (postgresql)" in markdown["plan"]
        assert "id UUID NOT NULL" in markdown["plan"]
        for options, message in (({"dialect": "mysql"}, "unknown dialect 'mysql'"),
                                 ({"format": "html"}, "unknown plan format 'html'"),
                                 ({"base": 3}, "are strings"),
                                 ({"base": "no-such-ref"}, "no-such-ref")):
            with pytest.raises(Exception, match=message):
                await preview(client, document, options)
