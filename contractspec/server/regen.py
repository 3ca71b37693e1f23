"""Regeneration over LSP: the `Regenerate: …` code lens, the preview and apply commands, and
the same two as code actions on a declaration.

`cspec.previewRegeneration [uri] [{"base", "dialect", "format"}]` returns the files that
would change and, in `plan`, the reviewable plan of `cspec gen --plan` (spec diff against
`base`, a git ref; the change list against `base` or cspec.lock; the file diffs; the
migration SQL for `dialect`, sqlite or postgresql) as `format` text or markdown.

`cspec.applyRegeneration` sends the files as a `WorkspaceEdit` (file creations and text
edits, so the editor's undo works) when the client supports creating files, then records
the manifest through the writer; otherwise it writes through the same atomic writer and
manifest as `cspec gen`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from lsprotocol import types as lsp

from contractspec.analysis import Analysis
from contractspec.generators.writer import Plan, Status
from contractspec.ide.regen import PlanOptions, Preview, RegenerationError, conflicts_message
from contractspec.ide.world import World
from contractspec.server.app import CspecServer, request_failed

PREVIEW = "cspec.previewRegeneration"
APPLY = "cspec.applyRegeneration"

T = TypeVar("T")


def register(server: CspecServer) -> None:
    regenerator = server.regenerator

    @server.command(PREVIEW)
    async def preview(ls: CspecServer, *args: Any) -> dict[str, object] | None:
        async def work() -> dict[str, object] | None:
            world = await ls.analysed()
            _check_uri(ls, world.analysis.sources, args)
            options = _plan_options(args)
            result = await _off_loop(lambda: regenerator.review(world.analysis, options))
            return result.to_json()
        return await ls.guarded("regeneration preview", None, work)

    @server.command(APPLY)
    async def apply_regeneration(ls: CspecServer, *args: Any) -> dict[str, object] | None:
        async def work() -> dict[str, object] | None:
            world = await ls.analysed()
            _check_uri(ls, world.analysis.sources, args)
            if not _resource_operations(ls, "create"):
                written = await _off_loop(lambda: regenerator.write(world.analysis))
                return {**written.to_json(), "via": "writer"}
            result = await _off_loop(lambda: regenerator.preview(world.analysis))
            if result.plan.pending:  # the writer finishes the interrupted run first
                written = await _off_loop(lambda: regenerator.write(world.analysis))
                return {**written.to_json(), "via": "writer"}
            problem = conflicts_message(result.plan)
            if problem:
                raise request_failed(f"cspec: {problem}")
            if result.files:
                reply = await ls.workspace_apply_edit_async(lsp.ApplyWorkspaceEditParams(
                    edit=_workspace_edit(ls, result.plan), label="Regenerate"))
                if not reply.applied:
                    reason = f": {reply.failure_reason}" if reply.failure_reason else ""
                    raise request_failed(f"cspec: the editor did not apply the "
                                         f"regeneration{reason}")
            await _off_loop(lambda: regenerator.record(result.plan))
            return {**result.to_json(), "via": "workspaceEdit"}
        return await ls.guarded("regeneration", None, work)


async def lens(ls: CspecServer, analysis: Analysis, where: lsp.Range, uri: str
               ) -> list[lsp.CodeLens]:
    """`Regenerate: N files change` on a module header (none while the specs have errors:
    the diagnostics say why)."""
    try:
        result = await asyncio.get_running_loop().run_in_executor(
            None, ls.regenerator.preview, analysis)
    except RegenerationError:
        return []
    return [lsp.CodeLens(range=where, command=lsp.Command(
        title=result.title, command=PREVIEW, arguments=[uri]))]


async def code_actions(ls: CspecServer, world: World, name: str, start: int, end: int,
                       uri: str) -> list[lsp.CodeAction]:
    """`Preview regeneration (N files change)` and `Apply regeneration (…)` when the range is
    inside a declaration of the file and regenerating would change the output (none while
    the specs have errors or the output is up to date)."""
    module = world.module_of(name)
    if module is None or module.std or not any(
            _inside(d.decl, name, start, end) for d in world.index.declarations(module.name)):
        return []
    try:
        result = await asyncio.get_running_loop().run_in_executor(
            None, ls.regenerator.preview, world.analysis)
    except RegenerationError:
        return []
    if not result.files and not result.plan.pending:
        return []
    count = _count(result)
    return [lsp.CodeAction(title=f"Preview regeneration ({count})",
                           kind=lsp.CodeActionKind.Source,
                           command=lsp.Command(title="Preview regeneration", command=PREVIEW,
                                               arguments=[uri])),
            lsp.CodeAction(title=f"Apply regeneration ({count})",
                           kind=lsp.CodeActionKind.QuickFix,
                           command=lsp.Command(title="Apply regeneration", command=APPLY,
                                               arguments=[uri]))]


def _inside(decl: Any, name: str, start: int, end: int) -> bool:
    span = getattr(decl, "span", None)  # modules have none
    return span is not None and span.file == name and \
        span.start_offset <= start and end <= span.end_offset


def _count(result: Preview) -> str:
    count = len(result.files)
    return f"{count} file{'' if count == 1 else 's'} change"


async def _off_loop(work: Callable[[], T]) -> T:
    """Run generation or file I/O in a thread; a RegenerationError becomes a readable
    JSON-RPC error."""
    try:
        return await asyncio.get_running_loop().run_in_executor(None, work)
    except RegenerationError as error:
        raise request_failed(f"cspec: {error}") from error


def _check_uri(ls: CspecServer, sources: Any, args: Sequence[Any]) -> None:
    uri = next((a for a in args if isinstance(a, str)), None)
    if uri is None:
        return
    name = ls.paths.name(uri)
    if name is None or name not in sources:
        raise request_failed(f"cspec: {uri} is not a spec file of the workspace")


def _plan_options(args: Sequence[Any]) -> PlanOptions:
    given = next((a for a in args if isinstance(a, dict)), {})
    base, dialect, form = given.get("base"), given.get("dialect", "sqlite"), \
        given.get("format", "text")
    if not (base is None or isinstance(base, str)) or not isinstance(dialect, str) or \
            not isinstance(form, str):
        raise request_failed("cspec: the preview options base, dialect and format are strings")
    try:
        return PlanOptions(base, dialect, form)
    except RegenerationError as error:
        raise request_failed(f"cspec: {error}") from error


def _resource_operations(ls: CspecServer, kind: str) -> bool:
    workspace = ls.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace is not None else None
    operations = edit.resource_operations if edit is not None else None
    return bool(operations) and lsp.ResourceOperationKind(kind) in (operations or [])


def _workspace_edit(ls: CspecServer, the_plan: Plan) -> lsp.WorkspaceEdit:
    changes: list[lsp.TextDocumentEdit | lsp.CreateFile | lsp.RenameFile | lsp.DeleteFile] = []
    for change in the_plan.by_status(Status.ADDED, Status.CHANGED, Status.REMOVED):
        target = ls.paths.uri(str(the_plan.out_dir / change.path))
        if change.status is Status.REMOVED:
            if _resource_operations(ls, "delete"):
                changes.append(lsp.DeleteFile(uri=target, options=lsp.DeleteFileOptions(
                    ignore_if_not_exists=True)))
            continue
        old = "" if change.old is None else change.old.decode("utf-8", errors="replace")
        if change.status is Status.ADDED:
            changes.append(lsp.CreateFile(uri=target, options=lsp.CreateFileOptions(
                overwrite=True)))
        assert change.new is not None
        end = lsp.Position(line=old.count("\n"),
                           character=ls.positions.units(old[old.rfind("\n") + 1:]))
        changes.append(lsp.TextDocumentEdit(
            text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=target, version=None),
            edits=[lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=0, character=0),
                                                end=end),
                                new_text=change.new.decode("utf-8", errors="replace"))]))
    return lsp.WorkspaceEdit(document_changes=changes)
