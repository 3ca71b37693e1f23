"""Every rule in the catalog fires on its bad example and stays silent on its good one."""

from __future__ import annotations

import pytest

from contractspec.check.registry import Rule, all_rules
from tests.conftest import codes

RULES = all_rules()
WITH_EXAMPLES = [r for r in RULES.values() if r.bad is not None]


@pytest.mark.parametrize("rule", WITH_EXAMPLES, ids=lambda r: r.code)
def test_rule_fires_on_bad_example(rule: Rule) -> None:
    assert rule.bad is not None
    assert rule.code in codes(rule.bad)


@pytest.mark.parametrize("rule", WITH_EXAMPLES, ids=lambda r: r.code)
def test_rule_is_silent_on_good_example(rule: Rule) -> None:
    assert rule.good is not None, f"{rule.code} has a bad example but no good one"
    assert rule.code not in codes(rule.good)


@pytest.mark.parametrize("rule", WITH_EXAMPLES, ids=lambda r: r.code)
def test_good_example_is_clean(rule: Rule) -> None:
    """The corrected example reports no error at all, so docs never show broken specs."""
    assert rule.good is not None
    report = [c for c in codes(rule.good) if c.startswith("CS")]
    assert not [c for c in report if RULES[c].severity.value == "error"], report


def test_codes_are_well_formed() -> None:
    for code, rule in RULES.items():
        assert code.startswith("CS") and len(code) == 5 and code[2:].isdigit()
        assert rule.summary.endswith(".") and rule.explanation
        families = {"1": ("parse", "load"), "2": ("check", "load")}
        if code[2] in families and code[2] == "1":
            assert rule.phase in families["1"]


def test_rules_without_examples_are_file_level() -> None:
    """Only problems that no text can show (binary files, I/O) go without examples."""
    missing = {r.code for r in RULES.values() if r.bad is None}
    # CS601-CS604 compare the specs with a `cspec.lock` file, which an example cannot carry:
    # their explanations give the example in words, tests/test_rules_releases.py the tests.
    assert missing <= {"CS105", "CS110", "CS111", "CS112", "CS113", "CS601", "CS602", "CS603",
                       "CS604"}
