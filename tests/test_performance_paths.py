"""The fast paths of the front half build exactly what the plain paths build.

- `Driver` (grammar/driver.py) gives Lark's own trees, positions and metas included, and
  rejects exactly the texts Lark rejects;
- lowering's unvalidated `_node` gives the IR that validated construction gives;
- `SourceFile.span`'s unvalidated spans equal validated ones;
- the garbage collector is paused only while parsing and lowering.
"""

from __future__ import annotations

import gc
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lark import Token, Tree
from lark.exceptions import UnexpectedInput
from pydantic import BaseModel

from benchmarks.synth import generate
from contractspec.check.registry import all_rules
from contractspec.grammar import lower
from contractspec.grammar.lower import lower_file
from contractspec.grammar.parser import _driver, get_parser, parse_source
from contractspec.source import SourceFile, Span
from tests.conftest import REPO

_META = ("empty", "line", "column", "start_pos", "end_line", "end_column", "end_pos",
         "container_line", "container_column", "container_start_pos", "container_end_line",
         "container_end_column", "container_end_pos")
_BLOCK = re.compile(r"```cspec\n(.*?)```", re.S)


def _corpus(tmp: Path) -> dict[str, str]:
    """Every spec text in the repository: spec files, doc examples, rule examples, synth."""
    texts: dict[str, str] = {}
    for root in (REPO / "tests", REPO / "contractspec" / "std"):
        for path in sorted(root.rglob("*.cspec")):
            texts[path.relative_to(REPO).as_posix()] = path.read_text(encoding="utf-8",
                                                                      errors="replace")
    for doc in sorted((REPO / "docs").glob("*.md")):
        for k, block in enumerate(_BLOCK.findall(doc.read_text(encoding="utf-8"))):
            texts[f"{doc.name}#{k}"] = block
    for code, rule in sorted(all_rules().items()):
        for label, example in (("bad", rule.bad), ("good", rule.good)):
            files = {"": example} if isinstance(example, str) else example or {}
            for name, text in files.items():
                texts[f"{code}-{label}-{name}"] = text
    generate(12, tmp / "synth")
    for path in sorted((tmp / "synth").rglob("*.cspec")):
        texts[f"synth/{path.name}"] = path.read_text(encoding="utf-8")
    return texts


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _corpus(tmp_path_factory.mktemp("corpus"))


def _lark(text: str) -> Tree[Token] | None:
    try:
        return get_parser().parse(text)
    except UnexpectedInput:
        return None


def _assert_same_tree(fast: Any, slow: Any, where: str) -> None:
    assert type(fast) is type(slow), where
    if isinstance(slow, Tree):
        assert fast.data == slow.data, where
        for name in _META:
            assert getattr(fast.meta, name, None) == getattr(slow.meta, name, None), (
                f"{where}: {slow.data}.meta.{name}")
        assert len(fast.children) == len(slow.children), f"{where}: {slow.data}"
        for a, b in zip(fast.children, slow.children, strict=True):
            _assert_same_tree(a, b, where)
    else:
        assert [getattr(fast, n) for n in Token.__slots__] == [
            getattr(slow, n) for n in Token.__slots__], f"{where}: token {slow!r}"


def _check_parse(text: str, where: str) -> bool:
    slow = _lark(text)
    fast = _driver().parse(text)
    if slow is None:
        assert fast is None, f"{where}: the driver accepts what Lark rejects"
        return False
    assert fast is not None, f"{where}: the driver rejects what Lark accepts"
    _assert_same_tree(fast, slow, where)
    return True


def test_driver_builds_lark_trees(corpus: dict[str, str]) -> None:
    accepted = sum(_check_parse(text, name) for name, text in corpus.items())
    assert accepted > 100  # the corpus is mostly valid specs


def _mutations(text: str, rng: random.Random) -> Iterator[str]:
    lines = text.split("\n")
    for _ in range(6):
        k = rng.randrange(len(lines))
        yield "\n".join(lines[:k] + lines[k + 1:])  # a line dropped
        yield "\n".join([*lines[:k], lines[k][: rng.randrange(len(lines[k]) + 1)],
                         *lines[k + 1:]])  # a line cut short
        cut = rng.randrange(len(text) + 1)
        yield text[:cut] + rng.choice(["{", "}", ":", "?", "\"", " ref ", " by ", ">", "\n",
                                       "///x\n", "1.2.3", "v2", "10ms", "[]"]) + text[cut:]


def test_driver_agrees_with_lark_on_broken_text(corpus: dict[str, str]) -> None:
    rng = random.Random(20240601)
    names = sorted(corpus)
    rejected = 0
    for name in rng.sample(names, min(60, len(names))):
        for k, text in enumerate(_mutations(corpus[name], rng)):
            rejected += not _check_parse(text, f"{name} mutation {k}")
    assert rejected > 50  # the mutations do break specs


def _fields(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, BaseModel):
        yield "__class__", type(value)
        yield "__fields_set__", value.model_fields_set
        yield from value.__dict__.items()


def _assert_same_value(a: Any, b: Any, where: str) -> None:
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, BaseModel):
        items_a, items_b = list(_fields(a)), list(_fields(b))
        assert [k for k, _ in items_a] == [k for k, _ in items_b], where
        for (key, x), (_, y) in zip(items_a, items_b, strict=True):
            _assert_same_value(x, y, f"{where}.{key}")
    elif isinstance(a, tuple | list):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same_value(x, y, f"{where}[{k}]")
    else:
        assert a == b, where


def _validated(cls: type[BaseModel], /, **values: Any) -> BaseModel:
    return cls(**values)


def test_unvalidated_ir_equals_validated_ir(corpus: dict[str, str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    sources = [SourceFile(name, text) for name, text in corpus.items()]
    parsed = [(source, parse_source(source).chunks) for source in sources]
    fast = [lower_file(source, chunks) for source, chunks in parsed]
    monkeypatch.setattr(lower, "_node", _validated)
    slow = [lower_file(source, chunks) for source, chunks in parsed]
    nodes = 0
    for (source, _), a, b in zip(parsed, fast, slow, strict=True):
        assert a.diagnostics == b.diagnostics, source.path
        _assert_same_value(a.header, b.header, f"{source.path} header")
        assert list(a.declarations) == list(b.declarations), source.path
        for key, decls in a.declarations.items():
            _assert_same_value(decls, b.declarations[key], f"{source.path} {key}")
            nodes += len(decls)
            for x, y in zip(decls, b.declarations[key], strict=True):
                assert x.model_dump_json() == y.model_dump_json()
                assert x == y and hash(x) == hash(y)
    assert nodes > 500


def test_unvalidated_spans_equal_validated_spans() -> None:
    source = SourceFile("f.cspec", "ab\ncd\n\nxyz")
    for start in range(-2, len(source.text) + 3):
        for end in range(-2, len(source.text) + 3):
            span = source.span(start, end)
            (sl, sc), (el, ec) = source.position(start), source.position(end)
            valid = Span(file="f.cspec", start_line=sl, start_col=sc, end_line=el, end_col=ec,
                         start_offset=start, end_offset=end)
            _assert_same_value(span, valid, f"span({start}, {end})")
            assert span == valid and hash(span) == hash(valid)
            assert span.model_dump_json() == valid.model_dump_json()


def test_copies_of_unvalidated_spans_leave_the_shared_fields_set_alone() -> None:
    source = SourceFile("f.cspec", "abc\ndef")
    first, second = source.span(0, 1), source.span(4, 6)
    moved = first.model_copy(update={"end_col": 9})
    assert moved.end_col == 9 and first.end_col == 2
    assert first.model_fields_set == second.model_fields_set == set(Span.model_fields)
    with pytest.raises(ValueError, match="frozen"):
        first.start_line = 3  # type: ignore[misc]


@pytest.mark.parametrize("enabled", [True, False])
def test_gc_is_paused_only_while_parsing_and_lowering(enabled: bool) -> None:
    source = SourceFile("f.cspec", "module m\n\nentity A {\n  id: uuid @id\n}\n")
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        lower_file(source, parse_source(source).chunks)
        assert gc.isenabled() is enabled
        assert gc.get_freeze_count() == 0
    finally:
        (gc.enable if was else gc.disable)()


def test_objects_frozen_by_the_program_stay_frozen() -> None:
    source = SourceFile("f.cspec", "module m\n\nentity A {\n  id: uuid @id\n}\n")
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        lower_file(source, parse_source(source).chunks)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
