"""The `cspec` command line: a thin front end over `contractspec.analysis`.

Each command is a module of this package with `register(subparsers)` (which adds its
parser and sets `handler`, a function `(argparse.Namespace) -> int` returning the exit code)
and is listed once, in `contractspec.cli.main.COMMANDS`. A handler may raise `UsageError`,
`WorkspaceError` or `ConfigError` for a usage or I/O problem (exit code 2).
"""
