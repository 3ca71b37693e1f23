"""Helpers for the end-to-end tests: a real `cspec lsp` process driven by pytest-lsp."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER = [sys.executable, "-m", "contractspec.cli.main", "lsp"]
DATA = Path(__file__).resolve().parent.parent / "data"
WAIT_STEPS = 600  # polls of 50 ms: a bound, not a timing assertion


def capabilities(encodings: Sequence[str] | None = None, pull: bool = False,
                 snippets: bool = True) -> lsp.ClientCapabilities:
    return lsp.ClientCapabilities(
        general=lsp.GeneralClientCapabilities(position_encodings=list(encodings))
        if encodings else None,
        text_document=lsp.TextDocumentClientCapabilities(
            completion=lsp.CompletionClientCapabilities(
                completion_item=lsp.ClientCompletionItemOptions(
                    snippet_support=snippets, documentation_format=[lsp.MarkupKind.Markdown])),
            hover=lsp.HoverClientCapabilities(content_format=[lsp.MarkupKind.Markdown]),
            document_symbol=lsp.DocumentSymbolClientCapabilities(
                hierarchical_document_symbol_support=True),
            diagnostic=lsp.DiagnosticClientCapabilities() if pull else None,
            publish_diagnostics=lsp.PublishDiagnosticsClientCapabilities(
                related_information=True),
            rename=lsp.RenameClientCapabilities(prepare_support=True),
            code_action=lsp.CodeActionClientCapabilities(
                code_action_literal_support=lsp.ClientCodeActionLiteralOptions(
                    code_action_kind=lsp.ClientCodeActionKindOptions(
                        value_set=[lsp.CodeActionKind.QuickFix]))),
        ),
        workspace=lsp.WorkspaceClientCapabilities(
            did_change_watched_files=lsp.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=True),
            workspace_edit=lsp.WorkspaceEditClientCapabilities(document_changes=False),
        ),
    )


@asynccontextmanager
async def session(root: Path, *, encodings: Sequence[str] | None = None, pull: bool = False,
                  snippets: bool = True, debounce: int = 0) -> AsyncIterator[LanguageClient]:
    """A server started on `root`, initialised, and shut down at the end."""
    client = await ClientServerConfig(server_command=SERVER).start(devtools=None)
    try:
        result = await client.initialize_session(lsp.InitializeParams(
            capabilities=capabilities(encodings, pull, snippets),
            root_uri=root.resolve().as_uri(),
            initialization_options={"debounce": debounce},
        ))
        client.server_info = result  # type: ignore[attr-defined]
        yield client
        await client.shutdown_session()
    finally:
        server = client._server
        if server is not None and server.returncode is None:
            server.kill()  # a failed test: do not wait for a polite exit
        await client.stop()


def workspace(tmp_path: Path, files: dict[str, str]) -> Path:
    """A workspace in `tmp_path`: a cspec.toml and the given spec files under spec/."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "cspec.toml").write_text('[workspace]\nspecs = ["spec"]\n', encoding="utf-8")
    for name, text in files.items():
        path = tmp_path / "spec" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def full_workspace(tmp_path: Path) -> Path:
    target = tmp_path / "full"
    shutil.copytree(DATA / "full", target)
    return target


def uri(path: Path) -> str:
    return path.resolve().as_uri()


def open_document(client: LanguageClient, path: Path, text: str | None = None,
                  version: int = 1) -> str:
    document = uri(path)
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(
            uri=document, language_id="cspec", version=version,
            text=path.read_text(encoding="utf-8") if text is None else text)))
    return document


def replace_text(client: LanguageClient, document: str, text: str, version: int) -> None:
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=document, version=version),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))


async def diagnostics(client: LanguageClient, document: str,
                      codes: set[str] | None = None) -> list[lsp.Diagnostic]:
    """The diagnostics published for `document` (once they hold all of `codes`, if given)."""
    for _ in range(WAIT_STEPS):
        found = client.diagnostics.get(document)
        if found is not None and (codes is None or codes <= {str(d.code) for d in found}):
            return list(found)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no diagnostics for {document}: {client.diagnostics.get(document)}")


async def settle(client: LanguageClient, document: str, expected: set[str]) -> list[str]:
    """Wait until the codes published for `document` are exactly `expected`."""
    codes: list[str] = []
    for _ in range(WAIT_STEPS):
        codes = sorted(str(d.code) for d in client.diagnostics.get(document, []))
        if set(codes) == expected and (document in client.diagnostics):
            return codes
        await asyncio.sleep(0.05)
    raise AssertionError(f"diagnostics of {document} are {codes}, not {sorted(expected)}")


def count_publishes(client: LanguageClient, document: str) -> list[int]:
    """A list that grows by the number of diagnostics at each publish for `document`."""
    features = client.protocol.fm.features
    original = features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]
    counts: list[int] = []

    def counting(params: lsp.PublishDiagnosticsParams) -> None:
        if params.uri == document:
            counts.append(len(params.diagnostics))
        original(params)

    features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = counting
    return counts


def position(text: str, needle: str, shift: int = 0, encoding: str = "utf-16") -> lsp.Position:
    """The LSP position of `needle` (plus `shift` code points) in `text`."""
    offset = text.index(needle) + shift
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    prefix = text[start:offset]
    if encoding == "utf-8":
        units = len(prefix.encode("utf-8"))
    elif encoding == "utf-32":
        units = len(prefix)
    else:
        units = len(prefix.encode("utf-16-le")) // 2
    return lsp.Position(line=line, character=units)
