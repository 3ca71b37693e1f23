"""Generation as `cspec gen` and the editor's regeneration preview both run it: the
targets of a checked analysis, in memory, and where their files go."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from contractspec.analysis import Analysis
from contractspec.generators.base import (
    Output,
    Registry,
    builtin_registry,
    check_settings,
    python_package_name,
    run_generators,
    target_options,
)
from contractspec.generators.writer import Plan, Status, read_previous


def generate(analysis: Analysis, names: Sequence[str] = (),
             progress: Callable[[str], None] | None = None,
             registry: Registry | None = None, out_dir: Path | None = None) -> Output:
    """Run the selected targets of `registry` (default: the built-in and installed ones;
    every target when `names` is empty) with the workspace's settings; targets that read
    their previous output (the `db` target's migrations) read it from `out_dir`. Raises
    GeneratorError (bad settings) or GeneratorFailure (a generator bug)."""
    registry = builtin_registry() if registry is None else registry
    settings = analysis.config.generators
    check_settings(settings, registry)
    default_app = python_package_name(analysis.config.name or analysis.config.root.name)
    selected = [(g, target_options(g, settings, default_app)) for g in registry.select(names)]
    def previous(prefixes: tuple[str, ...]) -> dict[str, bytes]:
        return read_previous(out_dir, prefixes) if out_dir is not None else {}

    return run_generators(analysis.program, selected, progress, previous)


def default_out_dir(analysis: Analysis) -> Path:
    """The output folder: `[output] dir` of cspec.toml (default `generated`) under the root."""
    return analysis.config.root / analysis.config.output


def summary(the_plan: Plan) -> str:
    """`2 added, 1 changed, 0 removed, 5 unchanged`."""
    counts = [(len(the_plan.by_status(status)), status.value) for status in
              (Status.ADDED, Status.CHANGED, Status.REMOVED, Status.UNCHANGED)]
    return ", ".join(f"{count} {word}" for count, word in counts)
