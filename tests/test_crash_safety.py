"""Crash safety of `cspec gen`: interrupted anywhere, the output folder holds the old tree or
(once the next run has finished the journal) the new one, never a mix, and the manifest
always matches the files.

Two kinds of interruption: a fault injected at every file operation of the writer (each
`os` call that changes the disk, and each file opened for writing), as a crash or as an
OSError such as a full disk, also during the recovery; and a real `kill -9` of a `cspec gen`
process on a synthetic workspace, at several points of its run.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from benchmarks.synth import Layout
from benchmarks.synth import generate as synthesize
from contractspec.analysis import analyze_workspace
from contractspec.generators import writer
from contractspec.generators.base import STATE_DIR, Output
from contractspec.generators.pipeline import generate
from contractspec.generators.writer import (
    JOURNAL,
    STAGING,
    WriterError,
    apply,
    plan,
    read_manifest,
    recover,
    sha256,
)

OPERATIONS = ("replace", "rename", "unlink", "rmdir", "mkdir", "fsync", "sync", "chmod", "open")
SMALL = 2  # entities of the workspaces of the fault-injection tests
LARGE = 60  # entities of the workspace that `kill -9` interrupts


class Crash(BaseException):
    """The process dies here (not an Exception: nothing may catch it on the way)."""


class Faults:
    """Counts the writer's file operations and fails the `at`-th one (0: never)."""

    def __init__(self) -> None:
        self.count = 0
        self.at = 0
        self.error: Callable[[], BaseException] = lambda: Crash()

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def operation(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            if self.count == self.at:
                self.at = 0  # a dead process does nothing more; a failed call is reported
                raise self.error()
            return function(*args, **kwargs)
        return operation


@contextmanager
def faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[Faults]:
    injected = Faults()
    with monkeypatch.context() as patch:
        for name in OPERATIONS:
            if name == "open":  # os.open (temporary files) and the writer's own open()
                patch.setattr(writer, "open", injected.wrap(open), raising=False)
            if hasattr(os, name):
                patch.setattr(os, name, injected.wrap(getattr(os, name)))
        yield injected


def tree(out: Path) -> dict[str, bytes]:
    """Every file under `out` except the writer's own state."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and not p.relative_to(out).as_posix().startswith(".cspec/")}


def assert_manifest_matches(out: Path) -> None:
    manifest = read_manifest(out)
    files = tree(out)
    for path, entry in manifest.files.items():
        assert path in files and sha256(files[path]) == entry.sha256, path
    for path in manifest.user_owned:
        assert path in files, path
    assert set(files) <= set(manifest.files) | set(manifest.user_owned)


def state(out: Path) -> list[str]:
    """What the writer keeps in the output folder's state directory."""
    return sorted(p.name for p in (out / STATE_DIR).iterdir())


def output_of(root: Path) -> Output:
    analysis = analyze_workspace([root])
    assert not analysis.errors
    return generate(analysis)


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Output, Output]:
    """The generated files of two versions of a workspace: new modules, files removed,
    changed and added, handler modules (user-owned) among them."""
    base = tmp_path_factory.mktemp("versions")
    synthesize(SMALL, base / "v1", Layout(per_file=2, files_per_module=1))
    synthesize(SMALL + 1, base / "v2", Layout(per_file=1, files_per_module=2))
    for root in (base / "v1", base / "v2"):  # the same app name, so the trees overlap
        (root / "cspec.toml").write_text('[workspace]\nname = "app"\nspecs = ["spec"]\n',
                                         encoding="utf-8")
    return output_of(base / "v1"), output_of(base / "v2")


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A folder in memory when the system has one (hundreds of small trees are written)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="cspec-crash-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_once(out: Path, output: Output) -> None:
    apply(plan(out, output), force=True)


@pytest.mark.parametrize("kind", ["crash", "disk full"])
def test_a_fault_at_every_file_operation(kind: str, versions: tuple[Output, Output],
                                         scratch: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Every operation for a crash; every third one for a full disk."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # durability is not the question here
    monkeypatch.setattr(os, "sync", lambda: None)
    old, new = versions
    start = scratch / "start"
    run_once(start, old)
    before, before_manifest = tree(start), read_manifest(start)
    done = scratch / "done"
    shutil.copytree(start, done)
    with faults(monkeypatch) as injected:
        run_once(done, new)
        total = injected.count
    after = tree(done)
    assert before != after and total > 30
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    assert len(changed) > 10, len(changed)
    committed = 0
    for at in range(1, total + 1, 1 if kind == "crash" else 3):
        out = scratch / f"at{at}"
        shutil.copytree(start, out)
        the_plan = plan(out, new)
        with faults(monkeypatch) as injected:
            injected.at = at
            if kind == "disk full":
                injected.error = lambda: OSError(errno.ENOSPC, "No space left on device")
            try:
                apply(the_plan, force=True)
                assert kind == "disk full", "no crash"  # a failed cleanup step is ignored
            except WriterError:
                assert kind == "disk full"
            except Crash:
                assert kind == "crash"
        for path, content in tree(out).items():  # never a mix within a file
            assert content in (before.get(path), after.get(path)), (at, path)
        if (out / JOURNAL).exists():  # after the commit point: finished by the next run
            committed += 1
            with faults(monkeypatch) as injected:  # and maybe a second one, recovering
                injected.at = 1 + at % 3
                try:
                    recover(out)
                except Crash:
                    assert (out / JOURNAL).exists()
            recover(out)
        elif tree(out) == before:  # before the commit point: the old tree, untouched
            assert read_manifest(out) == before_manifest, at
            assert_manifest_matches(out)
            run_once(out, new)
        else:  # after the journal's removal: the new tree (the staging folder may remain)
            assert tree(out) == after, at
            assert_manifest_matches(out)
            run_once(out, new)
        assert tree(out) == after, at
        assert_manifest_matches(out)
        assert state(out) == ["manifest.json"], at  # no journal, staging or temporary left
        shutil.rmtree(out)
    assert 0 < committed < total  # faults landed on both sides of the commit point


# ---- a real `kill -9` ----------------------------------------------------------------------

def cspec_gen(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "contractspec.cli.main", "gen", str(root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> bool:
    """`kill -9` the process as soon as `ready()`; whether it was still running then."""
    while process.poll() is None:
        if ready():
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.0005)
    return False


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes],
                                                             dict[str, bytes]]:
    """A workspace at version 2 whose output folder holds version 1's generation; the old
    and the new tree."""
    base = tmp_path_factory.mktemp("large")
    synthesize(LARGE, base / "v1")
    synthesize(LARGE + 4, base / "v2", Layout(per_file=16, files_per_module=2))
    for root in (base / "v1", base / "v2"):
        (root / "cspec.toml").write_text('[workspace]\nname = "app"\nspecs = ["spec"]\n',
                                         encoding="utf-8")
    out = base / "v1" / "generated"
    run_once(out, output_of(base / "v1"))
    old = tree(out)
    shutil.copytree(out, base / "v2" / "generated")
    reference = base / "reference"
    shutil.copytree(base / "v2", reference)
    assert cspec_gen(reference).wait() == 0  # the CLI: it writes the next migration
    return base / "v2", old, tree(reference / "generated")


def condition(point: str, out: Path, half: int) -> Callable[[], bool]:
    """When a run is at `point`: generating (after 0.3 s, long before any write), half of
    its files staged, or committed (the journal written)."""
    started = time.monotonic()

    def ready() -> bool:
        if point == "generating":
            return time.monotonic() - started > 0.3
        if point == "committed":
            return (out / JOURNAL).exists()
        try:
            return len(os.listdir(out / STAGING)) >= half
        except OSError:
            return False
    return ready


@pytest.mark.parametrize("point", ["generating", "half staged", "committed"])
def test_kill_9_during_cspec_gen(point: str, large: tuple[Path, dict[str, bytes],
                                                          dict[str, bytes]],
                                 tmp_path: Path) -> None:
    source, old, new = large
    changed = sum(old.get(p) != c for p, c in new.items())
    for attempt in range(5):  # a kill needs the run to be at that point when it is looked at
        root = tmp_path / f"attempt{attempt}"
        shutil.copytree(source, root)
        out = root / "generated"
        killed = kill_when(cspec_gen(root), condition(point, out, changed // 2))
        files = tree(out)
        for path, content in files.items():  # never a mix within a file
            assert content in (old.get(path), new.get(path)), path
        if not (out / JOURNAL).exists():
            assert files in (old, new)  # before the commit point, or finished
            assert_manifest_matches(out)
        assert cspec_gen(root).wait() == 0  # finishes the journal, then generates
        assert tree(out) == new
        assert_manifest_matches(out)
        assert state(out) == ["manifest.json"]
        if killed and (point != "committed" or files != new):
            return
    pytest.fail(f"`cspec gen` was never killed at {point!r} in 5 attempts")


def test_a_kill_inside_an_atomic_replace_leaves_nothing_behind(versions: tuple[Output, Output],
                                                               tmp_path: Path) -> None:
    """A process killed between writing the temporary file of the journal or the manifest
    and renaming it left `.journal.json.*.tmp` behind for good; the next run removes it."""
    old, new = versions
    out = tmp_path / "out"
    run_once(out, old)
    for name in (".journal.json.x1y2.tmp", ".manifest.json.k3l4.tmp"):
        (out / STATE_DIR / name).write_bytes(b'{"half": ')
    run_once(out, new)
    assert state(out) == ["manifest.json"]
    assert_manifest_matches(out)
