"""The language server: workspace state, analysis scheduling and diagnostics.

One worker thread runs analyses; the event loop keeps reading messages meanwhile. An edit
bumps the host's revision and (re)starts a short debounce timer; when it fires, the latest
revision is analysed and its diagnostics published, file by file, only where they changed.
A result that is stale by the time it is ready (newer edits arrived) is not published.
Requests await the analysis of the latest revision.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import JsonRPCNotification, LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path

from contractspec import __version__
from contractspec.diagnostics import Diagnostic
from contractspec.ide.host import Host, Inputs
from contractspec.ide.regen import Regenerator
from contractspec.ide.world import World
from contractspec.server.convert import Paths, Positions, apply_change, diagnostic
from contractspec.source import SourceFile

DEFAULT_DEBOUNCE = 0.05  # seconds between the last keystroke and the analysis
REQUEST_FAILED = -32803
IGNORED = "$/cspec/unreadableRequest"  # stands for a request answered with an error already

T = TypeVar("T")
logger = logging.getLogger(__name__)


class CspecProtocol(LanguageServerProtocol):
    """Negotiates the position encoding: UTF-8 when the client offers it, else UTF-16."""

    @lsp_method(lsp.INITIALIZE)
    def lsp_initialize(self, params: lsp.InitializeParams) -> Any:
        general = params.capabilities.general
        if general is not None and general.position_encodings:
            offered = general.position_encodings
            general.position_encodings = (
                [lsp.PositionEncodingKind.Utf8] if lsp.PositionEncodingKind.Utf8 in offered
                else [lsp.PositionEncodingKind.Utf16])
        return (yield from super().lsp_initialize(params))

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Read one message. JSON-RPC lets `params` be left out, which pygls refuses (the
        request then went unanswered); a request that cannot be read gets its error answer
        here (pygls only logged it, and the client waited forever)."""
        if "jsonrpc" in data and "method" in data and "params" not in data:
            data = {**data, "params": None}
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            ident = data.get("id")
            if "jsonrpc" not in data or "method" not in data or not isinstance(ident, int | str):
                raise
            self._send_response(ident, None, error.to_response_error())
            return JsonRPCNotification(jsonrpc="2.0", method=IGNORED, params=None)

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: lsp.DidChangeTextDocumentParams) -> Any:
        """Apply the changes here, as the protocol says (pygls clamps a position past the end
        of a line after the line end, and counts Unicode line separators as line ends), and
        hand pygls the whole new text."""
        encoding = self.server_capabilities.position_encoding \
            if self.server_capabilities else None
        positions = Positions(getattr(encoding, "value", encoding) or "utf-16")
        text = self.workspace.get_text_document(params.text_document.uri).source
        for change in params.content_changes:
            text = apply_change(text, change, positions)
        params.content_changes = [lsp.TextDocumentContentChangeWholeDocument(text=text)]
        return (yield from super().lsp_text_document__did_change(params))


class CspecServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("cspec", __version__, protocol_cls=CspecProtocol,
                         text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.host = Host(None)
        self.paths = Paths(self.host)
        self.debounce = DEFAULT_DEBOUNCE
        self.push = True  # push diagnostics (clients that pull do not need them)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cspec-analysis")
        self._running: dict[int, asyncio.Future[World]] = {}
        self._timer: asyncio.Task[None] | None = None
        self._indexing: tuple[World, asyncio.Future[None]] | None = None
        self._published: dict[str, list[lsp.Diagnostic]] = {}
        self.regenerator = Regenerator()  # generates in memory for the preview

    # ---- set-up -------------------------------------------------------------------------
    def configure(self, params: lsp.InitializeParams) -> None:
        root = _root_of(params)
        self.host = Host(root)
        self.paths = Paths(self.host)
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("debounce"), int | float):
            self.debounce = max(0.0, float(options["debounce"]) / 1000)
        text_document = params.capabilities.text_document
        self.push = text_document is None or text_document.diagnostic is None

    @property
    def positions(self) -> Positions:
        encoding = self.server_capabilities.position_encoding \
            if self.protocol.server_capabilities else None
        return Positions(getattr(encoding, "value", encoding) or "utf-16")

    def log(self, message: str, kind: lsp.MessageType = lsp.MessageType.Log) -> None:
        try:
            self.window_log_message(lsp.LogMessageParams(type=kind, message=message))
        except Exception:  # the client is gone: nothing to tell
            logger.debug("cannot log %s", message)

    # ---- analysis -----------------------------------------------------------------------
    async def analysed(self) -> World:
        """The analysis of the latest revision (started now if nothing is running)."""
        inputs = self.host.inputs()
        running = self._running.get(inputs.revision)
        if running is None:
            loop = asyncio.get_running_loop()
            running = asyncio.ensure_future(loop.run_in_executor(
                self._executor, _analyze, self.host, inputs))
            self._running = {inputs.revision: running}
        return await asyncio.shield(running)  # a cancelled waiter leaves the work to others

    async def world(self) -> World:
        """The latest analysis with its reference index, for requests. The index is built
        (in the worker) when a request first needs it: a burst of edits does not pay for it,
        and the diagnostics never wait for it."""
        world = await self.analysed()
        if self._indexing is None or self._indexing[0] is not world:
            loop = asyncio.get_running_loop()
            job = asyncio.ensure_future(loop.run_in_executor(self._executor, _index, world))
            self._indexing = (world, job)
        await asyncio.shield(self._indexing[1])
        return world

    def changed(self) -> None:
        """Something changed: analyse again after the debounce delay."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.ensure_future(self._after_delay())

    async def _after_delay(self) -> None:
        try:
            await asyncio.sleep(self.debounce)
            revision = self.host.revision
            world = await self.analysed()
            if revision != self.host.revision:
                return  # stale: a newer edit has its own timer
            if self.push:
                self.publish(world)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.log("cspec: analysis failed\n" + traceback.format_exc(), lsp.MessageType.Error)

    def lsp_diagnostics(self, world: World, name: str) -> list[lsp.Diagnostic]:
        source = world.source(name)
        sources = world.analysis.sources
        return [diagnostic(d, source, self.positions, self.paths, sources)
                for d in world.analysis.diagnostics_for(name)]

    def lsp_diagnostics_one(self, world: World, d: Diagnostic) -> lsp.Diagnostic:
        return diagnostic(d, world.source(d.span.file), self.positions, self.paths,
                          world.analysis.sources)

    def publish(self, world: World) -> None:
        """Publish each file's diagnostics where they changed (and clear vanished files)."""
        names = [n for n in world.analysis.sources if not n.startswith("<std>/")]
        current = {n: self.lsp_diagnostics(world, n) for n in names}
        for name in self._published.keys() - current.keys():
            current[name] = []
        for name, items in current.items():
            if self._published.get(name) == items:
                continue
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                uri=self.paths.uri(name), diagnostics=items))
        self._published = {n: d for n, d in current.items() if n in names}

    def source(self, world: World, uri: str) -> tuple[str, SourceFile] | None:
        name = self.paths.name(uri)
        if name is None:
            return None
        source = world.source(name)
        return (name, source) if source is not None else None

    # ---- failures -----------------------------------------------------------------------
    async def guarded(self, what: str, default: T, work: Callable[[], Awaitable[T]]) -> T:
        """Run a handler; log an unexpected failure and answer `default` instead."""
        try:
            return await work()
        except JsonRpcException:
            raise
        except Exception:
            self.log(f"cspec: {what} failed\n{traceback.format_exc()}", lsp.MessageType.Error)
            return default

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A failure outside a request (a notification handler, a bad message): logged
        with its traceback, and shown as pygls does."""
        self.log("cspec: internal error\n" + "".join(traceback.format_exception(error)),
                 lsp.MessageType.Error)
        super().report_server_error(error, source)

    def shutdown_workers(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def request_failed(message: str) -> JsonRpcException:
    return JsonRpcException(message=message, code=REQUEST_FAILED)


def _analyze(host: Host, inputs: Inputs) -> World:
    world = host.analyze(inputs)
    # The analysis is a large, long-lived and acyclic heap: keep the cycle collector from
    # walking it again at every allocation burst of the next edit (old worlds are still
    # freed by reference counting when dropped).
    gc.freeze()
    return world


def _index(world: World) -> None:
    _ = world.index  # built here, in the worker, not on the event loop
    gc.freeze()


def _root_of(params: lsp.InitializeParams) -> Path | None:
    uri = params.root_uri
    if uri is None and params.workspace_folders:
        uri = params.workspace_folders[0].uri
    if uri is not None:
        path = to_fs_path(uri)
        return Path(path) if path else None
    return Path(params.root_path) if params.root_path else None
