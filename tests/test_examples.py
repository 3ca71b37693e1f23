"""The reference examples under examples/: each checks clean with no suppression, is
formatted, matches its release lock, and its committed generated application is up to date
(`cspec gen --check`) and passes its own ruff and mypy --strict. `scripts/regen-examples`
regenerates them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NAMES = sorted(p.parent.name for p in EXAMPLES.glob("*/cspec.toml"))


def _cspec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["cspec", *args], capture_output=True, text=True, check=False)


def _app(name: str) -> tuple[Path, str]:
    """The example's output folder and its Python package."""
    config = tomllib.loads((EXAMPLES / name / "cspec.toml").read_text())
    return EXAMPLES / name / config["output"]["dir"], config["generators"]["app"]


def test_the_three_examples_exist() -> None:
    assert NAMES == ["agent-console", "crm-pipeline", "saas-boilerplate"]


@pytest.mark.parametrize("name", NAMES)
def test_example_checks_clean_without_suppressions(name: str) -> None:
    specs = sorted((EXAMPLES / name / "spec").glob("*.cspec"))
    assert specs
    for spec in specs:
        assert "cspec-ignore" not in spec.read_text(), spec
    assert "[rules]" not in (EXAMPLES / name / "cspec.toml").read_text()
    out = _cspec("check", "--format", "json", str(EXAMPLES / name))
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["diagnostics"] == []


@pytest.mark.parametrize("name", NAMES)
def test_example_is_formatted(name: str) -> None:
    out = _cspec("fmt", "--check", str(EXAMPLES / name / "spec"))
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("name", NAMES)
def test_generated_app_has_no_drift(name: str) -> None:
    out = _cspec("gen", "--check", str(EXAMPLES / name))
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("name", NAMES)
def test_release_lock_matches_the_spec(name: str) -> None:
    assert (EXAMPLES / name / "cspec.lock").is_file()
    out = _cspec("diff", "--format", "json", "--fail-on", "safe", str(EXAMPLES / name))
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["changes"] == []


@pytest.mark.parametrize("name", NAMES)
def test_readme_tells_purpose_flows_running_and_regeneration(name: str) -> None:
    text = (EXAMPLES / name / "README.md").read_text()
    for heading in ("## Entities", "## Flows", "## Run it", "## Regenerating"):
        assert heading in text, heading
    _, package = _app(name)
    assert f"alembic -c {package}/alembic.ini upgrade head" in text


@pytest.mark.parametrize("name", NAMES)
def test_generated_code_passes_its_ruff_and_ruffs_defaults(name: str) -> None:
    """The app's own ruff settings, then ruff's default rules (`--isolated`, 88 columns)."""
    folder, _ = _app(name)
    for isolated in ([], ["--isolated"]):
        out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *isolated,
                              "."], cwd=folder, capture_output=True, text=True, check=False)
        assert out.returncode == 0, out.stdout + out.stderr


def test_generated_code_passes_mypy_strict() -> None:
    """One mypy run over the three packages (the apps share their settings)."""
    packages = [str(folder / package) for folder, package in map(_app, NAMES)]
    config = _app(NAMES[0])[0] / "pyproject.toml"
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                          "--cache-dir", os.devnull, "--config-file", str(config), *packages],
                         capture_output=True, text=True, check=False, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
