"""Golden-file comparison shared by the generator tests.

Set CSPEC_UPDATE_GOLDEN=1 to rewrite a folder of golden files from the generator's output.
"""

from __future__ import annotations

import os
from pathlib import Path


def assert_golden(files: dict[str, bytes], folder: Path) -> None:
    """The generated files equal the golden folder exactly: same paths, same bytes."""
    if os.environ.get("CSPEC_UPDATE_GOLDEN") == "1":
        for old in sorted(folder.rglob("*"), reverse=True):
            old.unlink() if old.is_file() else old.rmdir()
        for path, content in files.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(content)
    expected = {p.relative_to(folder).as_posix(): p.read_bytes()
                for p in sorted(folder.rglob("*")) if p.is_file()}
    assert sorted(files) == sorted(expected), "set CSPEC_UPDATE_GOLDEN=1 to update"
    for path, content in files.items():
        assert content.decode() == expected[path].decode(), path
