"""The language server (`cspec lsp`): a thin pygls adapter over `contractspec.ide`."""

from __future__ import annotations

from contractspec.server.app import CspecServer
from contractspec.server.features import register


def create_server() -> CspecServer:
    server = CspecServer()
    register(server)
    return server


def serve(tcp: tuple[str, int] | None = None) -> None:
    """Serve over stdio, or over TCP at (host, port) for debugging."""
    server = create_server()
    if tcp is None:
        server.start_io()
    else:
        server.start_tcp(*tcp)
