"""Mutations of every spec in the repository keep every property: each mutation kind once
on each spec (seeded), random chains of mutations (hypothesis), and hostile bytes read from
disk through the workspace loader."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contractspec.analysis import analyze_workspace
from tests.fuzz.mutations import HOSTILE, MUTATIONS, mutate
from tests.fuzz.properties import check_text
from tests.fuzz.settings import EXAMPLES, fuzz, repository_specs

SPECS = repository_specs()


def test_the_corpus_holds_every_repository_spec() -> None:
    assert "tests/data/full/spec/crm.cspec" in SPECS
    assert "contractspec/std/identity.cspec" in SPECS
    assert len(SPECS) >= 15


@pytest.mark.parametrize("kind", sorted(MUTATIONS))
def test_each_mutation_on_each_spec(kind: str) -> None:
    broken = 0
    for name, text in sorted(SPECS.items()):
        mutated = MUTATIONS[kind](text, random.Random(f"{kind}:{name}"))
        analysis, _ = check_text(mutated)
        broken += bool(analysis.errors)
    if kind in ("nesting", "truncate", "hostile", "random", "delete"):
        assert broken > 0  # the mutations do reach the error paths


@fuzz()
@given(st.sampled_from(sorted(SPECS)), st.randoms(use_true_random=False),
       st.integers(min_value=1, max_value=5))
def test_chains_of_mutations(name: str, rng: random.Random, count: int) -> None:
    text, _ = mutate(SPECS[name], rng, count)
    check_text(text)


@fuzz(EXAMPLES // 2)
@given(st.sampled_from(sorted(SPECS)), st.binary(min_size=1, max_size=16),
       st.sampled_from([h.encode("utf-8", "surrogatepass") for h in HOSTILE]),
       st.floats(min_value=0, max_value=1))
def test_hostile_bytes_on_disk(name: str, noise: bytes, hostile: bytes, where: float) -> None:
    """Raw bytes (invalid UTF-8, encoded surrogates, NUL, a BOM...) in a file on disk: the
    workspace analysis reports them and never raises."""
    data = SPECS[name].encode()
    at = int(len(data) * where)
    with tempfile.TemporaryDirectory(prefix="cspec-bytes-") as folder:
        root = Path(folder)
        (root / "cspec.toml").write_text('[workspace]\nspecs = ["spec"]\n', encoding="utf-8")
        (root / "spec").mkdir()
        (root / "spec" / "a.cspec").write_bytes(data[:at] + hostile + noise + data[at:])
        analysis = analyze_workspace([root])
    assert analysis.sources
