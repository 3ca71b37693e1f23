"""Generate a workspace's application and run it migrated, in process, with bearer tokens of
members of two organisations (the attack suite's harness; the running part is
`tests/examples_app.py`'s, shared with the examples' tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from contractspec.analysis import Analysis, analyze_workspace
from contractspec.generators.pipeline import generate
from contractspec.ir import nodes as ir
from tests import examples_app
from tests.examples_app import ROLES, migrate
from tests.examples_app import RunningApp as App

__all__ = ["ROLES", "App", "analyse", "grants", "role_allows", "running_app", "write_project"]


def analyse(workspace: Path) -> Analysis:
    result = analyze_workspace([workspace])
    assert not result.errors, [d.message for d in result.errors]
    return result


def write_project(analysis: Analysis, root: Path) -> Path:
    """Generate the application into `root` (an empty folder); `root`."""
    for path, content in generate(analysis).files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)
    return root


@contextmanager
def running_app(project: Path, app: str, url: str) -> Iterator[App]:
    """The generated app `app` in `project` on the database `url`, migrated, with a token per
    org x role; a server error is answered (500), not raised, so the attacks can see it."""
    migrate(project, app, url)
    with examples_app.running_app(project, app, url, raise_server_exceptions=False) as running:
        yield running


def grants(program: ir.Program) -> dict[str, set[str]]:
    """role -> the permissions the spec's `grant`s give it."""
    out: dict[str, set[str]] = {}
    for module in program.modules:
        for grant in module.grants:
            for role in grant.roles:
                out.setdefault(role.name, set()).update(p.name for p in grant.permissions)
    return out


def role_allows(expr: ir.Expr | None, role: str, perms: set[str]) -> bool | None:
    """Whether a policy lets a member of `role` (holding `perms`) in, from the spec alone;
    None when it depends on more than the role (a record, a call)."""
    if expr is None:
        return True
    if isinstance(expr, ir.BinaryExpr) and expr.op in ("or", "and"):
        left, right = role_allows(expr.left, role, perms), role_allows(expr.right, role, perms)
        if left is None or right is None:
            return None
        return left or right if expr.op == "or" else left and right
    if isinstance(expr, ir.UnaryExpr) and expr.op == "not":
        inner = role_allows(expr.operand, role, perms)
        return None if inner is None else not inner
    if not isinstance(expr, ir.PathExpr) or len(expr.parts) != 1:
        return None
    name = expr.parts[0]
    return name == "authenticated" or name == role or name in perms
