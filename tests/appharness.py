"""Generate a workspace's application and run it migrated, in process, with bearer tokens of
members of two organisations (the attack suite's harness; the running part is
`tests/examples_app.py`'s, shared with the examples' tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from contractspec.analysis import Analysis, analyze_workspace
from contractspec.generators.pipeline import generate
from tests import examples_app
from tests.examples_app import ROLES, migrate
from tests.examples_app import RunningApp as App

__all__ = ["ROLES", "App", "analyse", "running_app", "write_project"]


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
