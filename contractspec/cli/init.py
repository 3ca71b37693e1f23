"""`cspec init`: create a workspace, a `cspec.toml` and a starter spec that checks clean."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

from contractspec.analysis import analyze_texts
from contractspec.cli.common import EXIT_OK, UsageError, add_command, shown_path
from contractspec.workspace.config import CONFIG_NAME, Config
from contractspec.workspace.loader import SPEC_SUFFIX, std_modules

if TYPE_CHECKING:
    from contractspec.cli.common import Subparsers

DESCRIPTION = """
Create a ContractSpec workspace in DIR (default: the current folder): a commented
cspec.toml and spec/NAME.cspec, a small spec with a tenant-owned entity, permissions,
grants, a policy, a command, a query and an event, which checks clean.

Existing files are never overwritten (exit code 2). NAME defaults to the folder's name.
"""

EXAMPLES = [
    ("cspec init", "a workspace in the current folder"),
    ("cspec init crm --name crm", "a new folder `crm` with spec/crm.cspec"),
]

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

CONFIG_TEMPLATE = """\
# ContractSpec workspace. `cspec check` finds this file from any folder below it.

[workspace]
# The workspace's name, used by reports and generators.
name = "{name}"
# Folders (relative to this file) that hold the .cspec files.
specs = ["spec"]
# Files larger than this many bytes are not checked.
# max_file_bytes = 5242880

[rules]
# Change the severity of a rule: "error", "warning", "info", "hint" or "off".
# Every code is explained in docs/rules.md.
# CS121 = "off"

[output]
# Where generators write the application.
dir = "generated"
"""

SPEC_TEMPLATE = """\
/// {name}: a starter spec. Change it, then run `cspec check`.
module {name} version 0.1.0

use identity

/// Something a member of the organisation has to do.
entity Task {{
  id: uuid @id
  org: ref identity.Org @tenant
  title: string(1..200)
  assignee: ref identity.User?
  done: bool = false
  createdAt: datetime @default(now) @immutable
}}

permission manage_tasks "Create, edit and delete tasks"
permission view_tasks "See tasks"

grant owner, admin: manage_tasks, view_tasks
grant member: view_tasks

policy Task {{
  read: view_tasks
  create: manage_tasks
  update: manage_tasks or self.assignee == actor
  delete: manage_tasks
}}

/// Create a task in the caller's organisation.
command createTask v1 {{
  input {{
    title: string(1..200)
    assignee: ref identity.User?
  }}
  output Task
  policy manage_tasks
  emits task.created
}}

/// The organisation's tasks.
query listTasks v1 {{
  input {{
    done: bool?
  }}
  output page<Task>
  policy view_tasks
}}

event task.created v1 {{
  payload {{
    task: ref Task
    by: ref identity.User
  }}
  retention 365d
}}
"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(subparsers, "init", "create a workspace with a starter spec",
                         DESCRIPTION, EXAMPLES)
    parser.add_argument("dir", nargs="?", type=Path, default=Path("."), metavar="DIR",
                        help="the workspace folder, created if missing (default: .)")
    parser.add_argument("--name", help="the module name of the starter spec")
    parser.set_defaults(handler=run)


def default_name(folder: Path) -> str:
    """A module name made from a folder name: `My App` -> `my_app`."""
    name = re.sub(r"[^a-z0-9_]+", "_", folder.resolve().name.lower()).strip("_")
    if not name:
        return "app"
    return f"app_{name}" if name[0].isdigit() else name


def starter(name: str) -> tuple[str, str]:
    """The `cspec.toml` and starter spec texts for module `name`; a usage error if `name`
    cannot be a module name."""
    if not NAME.fullmatch(name):
        raise UsageError(f"`{name}` cannot be a module name: use letters, digits and `_`, "
                         "starting with a letter")
    if name in std_modules():
        raise UsageError(f"`{name}` is a standard-library module: choose another --name")
    spec = SPEC_TEMPLATE.format(name=name)
    analysis = analyze_texts({f"spec/{name}{SPEC_SUFFIX}": spec}, Config(root=Path.cwd()))
    if analysis.errors:
        raise UsageError(f"the starter spec of module `{name}` does not check clean "
                         f"({analysis.errors[0].message}): try another --name")
    return CONFIG_TEMPLATE.format(name=name), spec


def run(args: argparse.Namespace) -> int:
    folder: Path = args.dir
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file, not a folder")
    name = args.name if args.name is not None else default_name(folder)
    config_text, spec_text = starter(name)
    config_path = folder / CONFIG_NAME
    spec_path = folder / "spec" / f"{name}{SPEC_SUFFIX}"
    existing = [p for p in (config_path, spec_path) if p.exists() or p.is_symlink()]
    if existing:
        listed = ", ".join(shown_path(p) for p in existing)
        raise UsageError(f"refusing to overwrite {listed}: nothing was written")
    try:
        spec_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(config_text, encoding="utf-8")
        spec_path.write_text(spec_text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot create the workspace in {folder}: "
                         f"{error.strerror or error}") from error
    where = shown_path(folder)
    print(f"Created a ContractSpec workspace in {where}:")
    print(f"  {shown_path(config_path)}")
    print(f"  {shown_path(spec_path)}")
    print("\nNext steps:")
    if where != ".":
        print(f"  cd {where}")
    print("  cspec check              # check the specs")
    print("  cspec fmt                # format them")
    print("  cspec ir > ir.json       # look at the IR the generators read")
    print("  cspec check --help       # every command has --help with examples")
    return EXIT_OK
