"""`cspec lsp`: run the language server over stdio (or TCP, for debugging)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from contractspec.cli.common import EXIT_OK, UsageError, add_command

if TYPE_CHECKING:
    from contractspec.cli.common import Subparsers

DESCRIPTION = """
Run the ContractSpec language server. Editors start it themselves and talk to it over
stdin/stdout (docs/editors.md shows the set-up for Neovim, Emacs, Helix and VS Code).
`--tcp HOST:PORT` listens on a socket instead, to attach a client by hand while debugging.
"""

EXAMPLES = [
    ("cspec lsp", "serve over stdio (what editors run)"),
    ("cspec lsp --tcp 127.0.0.1:2087", "serve one client over TCP"),
]


def register(subparsers: Subparsers) -> None:
    parser = add_command(subparsers, "lsp", "run the language server", DESCRIPTION, EXAMPLES)
    parser.add_argument("--tcp", metavar="HOST:PORT", type=_address,
                        help="listen on a TCP socket instead of stdio")
    parser.set_defaults(handler=run)


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT such as 127.0.0.1:2087, not {text!r}")
    return host.strip("[]"), int(port)


def run(args: argparse.Namespace) -> int:
    from contractspec.server import serve  # pygls is loaded only for this command

    try:
        serve(args.tcp)
    except OSError as error:
        raise UsageError(f"cannot serve: {error}") from error
    return EXIT_OK
