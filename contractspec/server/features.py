"""The LSP features: thin handlers that convert positions, ask the IDE layer, convert back.

Every request handler goes through `CspecServer.guarded`: an unexpected failure is logged
with `window/logMessage` and answered with an empty result; a request the user can act on
(a rename that cannot be done) gets a JSON-RPC error with a readable message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lsprotocol import types as lsp

from contractspec.format import FormatError, format_text
from contractspec.ide import actions, completion, hover, navigation, outline, tokens
from contractspec.ide.access import access_matrix
from contractspec.ide.world import World
from contractspec.server import regen
from contractspec.server.app import CspecServer, request_failed
from contractspec.source import SourceFile, Span

WHO_CAN_DO_WHAT = "cspec.whoCanDoWhat"
COMPLETION_KINDS = {
    "keyword": lsp.CompletionItemKind.Keyword, "snippet": lsp.CompletionItemKind.Snippet,
    "entity": lsp.CompletionItemKind.Class, "type": lsp.CompletionItemKind.Struct,
    "enum": lsp.CompletionItemKind.Enum, "field": lsp.CompletionItemKind.Field,
    "state": lsp.CompletionItemKind.EnumMember, "enum_value": lsp.CompletionItemKind.EnumMember,
    "permission": lsp.CompletionItemKind.Constant, "role": lsp.CompletionItemKind.Constant,
    "command": lsp.CompletionItemKind.Function, "query": lsp.CompletionItemKind.Function,
    "event": lsp.CompletionItemKind.Event, "job": lsp.CompletionItemKind.Function,
    "module": lsp.CompletionItemKind.Module, "attribute": lsp.CompletionItemKind.Property,
    "scalar": lsp.CompletionItemKind.TypeParameter,
    "builtin": lsp.CompletionItemKind.Variable,
}
SYMBOL_KINDS = {
    "module": lsp.SymbolKind.Module, "entity": lsp.SymbolKind.Class,
    "type": lsp.SymbolKind.Struct, "enum": lsp.SymbolKind.Enum,
    "enum_value": lsp.SymbolKind.EnumMember, "field": lsp.SymbolKind.Field,
    "permission": lsp.SymbolKind.Constant, "role": lsp.SymbolKind.Constant,
    "command": lsp.SymbolKind.Function, "query": lsp.SymbolKind.Function,
    "event": lsp.SymbolKind.Event, "workflow": lsp.SymbolKind.Class,
    "transition": lsp.SymbolKind.Method, "job": lsp.SymbolKind.Function,
    "error": lsp.SymbolKind.EnumMember, "use": lsp.SymbolKind.Namespace,
}
FOLD_KINDS = {"comment": lsp.FoldingRangeKind.Comment, "imports": lsp.FoldingRangeKind.Imports,
              "region": lsp.FoldingRangeKind.Region}
MAX_DOCUMENTED_ITEMS = 100  # beyond, items go without their doc comments (smaller replies)
_PLACEHOLDER = re.compile(r"\$\{\d+(?::([^}]*))?\}|\$\{\d+\|([^,|]*)[^}]*\}|\$\d+")


def register(server: CspecServer) -> None:
    """Attach every feature to `server`."""
    _lifecycle(server)
    _documents(server)
    _diagnostics(server)
    _reading(server)
    _editing(server)
    regen.register(server)


# ---- lifecycle --------------------------------------------------------------------------

def _lifecycle(server: CspecServer) -> None:
    @server.feature(lsp.INITIALIZE)
    def initialize(ls: CspecServer, params: lsp.InitializeParams) -> None:
        ls.configure(params)

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: CspecServer, params: lsp.InitializedParams) -> None:
        if ls.host.problem:
            ls.window_show_message(lsp.ShowMessageParams(
                type=lsp.MessageType.Warning, message=f"cspec: {ls.host.problem}"))
        await _watch_files(ls)
        ls.changed()

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: CspecServer, params: None) -> None:
        ls.shutdown_workers()


async def _watch_files(ls: CspecServer) -> None:
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if watched is None or not watched.dynamic_registration:
        return
    options = lsp.DidChangeWatchedFilesRegistrationOptions(watchers=[
        lsp.FileSystemWatcher(glob_pattern="**/*.cspec"),
        lsp.FileSystemWatcher(glob_pattern="**/cspec.toml"),
    ])
    try:
        await ls.client_register_capability_async(lsp.RegistrationParams(registrations=[
            lsp.Registration(id="cspec-files", method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                             register_options=options)]))
    except Exception as error:  # the client said no: edits in the editor still work
        ls.log(f"cspec: cannot watch files: {error}")


# ---- documents --------------------------------------------------------------------------

def _documents(server: CspecServer) -> None:
    def sync(ls: CspecServer, uri: str) -> None:
        name = ls.paths.name(uri)
        if name is None or not name.endswith(".cspec"):
            return
        ls.host.set_text(name, ls.workspace.get_text_document(uri).source)
        ls.changed()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CspecServer, params: lsp.DidOpenTextDocumentParams) -> None:
        sync(ls, params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CspecServer, params: lsp.DidChangeTextDocumentParams) -> None:
        sync(ls, params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CspecServer, params: lsp.DidCloseTextDocumentParams) -> None:
        name = ls.paths.name(params.text_document.uri)
        if name is not None:
            ls.host.close(name)
            ls.changed()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_files(ls: CspecServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        ls.host.reload()
        ls.changed()


# ---- diagnostics ------------------------------------------------------------------------

def _diagnostics(server: CspecServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DIAGNOSTIC, lsp.DiagnosticOptions(
        inter_file_dependencies=True, workspace_diagnostics=True, identifier="cspec"))
    async def document_diagnostic(ls: CspecServer, params: lsp.DocumentDiagnosticParams
                                  ) -> lsp.RelatedFullDocumentDiagnosticReport:
        async def work() -> lsp.RelatedFullDocumentDiagnosticReport:
            world = await ls.analysed()
            name = ls.paths.name(params.text_document.uri)
            items = ls.lsp_diagnostics(world, name) if name else []
            return lsp.RelatedFullDocumentDiagnosticReport(items=items)
        return await ls.guarded("diagnostics", lsp.RelatedFullDocumentDiagnosticReport(items=[]),
                                work)

    @server.feature(lsp.WORKSPACE_DIAGNOSTIC)
    async def workspace_diagnostic(ls: CspecServer, params: lsp.WorkspaceDiagnosticParams
                                   ) -> lsp.WorkspaceDiagnosticReport:
        async def work() -> lsp.WorkspaceDiagnosticReport:
            world = await ls.analysed()
            reports: list[lsp.WorkspaceDocumentDiagnosticReport] = [
                lsp.WorkspaceFullDocumentDiagnosticReport(
                    uri=ls.paths.uri(name), items=ls.lsp_diagnostics(world, name))
                for name in world.analysis.sources if not name.startswith("<std>/")]
            return lsp.WorkspaceDiagnosticReport(items=reports)
        return await ls.guarded("workspace diagnostics", lsp.WorkspaceDiagnosticReport(items=[]),
                                work)


# ---- reading: hover, completion, navigation, symbols ------------------------------------

def _reading(server: CspecServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: CspecServer, params: lsp.HoverParams) -> lsp.Hover | None:
        async def work() -> lsp.Hover | None:
            world, name, source, offset = await _at(ls, params.text_document.uri,
                                                    params.position)
            if source is None:
                return None
            found = hover.hover(world, name, offset)
            if found is None:
                return None
            return lsp.Hover(contents=_markup(ls, found.markdown, "hover"),
                             range=ls.positions.range(source, found.span))
        return await ls.guarded("hover", None, work)

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                    lsp.CompletionOptions(trigger_characters=[".", "@"]))
    async def on_completion(ls: CspecServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        async def work() -> lsp.CompletionList:
            world, name, source, offset = await _at(ls, params.text_document.uri,
                                                    params.position)
            if source is None:
                return lsp.CompletionList(is_incomplete=False, items=[])
            snippets = _snippets_supported(ls)
            found = completion.complete(world, name, offset)
            ranges: dict[int, lsp.Range] = {}  # items share the span of the typed word
            for item in found:
                if item.replace is not None and id(item.replace) not in ranges:
                    ranges[id(item.replace)] = ls.positions.range(source, item.replace)
            docs = len(found) <= MAX_DOCUMENTED_ITEMS
            items = [_completion_item(ls, item, snippets, ranges, docs) for item in found]
            return lsp.CompletionList(is_incomplete=False, items=items)
        return await ls.guarded("completion", lsp.CompletionList(is_incomplete=False, items=[]),
                                work)

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    async def on_definition(ls: CspecServer, params: lsp.DefinitionParams
                            ) -> list[lsp.Location]:
        async def work() -> list[lsp.Location]:
            world, name, source, offset = await _at(ls, params.text_document.uri,
                                                    params.position)
            target = navigation.definition(world, name, offset) if source else None
            return [_location(ls, world, target.span)] if target else []
        return await ls.guarded("definition", [], work)

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    async def on_references(ls: CspecServer, params: lsp.ReferenceParams
                            ) -> list[lsp.Location]:
        async def work() -> list[lsp.Location]:
            world, name, source, offset = await _at(ls, params.text_document.uri,
                                                    params.position)
            if source is None:
                return []
            spans = navigation.references(world, name, offset,
                                          params.context.include_declaration)
            return [_location(ls, world, s) for s in spans]
        return await ls.guarded("references", [], work)

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
    async def on_highlight(ls: CspecServer, params: lsp.DocumentHighlightParams
                           ) -> list[lsp.DocumentHighlight]:
        async def work() -> list[lsp.DocumentHighlight]:
            world, name, source, offset = await _at(ls, params.text_document.uri,
                                                    params.position)
            if source is None:
                return []
            return [lsp.DocumentHighlight(
                range=ls.positions.range(source, span),
                kind=lsp.DocumentHighlightKind.Write if write else lsp.DocumentHighlightKind.Read)
                for span, write in navigation.highlights(world, name, offset)]
        return await ls.guarded("highlight", [], work)

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def on_document_symbols(ls: CspecServer, params: lsp.DocumentSymbolParams
                                  ) -> list[lsp.DocumentSymbol]:
        async def work() -> list[lsp.DocumentSymbol]:
            world = await ls.world()
            found = ls.source(world, params.text_document.uri)
            if found is None:
                return []
            name, source = found
            return [_symbol(ls, source, item) for item in outline.document_symbols(world, name)]
        return await ls.guarded("document symbols", [], work)

    @server.feature(lsp.WORKSPACE_SYMBOL)
    async def on_workspace_symbols(ls: CspecServer, params: lsp.WorkspaceSymbolParams
                                   ) -> list[lsp.SymbolInformation]:
        async def work() -> list[lsp.SymbolInformation]:
            world = await ls.world()
            return [lsp.SymbolInformation(
                name=d.path, kind=SYMBOL_KINDS.get(d.kind, lsp.SymbolKind.Variable),
                location=_location(ls, world, d.span), container_name=d.module)
                for d in outline.workspace_symbols(world, params.query)]
        return await ls.guarded("workspace symbols", [], work)

    @server.feature(lsp.TEXT_DOCUMENT_FOLDING_RANGE)
    async def on_folding(ls: CspecServer, params: lsp.FoldingRangeParams
                         ) -> list[lsp.FoldingRange]:
        async def work() -> list[lsp.FoldingRange]:
            world = await ls.analysed()
            found = ls.source(world, params.text_document.uri)
            if found is None:
                return []
            return [lsp.FoldingRange(start_line=f.start_line - 1, end_line=f.end_line - 1,
                                     kind=FOLD_KINDS[f.kind])
                    for f in outline.folding_ranges(world, found[0])]
        return await ls.guarded("folding", [], work)

    @server.feature(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, lsp.SemanticTokensLegend(
        token_types=list(tokens.TOKEN_TYPES), token_modifiers=list(tokens.TOKEN_MODIFIERS)))
    async def on_tokens(ls: CspecServer, params: lsp.SemanticTokensParams
                        ) -> lsp.SemanticTokens:
        async def work() -> lsp.SemanticTokens:
            world = await ls.world()
            found = ls.source(world, params.text_document.uri)
            if found is None:
                return lsp.SemanticTokens(data=[])
            return lsp.SemanticTokens(data=_encode_tokens(
                ls, found[1], tokens.semantic_tokens(world, found[0])))
        return await ls.guarded("semantic tokens", lsp.SemanticTokens(data=[]), work)


# ---- editing: rename, formatting, code actions, lenses ----------------------------------

def _editing(server: CspecServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    async def on_prepare_rename(ls: CspecServer, params: lsp.PrepareRenameParams
                                ) -> lsp.PrepareRenamePlaceholder | None:
        async def work() -> lsp.PrepareRenamePlaceholder | None:
            world, name, source, offset = await _at(ls, params.text_document.uri,
                                                    params.position)
            if source is None:
                return None
            try:
                span, text = navigation.prepare_rename(world, name, offset)
            except navigation.RenameError as error:
                raise request_failed(str(error)) from error
            return lsp.PrepareRenamePlaceholder(range=ls.positions.range(source, span),
                                                placeholder=text)
        return await ls.guarded("prepare rename", None, work)

    @server.feature(lsp.TEXT_DOCUMENT_RENAME, lsp.RenameOptions(prepare_provider=True))
    async def on_rename(ls: CspecServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
        async def work() -> lsp.WorkspaceEdit | None:
            world, name, source, offset = await _at(ls, params.text_document.uri,
                                                    params.position)
            if source is None:
                return None
            try:
                edits = navigation.rename(world, name, offset, params.new_name)
            except navigation.RenameError as error:
                raise request_failed(str(error)) from error
            return _workspace_edit(ls, world, edits)
        return await ls.guarded("rename", None, work)

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    async def on_formatting(ls: CspecServer, params: lsp.DocumentFormattingParams
                            ) -> list[lsp.TextEdit]:
        async def work() -> list[lsp.TextEdit]:
            world = await ls.analysed()
            found = ls.source(world, params.text_document.uri)
            if found is None:
                return []
            name, source = found
            try:
                formatted = format_text(source.text, name)
            except FormatError as error:
                ls.log(f"cspec: not formatted: {error}", lsp.MessageType.Warning)
                return []
            if formatted == source.text:
                return []
            end = source.span(len(source.text), len(source.text))
            whole = ls.positions.range(source, source.span(0, 0).model_copy(update={
                "end_line": end.end_line, "end_col": end.end_col}))
            return [lsp.TextEdit(range=whole, new_text=formatted)]
        return await ls.guarded("formatting", [], work)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(
        code_action_kinds=[lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.Source]))
    async def on_code_action(ls: CspecServer, params: lsp.CodeActionParams
                             ) -> list[lsp.CodeAction]:
        async def work() -> list[lsp.CodeAction]:
            world = await ls.world()
            found = ls.source(world, params.text_document.uri)
            if found is None:
                return []
            name, source = found
            start = ls.positions.offset(source, params.range.start)
            end = ls.positions.offset(source, params.range.end)
            result = []
            for action in actions.code_actions(world, name, start, end):
                diagnostics = [ls.lsp_diagnostics_one(world, action.diagnostic)] \
                    if action.diagnostic else None
                result.append(lsp.CodeAction(
                    title=action.title, kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=diagnostics, is_preferred=action.preferred or None,
                    edit=_workspace_edit(ls, world, action.edits)))
            return result + await regen.code_actions(ls, world, name, start, end,
                                                     params.text_document.uri)
        return await ls.guarded("code actions", [], work)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_LENS)
    async def on_code_lens(ls: CspecServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
        async def work() -> list[lsp.CodeLens]:
            world = await ls.analysed()
            found = ls.source(world, params.text_document.uri)
            if found is None:
                return []
            name, source = found
            module = world.module_of(name)
            if module is None or module.std:
                return []
            header = next((h for h in module.headers if h.span.file == name), None)
            span = header.span if header else source.span(0, 0)
            where = ls.positions.range(source, span)
            who = lsp.CodeLens(range=where, command=lsp.Command(
                title="Who can do what", command=WHO_CAN_DO_WHAT,
                arguments=[params.text_document.uri]))
            return [who, *await regen.lens(ls, world.analysis, where, params.text_document.uri)]
        return await ls.guarded("code lens", [], work)

    @server.command(WHO_CAN_DO_WHAT)
    async def who_can_do_what(ls: CspecServer, *args: Any) -> dict[str, object] | None:
        async def work() -> dict[str, object] | None:
            world = await ls.world()
            uri = _first_string(args)
            found = ls.source(world, uri) if uri else None
            module = world.module_of(found[0]) if found else None
            if module is None:
                raise request_failed("cspec.whoCanDoWhat needs the URI of a spec file")
            matrix = access_matrix(world.index, module, world.visible(module.name))
            if _show_message(args):
                ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Info,
                                                             message=matrix.text()))
            return {**matrix.to_json(), "markdown": matrix.markdown()}
        return await ls.guarded("who can do what", None, work)


# ---- helpers ----------------------------------------------------------------------------

async def _at(ls: CspecServer, uri: str, position: lsp.Position
              ) -> tuple[World, str, SourceFile | None, int]:
    world = await ls.world()
    found = ls.source(world, uri)
    if found is None:
        return world, "", None, 0
    name, source = found
    return world, name, source, ls.positions.offset(source, position)


def _location(ls: CspecServer, world: World, span: Span) -> lsp.Location:
    return lsp.Location(uri=ls.paths.uri(span.file),
                        range=ls.positions.range(world.source(span.file), span))


def _workspace_edit(ls: CspecServer, world: World,
                    edits: dict[str, list[navigation.TextEdit]]) -> lsp.WorkspaceEdit:
    return lsp.WorkspaceEdit(changes={
        ls.paths.uri(name): [lsp.TextEdit(range=ls.positions.range(world.source(name), e.span),
                                          new_text=e.new_text) for e in file_edits]
        for name, file_edits in edits.items()})


def _markup(ls: CspecServer, markdown: str, where: str) -> lsp.MarkupContent:
    """Markdown when the client shows it there, else the same text as plain text."""
    text_document = ls.client_capabilities.text_document
    formats: Sequence[lsp.MarkupKind] | None = None
    if text_document is not None and where == "hover" and text_document.hover:
        formats = text_document.hover.content_format
    elif text_document is not None and text_document.completion and \
            text_document.completion.completion_item:
        formats = text_document.completion.completion_item.documentation_format
    kind = lsp.MarkupKind.Markdown if formats and lsp.MarkupKind.Markdown in formats \
        else lsp.MarkupKind.PlainText
    return lsp.MarkupContent(kind=kind, value=markdown)


def _snippets_supported(ls: CspecServer) -> bool:
    text_document = ls.client_capabilities.text_document
    item = text_document.completion.completion_item if text_document and \
        text_document.completion else None
    return bool(item and item.snippet_support)


def _completion_item(ls: CspecServer, item: completion.CompletionItem, snippets: bool,
                     ranges: dict[int, lsp.Range], docs: bool) -> lsp.CompletionItem:
    text = item.insert_text or item.label
    if item.snippet and not snippets:
        text = _PLACEHOLDER.sub(lambda m: m.group(1) or m.group(2) or "", text)
    edit = lsp.TextEdit(range=ranges[id(item.replace)], new_text=text) \
        if item.replace is not None else None
    return lsp.CompletionItem(
        label=item.label,
        kind=COMPLETION_KINDS.get(item.kind, lsp.CompletionItemKind.Reference),
        detail=item.detail,
        documentation=_markup(ls, item.documentation, "completion")
        if item.documentation and docs else None,
        text_edit=edit,
        insert_text=None if edit else text,
        insert_text_format=lsp.InsertTextFormat.Snippet if item.snippet and snippets
        else lsp.InsertTextFormat.PlainText,
        sort_text=f"{'1' if item.kind == 'snippet' else '0'}{item.label}",
    )


def _symbol(ls: CspecServer, source: SourceFile, item: outline.OutlineItem
            ) -> lsp.DocumentSymbol:
    return lsp.DocumentSymbol(
        name=item.name, detail=item.detail or None,
        kind=SYMBOL_KINDS.get(item.kind, lsp.SymbolKind.Object),
        range=ls.positions.range(source, item.span),
        selection_range=ls.positions.range(source, item.selection),
        children=[_symbol(ls, source, c) for c in item.children] or None)


def _encode_tokens(ls: CspecServer, source: SourceFile,
                   found: Sequence[tokens.SemanticToken]) -> list[int]:
    """LSP's relative encoding: line delta, start delta, length, type, modifier bits."""
    types_ = {t: i for i, t in enumerate(tokens.TOKEN_TYPES)}
    mods = {m: 1 << i for i, m in enumerate(tokens.TOKEN_MODIFIERS)}
    data: list[int] = []
    last_line = last_start = 0
    units = ls.positions.units
    for token in sorted(found, key=lambda t: (t.line, t.col)):
        line_text = source.line_text(token.line)
        start = units(line_text[:token.col - 1])
        length = units(line_text[token.col - 1:token.col - 1 + token.length])
        line = token.line - 1
        data += [line - last_line, start - last_start if line == last_line else start, length,
                 types_[token.type], sum(mods[m] for m in token.modifiers)]
        last_line, last_start = line, start
    return data


def _show_message(args: Sequence[Any]) -> bool:
    """False when an argument `{"showMessage": false}` leaves the display to the client (the
    VS Code extension shows the matrix as a table)."""
    return not any(isinstance(a, dict) and a.get("showMessage") is False for a in args)


def _first_string(args: Sequence[Any]) -> str | None:
    for arg in args:
        if isinstance(arg, str):
            return arg
        if isinstance(arg, list | tuple):
            found = _first_string(arg)
            if found:
                return found
    return None

