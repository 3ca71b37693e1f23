"""The fuzzing budget: small and reproducible in CI, as large as asked in the long mode.

CSPEC_FUZZ_EXAMPLES sets the examples of each hypothesis property (default 40); when it is
set, examples are random (not derandomized) so that every long run explores new inputs.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings

REPO = Path(__file__).resolve().parents[2]
LONG = "CSPEC_FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("CSPEC_FUZZ_EXAMPLES", "40"))
# ruff takes about half a second per generated app: one app per hundred examples, at least 3
RUFF_EXAMPLES = max(3, EXAMPLES // 100)


def fuzz(examples: int = EXAMPLES, shrink: bool = True) -> settings:
    """Hypothesis settings; `shrink=False` for slow properties (a failure is reported as
    found, not minimised at a few seconds per attempt)."""
    phases = list(Phase) if shrink else [Phase.explicit, Phase.reuse, Phase.generate]
    return settings(max_examples=examples, deadline=None, derandomize=not LONG, phases=phases,
                    database=None, suppress_health_check=[
                        HealthCheck.too_slow, HealthCheck.data_too_large,
                        HealthCheck.large_base_example, HealthCheck.function_scoped_fixture])


def repository_specs() -> dict[str, str]:
    """Every spec of the repository's test data and standard library, by relative path."""
    paths = [*sorted((REPO / "tests" / "data").rglob("*.cspec")),
             *sorted((REPO / "contractspec" / "std").glob("*.cspec"))]
    return {p.relative_to(REPO).as_posix(): p.read_text(encoding="utf-8") for p in paths}
