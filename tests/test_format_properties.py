"""Properties of `cspec fmt`, tested with hypothesis: idempotent, meaning-preserving (the IR
before and after is equal, spans aside) and keeping every comment, on every spec in the
repository, on re-spaced and commented variants of them, and on generated specs.

The example budget is small by default; set CSPEC_FUZZ_EXAMPLES (say 2000) for a long run.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contractspec.format import format_text
from contractspec.format.lexing import lex
from contractspec.grammar.lower import lower_file
from contractspec.grammar.parser import parse_source
from contractspec.source import SourceFile

REPO = Path(__file__).resolve().parent.parent
_SKIPPED_DIRS = {".git", ".venv", "venv", "build", "dist", "node_modules"}
# Specs that hold syntax errors on purpose (the seeded-mistakes workspace).
INTENTIONALLY_BROKEN = {"tests/data/seeded/spec/crm.cspec"}
EXAMPLES = int(os.environ.get("CSPEC_FUZZ_EXAMPLES", "15"))
_SETTINGS = {
    "deadline": None,
    "derandomize": "CSPEC_FUZZ_EXAMPLES" not in os.environ,
    # The repository's specs are the inputs, and some (the standard library) are long.
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                              HealthCheck.large_base_example],
}
FUZZ = settings(max_examples=EXAMPLES, **_SETTINGS)  # type: ignore[arg-type]
FUZZ_SMALL = settings(max_examples=2 * EXAMPLES, **_SETTINGS)  # type: ignore[arg-type]
SPAN_KEYS = frozenset({"span", "name_span", "template_span"})


def repository_specs() -> list[Path]:
    """Every `.cspec` file of the repository (not in ignored or generated folders)."""
    found = []
    for path in sorted(REPO.rglob("*.cspec")):
        parts = path.relative_to(REPO).parts
        if not path.is_file():  # a generated app's `.cspec` folder
            continue
        if _SKIPPED_DIRS.intersection(parts) or parts[:2] == ("benchmarks", "out"):
            continue
        if "/".join(parts) in INTENTIONALLY_BROKEN:
            continue
        found.append(path)
    return found


SPECS = {str(p.relative_to(REPO)): p.read_text(encoding="utf-8") for p in repository_specs()}


def strip_spans(value: Any) -> Any:
    """A model dump without its source positions."""
    if isinstance(value, dict):
        return {k: strip_spans(v) for k, v in value.items() if k not in SPAN_KEYS}
    if isinstance(value, list | tuple):
        return [strip_spans(v) for v in value]
    return value


def ir_without_spans(text: str) -> dict[str, Any]:
    """The lowered IR of one file (header, declarations, lowering diagnostics), spans removed."""
    source = SourceFile("spec.cspec", text)
    parsed = parse_source(source)
    assert not parsed.diagnostics, [d.message for d in parsed.diagnostics]
    lowered = lower_file(source, parsed.chunks)
    ir: dict[str, Any] = strip_spans({
        "header": lowered.header.model_dump() if lowered.header else None,
        "declarations": {k: [d.model_dump() for d in v] for k, v in lowered.declarations.items()},
        "diagnostics": [(d.code, d.message) for d in lowered.diagnostics],
    })
    return ir


_LEXICAL = re.compile(r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|//[^\n]*')


def comment_texts(text: str) -> list[str]:
    """Every `//` and `///` comment, in order, found without the formatter's own lexer."""
    return [m.group().rstrip() for m in _LEXICAL.finditer(text) if m.group().startswith("//")]


def assert_formats_well(text: str) -> str:
    formatted = format_text(text)
    assert format_text(formatted) == formatted, "not idempotent"
    assert ir_without_spans(formatted) == ir_without_spans(text), "meaning changed"
    assert comment_texts(formatted) == comment_texts(text), "comments lost, added or moved"
    return formatted


# ---- mutations of valid specs: whitespace and comments between tokens ---------------------
_SPACES = [" ", "  ", "\t", "\n", "\n\n", "\n    ", " \n\t ", "\r\n", "\n\n\n  "]


def respace(text: str, rng: random.Random, comment_rate: float = 0.0) -> str:
    """`text` with new whitespace between all tokens (never inside a token or a comment;
    a comment stays on its own line or at the end of one, as it was), and with some `//`
    comments added, on their own line or at the end of one."""
    lexed = lex(text, "spec.cspec")
    out: list[str] = []
    added = 0
    for i, gap in enumerate(lexed.gaps):
        comments = [(c.text, c.own_line) for c in gap]
        if rng.random() < comment_rate:
            added += 1
            at = rng.randint(0, len(comments))
            trailing = at == 0 and i > 0 and rng.random() < 0.5 and (
                lexed.tokens[i - 1].type != "DOC")
            comments.insert(at, (f"// added {added}", not trailing))
            if trailing and len(comments) > 1:
                comments[1] = (comments[1][0], True)
        space = ("\n" if i > 0 and lexed.tokens[i - 1].type == "DOC" else "") + rng.choice(
            _SPACES)
        for k, (comment, own_line) in enumerate(comments):
            if k == 0 and not own_line:
                space = " "
            elif k == 0 and "\n" not in space:
                space += "\n"
            space += comment + "\n" + rng.choice(_SPACES)
        out.append(space)
        if i < len(lexed.tokens):
            out.append(str(lexed.tokens[i]))
    return "".join(out)


def without_blank_lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_repository_spec_formats_well(name: str) -> None:
    assert_formats_well(SPECS[name])


@FUZZ
@given(st.sampled_from(sorted(SPECS)), st.randoms(use_true_random=False))
def test_respaced_specs_format_to_the_same_text(name: str, rng: random.Random) -> None:
    text = SPECS[name]
    messy = respace(text, rng)
    assert without_blank_lines(assert_formats_well(messy)) == without_blank_lines(
        format_text(text))


@FUZZ
@given(st.sampled_from(sorted(SPECS)), st.randoms(use_true_random=False),
       st.floats(min_value=0.01, max_value=0.3))
def test_added_comments_are_kept(name: str, rng: random.Random, rate: float) -> None:
    messy = respace(SPECS[name], rng, comment_rate=rate)
    formatted = assert_formats_well(messy)
    assert comment_texts(formatted) == comment_texts(messy)


# ---- generated specs -----------------------------------------------------------------------
NAMES = st.sampled_from(["a", "b", "deal", "owner", "amount", "status", "by", "input", "view"])
LITERALS = st.sampled_from(['"s"', '"a \\" b"', "0", "42", "1.5", "30s", "10MB", "25%", "true",
                            "false", "null"])
_LEVEL = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, ">=": 4, "in": 4, "+": 5, "-": 5,
          "*": 6, "/": 6}


@st.composite
def expressions(draw: st.DrawFn, depth: int = 3) -> tuple[str, int]:
    """Expression text and its precedence level (8 = atom), always valid."""
    def wrap(part: tuple[str, int], minimum: int) -> str:
        text, level = part
        extra = draw(st.booleans()) and draw(st.booleans())
        return f"({text})" if level < minimum or extra else text
    choices = ["path", "literal", "call", "list"] + (["binary", "not", "sign"] * 2 if depth else [])
    kind = draw(st.sampled_from(choices))
    sub = expressions(depth - 1) if depth else expressions(0)
    if kind == "path":
        return ".".join(draw(st.lists(NAMES, min_size=1, max_size=3))), 8
    if kind == "literal":
        return draw(LITERALS), 8
    if kind in ("call", "list"):
        items = [draw(sub)[0] for _ in range(draw(st.integers(0, 2 if depth else 0)))]
        comma = "," if draw(st.booleans()) and len(items) > 0 else ""
        inner = ", ".join(items) + comma
        return (f"{draw(NAMES)}({inner})" if kind == "call" else f"[{inner}]"), 8
    if kind == "not":
        return f"not {wrap(draw(sub), 3)}", 3
    if kind == "sign":
        return f"{draw(st.sampled_from('+-'))}{wrap(draw(sub), 7)}", 7
    op = draw(st.sampled_from(sorted(_LEVEL)))
    level = _LEVEL[op]
    left = wrap(draw(sub), level + 1 if level == 4 else level)
    return f"{left} {op} {wrap(draw(sub), level + 1)}", level


TYPES = st.sampled_from(["string", "string(1..80)", "int(0..)", "int(..9)", "decimal(12, 2)",
                         "ref Deal", "ref identity.User?", "page<Deal>", "string[]",
                         "map<string, page<Deal>>?", "money"])


@st.composite
def fields(draw: st.DrawFn) -> str:
    default = f" = {draw(expressions(1))[0]}" if draw(st.booleans()) else ""
    attributes = draw(st.lists(st.sampled_from(
        ["@id", "@pii", '@label("L")', "@default(now)", "@default(now())", "@renamedFrom(x)"]),
        max_size=2))
    doc = draw(st.sampled_from(["", "/// A field.\n", "/// Two\n/// lines.\n"]))
    return f"{doc}{draw(NAMES)}_f: {draw(TYPES)}{default} {' '.join(attributes)}"


@st.composite
def specs(draw: st.DrawFn) -> str:
    parts = ["module generated"]
    for k in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["entity", "policy", "workflow", "command", "enum", "agent"]))
        if kind == "entity":
            members = draw(st.lists(fields(), min_size=0, max_size=4))
            parts.append(f"entity E{k} {{ {'  '.join(members)} }}")
        elif kind == "policy":
            rules = [f"{a}: {draw(expressions())[0]}" for a in ("read", "update")]
            parts.append(f"policy E{k} {{ {' '.join(rules)} }}")
        elif kind == "workflow":
            guard = draw(expressions(2))[0]
            parts.append(f"workflow W{k} on E.status {{ initial a transition t: a, b -> c by "
                         f"{guard} when {guard} final c }}")
        elif kind == "command":
            inputs = " ".join(draw(st.lists(fields(), max_size=3)))
            parts.append(f"command c{k} v1 {{ input {{ {inputs} }} output page<E>? "
                         f"policy {draw(expressions(2))[0]} errors {{ A 404 \"a\" B }} }}")
        elif kind == "enum":
            values = " ".join(draw(st.lists(NAMES, max_size=4, unique=True)))
            parts.append(f"enum En{k} {{ {values} }}")
        else:
            parts.append(f"agent ag{k} {{ model \"m\" tools a, b policy {draw(expressions(1))[0]}"
                         " limits { steps 10 time 5m } }")
    return "\n".join(parts)


@FUZZ_SMALL
@given(specs(), st.randoms(use_true_random=False))
def test_generated_specs_format_well(text: str, rng: random.Random) -> None:
    canonical = assert_formats_well(text)
    assert without_blank_lines(format_text(respace(text, rng))) == without_blank_lines(canonical)
    assert_formats_well(respace(text, rng, comment_rate=0.1))
