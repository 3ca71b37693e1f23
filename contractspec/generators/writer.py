"""Writing generated files: a plan (what would change, read-only) and its application.

`plan(out_dir, output)` compares a fresh generation with the output folder and its manifest
(`.cspec/manifest.json`: every generated file with its sha256 and target, the user-owned files,
the cspec version). `apply(plan)` writes it:

1. every new or changed file is written to `.cspec/staging/` (the old tree is untouched);
2. the journal `.cspec/journal.json` (the moves, the deletions and the new manifest) replaces
   any previous one atomically: this is the commit point;
3. each staged file is moved into place with `os.replace` (a file is always either wholly old
   or wholly new), files no longer generated are deleted, the manifest is replaced, and the
   journal and the staging folder are removed.

An interruption before the commit point leaves the previous tree exactly as it was (the
staging folder, and any temporary file of an interrupted replacement, are cleared by the next
run); after it, `recover(out_dir)`, which every
`cspec gen` runs first, finishes the moves from the journal, so the tree and the manifest
end up matching the new generation. Files that are not in the manifest (user-owned ones,
the user's own files, a virtualenv, a database) are never touched, except a user-owned file
that is missing, which is created. `writing(out_dir)` serialises writers of one folder.
"""

from __future__ import annotations

import contextlib
import difflib
import enum
import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contractspec import __version__
from contractspec.generators.base import STATE_DIR, Output, needs_header

if sys.platform != "win32":
    import fcntl

MANIFEST = f"{STATE_DIR}/manifest.json"
JOURNAL = f"{STATE_DIR}/journal.json"
STAGING = f"{STATE_DIR}/staging"
MANIFEST_VERSION = 1


class WriterError(Exception):
    """The output folder cannot be read or written, or its manifest is unreadable."""


class ConflictError(WriterError):
    """Generated files were edited by hand (or are not cspec's) and would be overwritten."""

    def __init__(self, paths: list[str]) -> None:
        super().__init__(f"{len(paths)} file(s) edited by hand would be overwritten")
        self.paths = paths


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class Entry:
    """A generated file as the manifest records it."""

    sha256: str
    target: str
    header: bool = True


@dataclass(frozen=True)
class Manifest:
    generator: str = f"cspec {__version__}"
    files: dict[str, Entry] = field(default_factory=dict)  # generated files
    user_owned: dict[str, str] = field(default_factory=dict)  # path -> target that seeded it

    def to_json(self) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "generator": self.generator,
            "files": {path: {"sha256": e.sha256, "target": e.target, "header": e.header}
                      for path, e in sorted(self.files.items())},
            "user_owned": dict(sorted(self.user_owned.items())),
        }

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            raise ValueError(f"not a version {MANIFEST_VERSION} manifest")
        files = {path: Entry(str(e["sha256"]), str(e["target"]), bool(e.get("header", True)))
                 for path, e in data["files"].items()}
        owned = {str(path): str(target) for path, target in data["user_owned"].items()}
        return cls(str(data["generator"]), files, owned)


def read_manifest(out_dir: Path) -> Manifest:
    """The manifest of `out_dir` (empty when there is none yet)."""
    path = out_dir / MANIFEST
    if not path.exists():
        return Manifest()
    try:
        return Manifest.from_json(json.loads(path.read_bytes()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise WriterError(f"{path}: unreadable manifest ({error}); delete it to start "
                          "afresh (every existing file then counts as edited by hand)") from error


def read_previous(out_dir: Path, prefixes: tuple[str, ...]) -> dict[str, bytes]:
    """The generated files of the last run (listed in the manifest) under `prefixes`, as
    they are on disk now (a file that is missing is left out)."""
    found: dict[str, bytes] = {}
    for path in read_manifest(out_dir).files:
        if path.startswith(prefixes):
            content = _read(out_dir, path)
            if content is not None:
                found[path] = content
    return found


class Status(enum.Enum):
    ADDED = "added"  # written where no file is
    CHANGED = "changed"  # rewritten with new content
    REMOVED = "removed"  # no longer generated and unmodified: deleted
    KEPT = "kept"  # no longer generated but edited by hand: left in place, forgotten
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Change:
    path: str
    status: Status
    old: bytes | None  # what is on disk
    new: bytes | None  # what would be written
    edited: bool = False  # on disk, and not what cspec last wrote there
    user_owned: bool = False

    def line_counts(self) -> tuple[int, int]:
        """Lines added and removed (+N -M)."""
        added = removed = 0
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
                None, _lines(self.old), _lines(self.new), autojunk=False).get_opcodes():
            if tag != "equal":
                removed += i2 - i1
                added += j2 - j1
        return added, removed

    def diff(self) -> str:
        """A unified diff from the file on disk to the new content."""
        old = _text(self.old).splitlines(keepends=True)
        new = _text(self.new).splitlines(keepends=True)
        lines = difflib.unified_diff(old, new, f"a/{self.path}", f"b/{self.path}")
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                       for line in lines)


@dataclass(frozen=True)
class Plan:
    out_dir: Path
    changes: tuple[Change, ...]
    manifest: Manifest  # the manifest once applied
    pending: bool = False  # an interrupted run's journal is waiting for `recover`

    def by_status(self, *statuses: Status) -> list[Change]:
        return [c for c in self.changes if c.status in statuses]

    @property
    def conflicts(self) -> list[Change]:
        """Hand-edited (or foreign) files the plan would overwrite."""
        return [c for c in self.by_status(Status.CHANGED) if c.edited]

    @property
    def differs(self) -> bool:
        """Whether the folder differs from a fresh generation (the `--check` question)."""
        return self.pending or bool(self.by_status(Status.ADDED, Status.CHANGED, Status.REMOVED))


def plan(out_dir: Path, output: Output, scope: Iterable[str] | None = None) -> Plan:
    """What writing `output` into `out_dir` would do; reads, never writes. Files of the old
    manifest no longer generated are removed only when they belong to a target in `scope`
    (default: every target, i.e. a complete run)."""
    old = read_manifest(out_dir)
    in_scope = None if scope is None else set(scope)
    changes: list[Change] = []
    files: dict[str, Entry] = {}
    owned: dict[str, str] = {}
    for path, content in output.files.items():
        target = output.owners[path]
        current = _read(out_dir, path)
        if output.user_owned(path):
            owned[path] = target
            status = Status.UNCHANGED if current is not None else Status.ADDED
            changes.append(Change(path, status, current, content, user_owned=True))
            continue
        files[path] = Entry(sha256(content), target, needs_header(path))
        if current is None:
            changes.append(Change(path, Status.ADDED, None, content))
        elif current == content:
            changes.append(Change(path, Status.UNCHANGED, current, content))
        else:
            recorded = old.files.get(path)
            edited = recorded is None or recorded.sha256 != sha256(current)
            changes.append(Change(path, Status.CHANGED, current, content, edited=edited))
    for path, entry in old.files.items():
        if path in files or path in owned:
            continue
        if in_scope is not None and entry.target not in in_scope:
            files[path] = entry  # another target's file: not part of this run
            continue
        current = _read(out_dir, path)
        if current is not None:
            edited = sha256(current) != entry.sha256
            changes.append(Change(path, Status.KEPT if edited else Status.REMOVED, current,
                                  None, edited=edited))
    for path, target in old.user_owned.items():
        owned.setdefault(path, target)  # still the user's, generated or not
    changes.sort(key=lambda c: c.path)
    manifest = Manifest(files=dict(sorted(files.items())), user_owned=dict(sorted(owned.items())))
    return Plan(out_dir, tuple(changes), manifest, (out_dir / JOURNAL).exists())


# Called between two steps of `apply` (tests inject faults here); no-op by default.
Hook = Callable[[str], None]


def apply(plan: Plan, force: bool = False, hook: Hook | None = None) -> None:
    """Write a plan (see the module docstring for the guarantees). Refuses, writing nothing,
    when hand-edited files would be overwritten, unless `force`."""
    if plan.pending:
        raise WriterError(f"{plan.out_dir / JOURNAL}: an interrupted run must be finished "
                          "first (recover)")
    if plan.conflicts and not force:
        raise ConflictError([c.path for c in plan.conflicts])
    step = hook or (lambda _: None)
    out = plan.out_dir
    staging = out / STAGING
    try:
        shutil.rmtree(staging, ignore_errors=True)
        for stale in (out / STATE_DIR).glob(".*.tmp"):  # left by a run killed mid-replace
            stale.unlink(missing_ok=True)
        staging.mkdir(parents=True)
        moves: list[tuple[str, str]] = []
        for change in plan.by_status(Status.ADDED, Status.CHANGED):
            assert change.new is not None
            name = str(len(moves))
            _write_new(staging / name, change.new, _mode(out / change.path))
            moves.append((name, change.path))
            step(f"staged {change.path}")
        _sync_staged(staging, [name for name, _ in moves])
        deletes = [c.path for c in plan.by_status(Status.REMOVED)]
        journal = {"moves": moves, "deletes": deletes, "manifest": plan.manifest.to_json()}
        _replace_with(out / JOURNAL, (json.dumps(journal, indent=2) + "\n").encode())
        step("committed")
        _finish(out, journal, step)
    except OSError as error:
        raise WriterError(f"cannot write to {out}: {error}") from error


@contextlib.contextmanager
def writing(out_dir: Path, waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the output folder's write lock (an `flock` on its `.cspec/` folder, released by
    the system when the process dies): two `cspec gen` runs on one folder, say `--watch`
    and a manual run, take turns instead of clearing each other's staging folder. `waiting`
    is told when another run holds it (then this one blocks until it is free)."""
    if sys.platform == "win32":  # no flock there: runs are not serialised
        yield
        return
    state = out_dir / STATE_DIR
    try:
        state.mkdir(parents=True, exist_ok=True)
        handle = os.open(state, os.O_RDONLY)
    except OSError as error:
        raise WriterError(f"cannot write to {out_dir}: {error}") from error
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock


def recover(out_dir: Path) -> bool:
    """Finish an interrupted `apply` from its journal, if there is one; whether there was."""
    path = out_dir / JOURNAL
    if not path.exists():
        return False
    try:
        journal = json.loads(path.read_bytes())
        _finish(out_dir, journal, lambda _: None)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise WriterError(f"{path}: cannot finish the interrupted run ({error})") from error
    return True


def _finish(out: Path, journal: dict[str, Any], step: Hook) -> None:
    """Roll a committed journal forward; every step may be redone after an interruption."""
    staging = out / STAGING
    for name, path in journal["moves"]:
        source = staging / name
        if source.exists():
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            step(f"moved {path}")
    for path in journal["deletes"]:
        with contextlib.suppress(FileNotFoundError):
            (out / path).unlink()
        _prune(out, (out / path).parent)
        step(f"deleted {path}")
    manifest = Manifest.from_json(journal["manifest"])
    _replace_with(out / MANIFEST, manifest.to_bytes())
    step("manifest")
    (out / JOURNAL).unlink()
    shutil.rmtree(staging, ignore_errors=True)


def _read(out_dir: Path, path: str) -> bytes | None:
    target = out_dir / path
    try:
        return target.read_bytes() if target.is_file() else None
    except OSError as error:
        raise WriterError(f"cannot read {target}: {error.strerror or error}") from error


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def _write_new(path: Path, content: bytes, mode: int | None) -> None:
    """Write a staged file (made durable by `_sync_staged` before the commit point)."""
    with open(path, "wb") as stream:
        stream.write(content)
    if mode is not None:
        os.chmod(path, mode)


def _sync_staged(staging: Path, names: list[str]) -> None:
    """Make the staged files durable: one `sync()` where the platform has it (an fsync per
    file cost 9 s for 2,000 files), else an fsync per file."""
    if hasattr(os, "sync"):
        os.sync()
        return
    for name in names:
        with open(staging / name, "rb+") as stream:
            os.fsync(stream.fileno())


def _replace_with(path: Path, content: bytes) -> None:
    """Replace a file through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _prune(out: Path, folder: Path) -> None:
    """Remove folders left empty by deletions, up to (not including) the output root."""
    while folder != out and out in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _lines(content: bytes | None) -> list[str]:
    return _text(content).splitlines()


def _text(content: bytes | None) -> str:
    return "" if content is None else content.decode("utf-8", errors="replace")
