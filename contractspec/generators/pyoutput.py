"""The files of a target as bytes, with its Python modules' long lines wrapped the way ruff
accepts under the app's settings and under its defaults (`pyimports`, `pystrings`)."""

from __future__ import annotations

from contractspec.generators.base import Files
from contractspec.generators.pyimports import wrap_imports
from contractspec.generators.pystrings import wrap_strings


def encode_sources(texts: dict[str, str]) -> Files:
    """The files of a target, sorted by path; Python modules get their long `from` imports
    and keyword-argument strings wrapped."""
    return {path: (wrap_strings(wrap_imports(text)) if path.endswith(".py") else text).encode()
            for path, text in sorted(texts.items())}
