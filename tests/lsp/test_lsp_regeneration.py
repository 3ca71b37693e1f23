"""Regeneration preview over LSP: the code lens, the preview command on unsaved text, the
code actions on a declaration, the refusal on spec errors, and applying with and without
resource-operation support."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Union

import pytest
import pytest_asyncio
from lsprotocol import types as lsp
from pygls.uris import to_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient

from contractspec.generators.writer import read_manifest
from tests.lsp.conftest import (
    SERVER,
    capabilities,
    diagnostics,
    open_document,
    replace_text,
    workspace,
)
from tests.lsp.conftest import uri as uri_of

pytestmark = pytest.mark.asyncio

SHOP = """module shop version 1.0.0

/// Something we sell.
entity Product {
  id: uuid @id
  name: string(1..80)
  price: int
}
"""
WITH_SKU = SHOP.replace("  price: int\n", "  price: int\n  sku: string(1..20)\n")


async def start(root: Path, operations: list[lsp.ResourceOperationKind] | None
                ) -> tuple[LanguageClient, list[lsp.WorkspaceEdit]]:
    client = await ClientServerConfig(server_command=SERVER).start(devtools=None)
    received: list[lsp.WorkspaceEdit] = []
    # lsprotocol decodes a code action that has a command as a Command, losing its kind
    converter = client.protocol._converter
    converter.register_structure_hook(
        Union[lsp.Command, lsp.CodeAction],  # noqa: UP007 (the type lsprotocol dispatches on)
        lambda obj, _: converter.structure(obj, lsp.Command if isinstance(
            obj.get("command"), str) else lsp.CodeAction))

    @client.feature(lsp.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
        received.append(params.edit)
        _write(params.edit)  # what an editor does once the user saves
        return lsp.ApplyWorkspaceEditResult(applied=True)

    client_capabilities = capabilities()
    assert client_capabilities.workspace is not None
    client_capabilities.workspace.workspace_edit = lsp.WorkspaceEditClientCapabilities(
        document_changes=True, resource_operations=operations)
    await client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities, root_uri=root.resolve().as_uri(),
        initialization_options={"debounce": 0}))
    return client, received


def _write(edit: lsp.WorkspaceEdit) -> None:
    for change in edit.document_changes or []:
        if isinstance(change, lsp.CreateFile):
            path = Path(str(to_fs_path(change.uri)))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("", encoding="utf-8")
        elif isinstance(change, lsp.TextDocumentEdit):
            path = Path(str(to_fs_path(change.text_document.uri)))
            (edit_,) = change.edits
            assert isinstance(edit_, lsp.TextEdit)
            path.write_text(edit_.new_text, encoding="utf-8")


@pytest_asyncio.fixture
async def session(tmp_path: Path, request: pytest.FixtureRequest
                  ) -> AsyncIterator[tuple[LanguageClient, list[lsp.WorkspaceEdit], Path]]:
    root = workspace(tmp_path, {"shop.cspec": SHOP})
    client, received = await start(root, getattr(request, "param", None))
    try:
        yield client, received, root
        await client.shutdown_session()
    finally:
        server = client._server
        if server is not None and server.returncode is None:
            server.kill()
        await client.stop()


async def lens_titles(client: LanguageClient, document: str) -> list[str]:
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(
        text_document=lsp.TextDocumentIdentifier(uri=document)))
    return [lens.command.title for lens in lenses or [] if lens.command is not None
            and lens.command.title.startswith("Regenerate")]


async def command(client: LanguageClient, name: str, *args: Any) -> Any:
    return await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command=name, arguments=list(args)))


async def test_lens_preview_and_apply_through_the_writer(
        session: tuple[LanguageClient, list[lsp.WorkspaceEdit], Path]) -> None:
    client, received, root = session
    document = open_document(client, root / "spec" / "shop.cspec")
    await diagnostics(client, document)
    titles = await lens_titles(client, document)
    preview = await command(client, "cspec.previewRegeneration", document)
    count = len(preview["files"])
    assert count > 5 and titles == [f"Regenerate: {count} files change"]
    assert {f["status"] for f in preview["files"]} == {"added"}
    assert preview["summary"].startswith(f"{count} added, 0 changed, 0 removed")
    models = next(f for f in preview["files"] if f["path"].endswith("db/models.py"))
    assert models["added"] > 0 and models["removed"] == 0 and "+class Product" in models["diff"]

    applied = await command(client, "cspec.applyRegeneration")
    assert applied["via"] == "writer" and received == []
    out = root / "generated"
    assert {f["path"] for f in preview["files"]} == {
        str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()
        and ".cspec" not in p.parts}
    assert read_manifest(out).files
    assert await lens_titles(client, document) == ["Regenerate: up to date"]

    replace_text(client, document, WITH_SKU, 2)  # unsaved
    changed = await command(client, "cspec.previewRegeneration", document)
    added = [f["path"] for f in changed["files"] if f["status"] == "added"]
    assert {f["status"] for f in changed["files"]} == {"changed", "added"}
    assert len(added) == 1 and "/migrations/versions/0002_" in added[0]  # a new revision
    models = next(f for f in changed["files"] if f["path"].endswith("db/models.py"))
    assert "sku" in models["diff"] and models["added"] >= 1
    assert await lens_titles(client, document) == [
        f"Regenerate: {len(changed['files'])} file{'' if len(changed['files']) == 1 else 's'}"
        " change"]
    assert "sku" not in (root / "spec" / "shop.cspec").read_text(encoding="utf-8")


async def regeneration_actions(client: LanguageClient, document: str, line: int
                               ) -> list[lsp.CodeAction]:
    found = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=document),
        range=lsp.Range(start=lsp.Position(line=line, character=2),
                        end=lsp.Position(line=line, character=2)),
        context=lsp.CodeActionContext(diagnostics=[])))
    return [a for a in found or [] if isinstance(a, lsp.CodeAction)
            and "regeneration" in a.title]


async def test_code_actions_on_a_declaration(
        session: tuple[LanguageClient, list[lsp.WorkspaceEdit], Path]) -> None:
    client, received, root = session
    document = open_document(client, root / "spec" / "shop.cspec")
    await diagnostics(client, document)
    assert await regeneration_actions(client, document, 1) == []  # not in a declaration
    preview, apply_ = await regeneration_actions(client, document, 5)  # in `entity Product`
    count = len((await command(client, "cspec.previewRegeneration", document))["files"])
    assert (preview.title, preview.kind) == (
        f"Preview regeneration ({count} files change)", lsp.CodeActionKind.Source)
    assert (apply_.title, apply_.kind) == (
        f"Apply regeneration ({count} files change)", lsp.CodeActionKind.QuickFix)
    assert preview.command is not None and apply_.command is not None
    assert preview.command.command == "cspec.previewRegeneration"
    assert (await command(client, preview.command.command,
                          *preview.command.arguments or []))["files"]
    applied = await command(client, apply_.command.command, *apply_.command.arguments or [])
    assert applied["via"] == "writer" and len(applied["files"]) == count and received == []
    assert await regeneration_actions(client, document, 5) == []  # up to date
    assert await lens_titles(client, document) == ["Regenerate: up to date"]

    replace_text(client, document, WITH_SKU, 2)  # unsaved: the output would change again
    titles = [a.title for a in await regeneration_actions(client, document, 5)]
    assert titles and titles[0].startswith("Preview regeneration (")


async def test_spec_errors_refuse_clearly(
        session: tuple[LanguageClient, list[lsp.WorkspaceEdit], Path]) -> None:
    client, _, root = session
    document = open_document(client, root / "spec" / "shop.cspec",
                             SHOP.replace("price: int", "price: mony"))
    await diagnostics(client, document, {"CS201"})
    assert await lens_titles(client, document) == []
    assert await regeneration_actions(client, document, 5) == []
    for name in ("cspec.previewRegeneration", "cspec.applyRegeneration"):
        with pytest.raises(Exception, match="nothing to regenerate: the specs have 1 error"):
            await command(client, name, document)
    assert not (root / "generated").exists()


async def test_unknown_document_is_refused(
        session: tuple[LanguageClient, list[lsp.WorkspaceEdit], Path]) -> None:
    client, _, root = session
    with pytest.raises(Exception, match="not a spec file of the workspace"):
        await command(client, "cspec.previewRegeneration", uri_of(root / "nowhere.cspec"))


@pytest.mark.parametrize("session", [[lsp.ResourceOperationKind.Create,
                                      lsp.ResourceOperationKind.Delete]], indirect=True)
async def test_apply_as_a_workspace_edit(
        session: tuple[LanguageClient, list[lsp.WorkspaceEdit], Path]) -> None:
    client, received, root = session
    document = open_document(client, root / "spec" / "shop.cspec")
    await diagnostics(client, document)
    preview = await command(client, "cspec.previewRegeneration")
    applied = await command(client, "cspec.applyRegeneration", document)
    assert applied["via"] == "workspaceEdit"
    (edit,) = received
    operations = edit.document_changes or []
    created = {c.uri for c in operations if isinstance(c, lsp.CreateFile)}
    edited = {c.text_document.uri for c in operations if isinstance(c, lsp.TextDocumentEdit)}
    out = root / "generated"
    expected = {uri_of(out / f["path"]) for f in preview["files"]}
    assert created == edited == expected
    assert read_manifest(out).files  # recorded through the writer
    assert await lens_titles(client, document) == ["Regenerate: up to date"]
