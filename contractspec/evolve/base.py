"""The base a change analysis compares with: a lock file, or the specs at a git ref."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path

from contractspec.analysis import analyze_workspace
from contractspec.evolve.lock import LOCK_NAME, Json, build_lock, read_lock_file
from contractspec.workspace.loader import WorkspaceError


class BaseError(Exception):
    """The base cannot be read (a usage problem: exit code 2)."""


def lock_base(path: Path, shown: str) -> Json:
    """The lock file at `path`."""
    lock, problems = read_lock_file(path, shown)
    if lock is None:
        raise BaseError(f"{shown}: " + "; ".join(p.message for p in problems))
    return lock


def default_base(root: Path) -> Json:
    """The workspace's own `cspec.lock`."""
    path = root / LOCK_NAME
    if not path.is_file():
        raise BaseError(f"no {LOCK_NAME} in {root}: run `cspec release` first, or compare "
                        "with a git ref (`--base main`)")
    return lock_base(path, LOCK_NAME)


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as error:
        raise BaseError(f"cannot run git: {error.strerror or error}") from error


def git_base(root: Path, ref: str) -> Json:
    """The lock of the specs of the workspace at `root` as they were at the git `ref`."""
    return git_snapshot(root, ref)[0]


def git_snapshot(root: Path, ref: str) -> tuple[Json, dict[str, str]]:
    """The lock of the specs of the workspace at `root` as they were at the git `ref`, and
    their texts by file name (as the analysis names them; the std library aside)."""
    if ref.startswith("-") or not ref.strip():
        raise BaseError(f"not a git ref: {ref!r}")
    top = _git(["rev-parse", "--show-toplevel"], root)
    if top.returncode != 0:
        raise BaseError(f"{root} is not in a git repository, and no file `{ref}` exists")
    toplevel = Path(top.stdout.decode().strip()).resolve()
    if _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], toplevel).returncode:
        raise BaseError(f"`{ref}` is neither a file nor a git commit, branch or tag")
    prefix = root.resolve().relative_to(toplevel).as_posix()
    archive = _git(["archive", "--format=tar", ref, "--", prefix], toplevel)
    if archive.returncode != 0:
        raise BaseError(f"the workspace `{prefix}` does not exist at `{ref}`")
    with tempfile.TemporaryDirectory(prefix="cspec-base-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        base_root = Path(tmp) / prefix
        try:
            analysis = analyze_workspace([base_root])
        except WorkspaceError as error:
            raise BaseError(f"the specs at `{ref}`: {error}") from error
        errors = [d for d in analysis.errors if not d.code.startswith("CS6")]
        if errors:
            first = errors[0]
            raise BaseError(f"the specs at `{ref}` have {len(errors)} error(s), so they cannot "
                            f"be compared; the first: {first.span.file}:{first.span.start_line}"
                            f": {first.code} {first.message}")
        texts = {name: source.text for name, source in analysis.sources.items()
                 if not name.startswith("<")}
        return build_lock(analysis.program), texts
