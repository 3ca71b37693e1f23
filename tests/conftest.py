"""Shared helpers: analyse spec text in memory and look at the codes it reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from contractspec.analysis import Analysis, analyze_texts
from contractspec.diagnostics import Diagnostic

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def analyse(files: str | dict[str, str]) -> Analysis:
    """Analyse one spec text (as `example.cspec`) or several named files."""
    return analyze_texts(files if isinstance(files, dict) else {"example.cspec": files})


def diagnostics(files: str | dict[str, str]) -> list[Diagnostic]:
    return analyse(files).diagnostics


def codes(files: str | dict[str, str]) -> list[str]:
    return [d.code for d in diagnostics(files)]


@pytest.fixture
def full_workspace() -> Path:
    return DATA / "full"
