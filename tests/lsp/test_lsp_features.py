"""Editor features over LSP, against one server on the shop workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from contractspec.format import format_text
from contractspec.workspace.loader import STD_DIR
from tests.lsp.conftest import (
    DATA,
    diagnostics,
    open_document,
    position,
    replace_text,
    session,
    settle,
    uri,
    workspace,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

SHOP = (DATA / "lsp" / "spec" / "shop.cspec").read_text(encoding="utf-8")
BILLING = (DATA / "lsp" / "spec" / "billing.cspec").read_text(encoding="utf-8")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return workspace(tmp_path_factory.mktemp("shop"), {"shop.cspec": SHOP,
                                                       "billing.cspec": BILLING})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(root: Path) -> AsyncIterator[LanguageClient]:
    async with session(root) as started:
        open_document(started, root / "spec" / "shop.cspec")
        open_document(started, root / "spec" / "billing.cspec")
        await diagnostics(started, uri(root / "spec" / "shop.cspec"), {"CS201"})
        yield started


def doc(root: Path, name: str) -> lsp.TextDocumentIdentifier:
    return lsp.TextDocumentIdentifier(uri=uri(root / "spec" / name))


async def test_hover(client: LanguageClient, root: Path) -> None:
    result = await client.text_document_hover_async(lsp.HoverParams(
        text_document=doc(root, "shop.cspec"), position=position(SHOP, "command placeOrder", 9)))
    assert result is not None and isinstance(result.contents, lsp.MarkupContent)
    assert result.contents.kind == lsp.MarkupKind.Markdown
    assert "command placeOrder v1 {" in result.contents.value
    assert "Allowed for `admin`, `member`" in result.contents.value
    assert result.range == lsp.Range(position(SHOP, "placeOrder"),
                                     position(SHOP, "placeOrder", 10))
    std = await client.text_document_hover_async(lsp.HoverParams(
        text_document=doc(root, "shop.cspec"), position=position(SHOP, "identity.User", 10)))
    assert std is not None and isinstance(std.contents, lsp.MarkupContent)
    assert "standard library module `identity`" in std.contents.value


async def test_completion_on_a_half_typed_line(client: LanguageClient, root: Path) -> None:
    text = BILLING.replace("  order: ref Order\n", "  order: ref Order\n  payer: ref \n")
    document = uri(root / "spec" / "billing.cspec")
    replace_text(client, document, text, 2)
    result = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=doc(root, "billing.cspec"), position=position(text, "payer: ref ", 11)))
    assert isinstance(result, lsp.CompletionList)
    assert {"identity", "shop", "Order", "User", "Org"} <= {i.label for i in result.items}
    text = text.replace("payer: ref ", "payer: ref Or")
    replace_text(client, document, text, 3)
    result = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=doc(root, "billing.cspec"), position=position(text, "ref Or", 6)))
    assert isinstance(result, lsp.CompletionList)
    order = next(i for i in result.items if i.label == "Order")
    assert isinstance(order.text_edit, lsp.TextEdit)
    assert order.text_edit.range == lsp.Range(position(text, "ref Or", 4),
                                              position(text, "ref Or", 6))
    replace_text(client, document, BILLING, 4)


async def test_snippet_completion(client: LanguageClient, root: Path) -> None:
    result = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=doc(root, "shop.cspec"), position=lsp.Position(line=40, character=0)))
    assert isinstance(result, lsp.CompletionList)
    entity = next(i for i in result.items if i.label == "entity"
                  and i.kind == lsp.CompletionItemKind.Snippet)
    assert entity.insert_text_format == lsp.InsertTextFormat.Snippet
    assert isinstance(entity.text_edit, lsp.TextEdit)
    assert entity.text_edit.new_text.startswith("entity ${1:Name} {")


async def test_definition_in_the_workspace_and_in_the_std_library(client: LanguageClient,
                                                                  root: Path) -> None:
    found = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=doc(root, "billing.cspec"), position=position(BILLING, "ref Order", 5)))
    assert isinstance(found, list) and len(found) == 1
    assert found[0].uri == uri(root / "spec" / "shop.cspec")
    assert found[0].range.start == position(SHOP, "entity Order", 7)
    std = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=doc(root, "shop.cspec"), position=position(SHOP, "identity.Org", 10)))
    assert isinstance(std, list) and std[0].uri == (STD_DIR / "identity.cspec").as_uri()
    text = (STD_DIR / "identity.cspec").read_text(encoding="utf-8")
    assert std[0].range.start == position(text, "entity Org", 7)


async def test_references_and_highlight(client: LanguageClient, root: Path) -> None:
    refs = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=doc(root, "shop.cspec"), position=position(SHOP, "entity Order", 8),
        context=lsp.ReferenceContext(include_declaration=True)))
    assert refs is not None
    assert {r.uri for r in refs} == {uri(root / "spec" / "shop.cspec"),
                                     uri(root / "spec" / "billing.cspec")}
    assert len(refs) == 5  # declaration, policy, output, payload, billing
    marks = await client.text_document_document_highlight_async(lsp.DocumentHighlightParams(
        text_document=doc(root, "shop.cspec"), position=position(SHOP, "place_orders", 1)))
    assert marks is not None
    assert [m.kind for m in marks].count(lsp.DocumentHighlightKind.Write) == 1
    assert len(marks) == 6


async def test_rename_and_prepare_rename(client: LanguageClient, root: Path) -> None:
    prepared = await client.text_document_prepare_rename_async(lsp.PrepareRenameParams(
        text_document=doc(root, "billing.cspec"), position=position(BILLING, "ref Order", 6)))
    assert isinstance(prepared, lsp.PrepareRenamePlaceholder)
    assert prepared.placeholder == "Order"
    edit = await client.text_document_rename_async(lsp.RenameParams(
        text_document=doc(root, "billing.cspec"), position=position(BILLING, "ref Order", 6),
        new_name="Purchase"))
    assert edit is not None and edit.changes is not None
    assert len(edit.changes[uri(root / "spec" / "shop.cspec")]) == 4
    assert len(edit.changes[uri(root / "spec" / "billing.cspec")]) == 1
    with pytest.raises(Exception, match="standard library"):
        await client.text_document_prepare_rename_async(lsp.PrepareRenameParams(
            text_document=doc(root, "shop.cspec"), position=position(SHOP, "identity.Org", 10)))
    with pytest.raises(Exception, match="nothing to rename"):
        await client.text_document_prepare_rename_async(lsp.PrepareRenameParams(
            text_document=doc(root, "shop.cspec"), position=position(SHOP, "entity Order", 2)))
    with pytest.raises(Exception, match="keyword"):
        await client.text_document_rename_async(lsp.RenameParams(
            text_document=doc(root, "shop.cspec"), position=position(SHOP, "entity Order", 8),
            new_name="entity"))


async def test_document_and_workspace_symbols(client: LanguageClient, root: Path) -> None:
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        text_document=doc(root, "shop.cspec")))
    assert symbols is not None
    outline = {s.name: s for s in symbols if isinstance(s, lsp.DocumentSymbol)}
    assert {"shop", "Order", "place_orders", "placeOrder", "order.placed"} <= set(outline)
    assert outline["Order"].kind == lsp.SymbolKind.Class
    assert [c.name for c in outline["Order"].children or []][:2] == ["id", "org"]
    found = await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="Invo"))
    assert found is not None
    assert [s.name for s in found][:1] == ["Invoice"]


async def test_folding_and_semantic_tokens(client: LanguageClient, root: Path) -> None:
    folds = await client.text_document_folding_range_async(lsp.FoldingRangeParams(
        text_document=doc(root, "shop.cspec")))
    assert folds is not None
    order_line = position(SHOP, "entity Order").line
    assert any(f.start_line == order_line and f.kind == lsp.FoldingRangeKind.Region
               for f in folds)
    tokens = await client.text_document_semantic_tokens_full_async(lsp.SemanticTokensParams(
        text_document=doc(root, "shop.cspec")))
    assert tokens is not None and len(tokens.data) % 5 == 0 and tokens.data
    legend = client.server_info.capabilities.semantic_tokens_provider.legend  # type: ignore[attr-defined]
    line = col = 0
    decoded = []
    for k in range(0, len(tokens.data), 5):
        delta_line, delta_col, length, kind, _ = tokens.data[k:k + 5]
        line += delta_line
        col = col + delta_col if delta_line == 0 else delta_col
        decoded.append((line, col, length, legend.token_types[kind]))
    start = position(SHOP, "entity Order", 7)
    assert (start.line, start.character, 5, "class") in decoded


async def test_formatting(client: LanguageClient, root: Path) -> None:
    messy = BILLING.replace("entity Invoice {", "entity   Invoice{").replace("  id:", "      id:")
    document = uri(root / "spec" / "billing.cspec")
    replace_text(client, document, messy, 10)
    edits = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        text_document=doc(root, "billing.cspec"),
        options=lsp.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert edits is not None and len(edits) == 1
    assert edits[0].new_text == format_text(messy, "spec/billing.cspec")
    assert edits[0].range.start == lsp.Position(line=0, character=0)
    replace_text(client, document, BILLING, 11)
    again = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        text_document=doc(root, "billing.cspec"),
        options=lsp.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert not again


async def test_code_lens_and_who_can_do_what(client: LanguageClient, root: Path) -> None:
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(
        text_document=doc(root, "shop.cspec")))
    assert lenses is not None and len(lenses) == 1
    command = lenses[0].command
    assert command is not None and command.title == "Who can do what"
    result = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command=command.command, arguments=command.arguments))
    assert result["module"] == "shop"
    assert result["roles"] == ["owner", "admin", "member", "operator"]  # `identity`'s roles
    rows = {r["name"]: r["access"] for r in result["rows"]}
    assert rows["placeOrder v1"] == {"owner": "no", "admin": "yes", "member": "yes",
                                     "operator": "no"}
    assert rows["Order: update"]["owner"] == "conditional"
    assert "| command `placeOrder v1` |" in result["markdown"]
    assert any("Who can do what in shop" in m.message for m in client.messages)


FIX_CASES = [
    ("fix_replace", "module fix_replace\n\nentity A {\n  id: uuid @id\n  n: strng\n}\n",
     "CS201", "Replace with `string`"),
    ("fix_permission", "module fix_permission\n\nuse identity\n\ncommand c v1 {\n"
     "  policy do_things\n}\n", "CS310", "Declare permission `do_things`"),
    ("fix_event", "module fix_event\n\nuse identity\n\npermission p\n\ngrant admin: p\n\n"
     "command c v1 {\n  policy p\n  emits thing.done\n}\n", "CS201", "Declare event `thing.done`"),
    ("fix_use", "module fix_use\n\nentity A {\n  id: uuid @id\n  u: ref User\n}\n", "CS201",
     "Add `use identity`"),
    ("fix_policy", "module fix_policy\n\nuse identity\n\npermission p\n\ngrant admin: p\n\n"
     "command c v1 {\n}\n", "CS323", "Add `policy authenticated`"),
    ("fix_header", "enum Color {\n  red\n}\n", "CS115", "Insert `module fix_header`"),
    ("fix_module", "module fix_module\n\nuse identiti\n", "CS210", "Replace with `identity`"),
    ("fix_suppression", "module fix_suppression\n\n// cspec-ignore CS301: nothing\n"
     "enum Color {\n  red\n}\n", "CS121", "Remove the unused suppression"),
    ("fix_member", "module fix_member\n\nevent e.x v1 {\n  retention 3d\n  retention 4d\n}\n",
     "CS102", "Remove the repeated member"),
    ("fix_retention", "module fix_retention\n\nevent e.x v1 {\n  payload {\n"
     "    mail: email @pii\n  }\n}\n", "CS502", "Add `retention 365d`"),
]


@pytest.mark.parametrize(("name", "text", "code", "title"), FIX_CASES,
                         ids=[c[0] for c in FIX_CASES])
async def test_code_action_fixes(client: LanguageClient, root: Path, name: str, text: str,
                                 code: str, title: str) -> None:
    path = root / "spec" / f"{name}.cspec"
    document = open_document(client, path, text)
    found = await diagnostics(client, document, {code})
    target = next(d for d in found if d.code == code)
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=document), range=target.range,
        context=lsp.CodeActionContext(diagnostics=[target])))
    assert actions is not None
    action = next((a for a in actions if isinstance(a, lsp.CodeAction) and a.title == title),
                  None)
    assert action is not None, [a.title for a in actions]
    assert action.kind == lsp.CodeActionKind.QuickFix
    assert action.diagnostics and action.diagnostics[0].code == code
    assert action.edit is not None and action.edit.changes is not None
    fixed = _apply(text, action.edit.changes[document])
    replace_text(client, document, fixed, 2)
    for _ in range(600):
        codes = {str(d.code) for d in client.diagnostics.get(document, [])}
        if code not in codes:
            break
        await _sleep()
    assert code not in {str(d.code) for d in client.diagnostics.get(document, [])}, fixed
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(
        text_document=lsp.TextDocumentIdentifier(uri=document)))
    await settle(client, document, set())


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.05)


def _apply(text: str, edits: list[lsp.TextEdit]) -> str:
    lines = text.split("\n")

    def offset(p: lsp.Position) -> int:
        return sum(len(x) + 1 for x in lines[:p.line]) + p.character  # ASCII test texts

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text
