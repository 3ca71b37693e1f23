"""Generated specs: valid ones pass `cspec check` with no error, keep every property and
generate an app that passes ruff; loose ones (random expressions wherever the grammar takes
one, so that name and access rules fire) only have to keep the properties, without crashing."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given

from contractspec.analysis import analyze_texts
from tests.fuzz.properties import check_text, check_valid, ruff_problems
from tests.fuzz.settings import RUFF_EXAMPLES, fuzz
from tests.fuzz.strategies import valid_specs
from tests.test_format_properties import specs as loose_specs

DECLARATION_KINDS = {
    "enums", "types", "entities", "permissions", "roles", "grants", "policies", "operations",
    "events", "workflows", "jobs", "triggers", "schedules", "notifications", "flags",
    "experiments", "criticals", "attachments", "metrics", "plans", "tracks", "views", "agents"}


@fuzz()
@given(valid_specs())
def test_valid_specs_check_clean_and_keep_every_property(text: str) -> None:
    assert check_valid(text).files, "nothing generated"


@fuzz(RUFF_EXAMPLES, shrink=False)
@given(valid_specs())
def test_apps_generated_from_valid_specs_pass_ruff(text: str) -> None:
    with tempfile.TemporaryDirectory(prefix="cspec-ruff-") as folder:
        problems = ruff_problems(check_valid(text), Path(folder))
    assert not problems, problems


@fuzz()
@given(loose_specs())
def test_loose_specs_never_crash(text: str) -> None:
    check_text(text)


def test_the_valid_strategy_reaches_every_kind_of_declaration() -> None:
    seen: set[str] = set()

    @fuzz(30)
    @given(valid_specs())
    def collect(text: str) -> None:
        module = next(m for m in analyze_texts({"g.cspec": text}).program.modules
                      if m.name == "generated")
        seen.update(k for k in DECLARATION_KINDS if getattr(module, k))

    collect()
    assert seen == DECLARATION_KINDS
