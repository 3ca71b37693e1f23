"""Language-server chaos on the wire: raw bytes on the server's stdin (malformed JSON-RPC,
unknown methods, requests before `initialize`). The server answers what deserves an answer,
ignores the rest, and keeps serving; it exits only when told to."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.lsp.conftest import SERVER, workspace

TIMEOUT = 120.0  # seconds: a bound against hangs (generous: shared, loaded CI machines)
SHOP = "module shop\n\nentity Order {\n  id: uuid @id\n  total: mony\n}\n"


class Wire:
    """A `cspec lsp` process and the raw bytes of its stdin and stdout."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.buffer = b""

    def send(self, body: bytes | dict[str, Any], header: bytes | None = None) -> None:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        assert self.process.stdin is not None
        self.process.stdin.write((b"Content-Length: %d\r\n\r\n" % len(data)
                                  if header is None else header) + data)
        self.process.stdin.flush()

    def request(self, ident: int, method: str, params: Any = None) -> None:
        self.send({"jsonrpc": "2.0", "id": ident, "method": method,
                   **({} if params is None else {"params": params})})

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"jsonrpc": "2.0", "method": method,
                   **({} if params is None else {"params": params})})

    def message(self) -> dict[str, Any]:
        """The next message from the server (fails after TIMEOUT or at end of output)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + TIMEOUT
        while True:
            head, found, rest = self.buffer.partition(b"\r\n\r\n")
            if found:
                length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                if len(rest) >= length:
                    self.buffer = rest[length:]
                    message: dict[str, Any] = json.loads(rest[:length])
                    return message
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.process.stdout], [], [], max(left, 0))
            assert ready, f"no message from the server in {TIMEOUT} s"
            chunk = os.read(self.process.stdout.fileno(), 65536)
            assert chunk, f"the server closed its output (exit code {self.process.poll()})"
            self.buffer += chunk

    def response(self, ident: int) -> dict[str, Any]:
        """The response to request `ident` (notifications and requests meanwhile skipped)."""
        while True:
            message = self.message()
            if message.get("id") == ident and "method" not in message:
                return message

    def alive(self, ident: int) -> None:
        """The server still answers (an unknown request gets its error)."""
        self.request(ident, "cspec/ping")
        assert self.response(ident)["error"]["code"] == -32601


@contextmanager
def wire(tmp_path: Path) -> Iterator[Wire]:
    with open(tmp_path / "stderr.txt", "wb") as stderr:
        process = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=stderr)
        try:
            yield Wire(process)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()


def initialize(server: Wire, ident: int, root: Path) -> dict[str, Any]:
    server.request(ident, "initialize", {"processId": None, "rootUri": root.as_uri(),
                                         "capabilities": {}})
    return server.response(ident)


def test_requests_before_initialize_and_unknown_methods(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", {"shop.cspec": SHOP})
    with wire(tmp_path) as server:
        document = (root / "spec" / "shop.cspec").as_uri()
        hover = {"textDocument": {"uri": document}, "position": {"line": 0, "character": 0}}
        server.request(1, "textDocument/hover", hover)
        early = server.response(1)
        assert "error" in early or early.get("result") is None
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": document, "languageId": "cspec", "version": 1, "text": SHOP}})
        server.alive(2)
        assert initialize(server, 3, root)["result"]["serverInfo"]["name"] == "cspec"
        server.notify("initialized", {})
        server.notify("cspec/unknownNotification", {"x": 1})
        server.notify("$/unknownNotification")
        server.request(4, "workspace/unknownRequest", {"x": [1, 2]})
        assert server.response(4)["error"]["code"] == -32601
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": document, "languageId": "cspec", "version": 1, "text": SHOP}})
        while True:  # the document is analysed after all that
            message = server.message()
            if message.get("method") == "textDocument/publishDiagnostics" and \
                    message["params"]["uri"] == document and message["params"]["diagnostics"]:
                assert message["params"]["diagnostics"][0]["code"] == "CS201"
                break
        server.request(5, "shutdown")
        assert server.response(5).get("result") is None
        server.notify("exit")
        assert server.process.wait(TIMEOUT) == 0


MALFORMED: list[tuple[bytes | None, bytes]] = [
    (None, b"{not json}"),
    (None, b"[1, 2, 3]"),
    (None, b'"just a string"'),
    (None, b"null"),
    (None, b"\xff\xfe\x00 invalid utf-8 \xc3\x28"),
    (None, b'{"jsonrpc": "2.0"}'),
    (None, b'{"jsonrpc": "2.0", "id": 90, "method": 12}'),
    (None, b'{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": "nonsense"}'),
    (None, b'{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": 7}}'),
    (None, b'{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument":'
           b' {"uri": "file:///nowhere.cspec", "version": 2}, "contentChanges": [{"range": '
           b'{"start": {"line": -5, "character": -1}, "end": {"line": 99, "character": 0}}, '
           b'"text": "x"}]}}'),
    (None, b'{"jsonrpc": "2.0", "id": {"an": "object"}, "method": "textDocument/hover"}'),
    (b"Content-Type: text/plain\r\n\r\n", b""),
    (b"Content-Length: nope\r\n\r\n", b""),
]


def test_malformed_messages_leave_the_server_serving(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", {"shop.cspec": SHOP})
    with wire(tmp_path) as server:
        assert initialize(server, 1, root)["result"]["capabilities"]
        server.notify("initialized", {})
        for k, (header, body) in enumerate(MALFORMED):
            server.send(body, header)
            server.alive(100 + k)
        server.request(200, "textDocument/hover", "not an object")
        assert "error" in server.response(200)
        server.request(201, "textDocument/hover", {"textDocument": {"uri": 3}})
        assert "error" in server.response(201)
        server.alive(202)
        server.request(203, "shutdown")
        server.response(203)
        server.notify("exit")
        assert server.process.wait(TIMEOUT) == 0


def test_the_server_exits_when_its_input_closes(tmp_path: Path) -> None:
    with wire(tmp_path) as server:
        assert server.process.stdin is not None
        server.send(b'{"jsonrpc": "2.0", "id": 1, "meth')  # cut in the middle
        server.send(b'{"jsonrpc": "2.0", "id": 2, "method": "shutdown"}',
                    b"Content-Length: 999\r\n\r\n")  # longer than what follows
        server.process.stdin.close()
        server.process.wait(TIMEOUT)  # no hang: the editor is gone

