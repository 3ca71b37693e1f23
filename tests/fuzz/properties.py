"""The properties every input must keep, whatever its bytes.

- the parser (`parse_source`) and the whole analysis (`analyze_texts`) never raise;
- the fast parse driver and Lark agree (both accept, with the same tree, or both reject);
- the formatter raises only FormatError, exactly when the parser reports a syntax error;
  otherwise it is idempotent and keeps the meaning (the IR, spans aside);
- the generators never raise on an analysis without errors.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from contractspec.analysis import Analysis, ParseCache, analyze_texts
from contractspec.format import FormatError, format_text
from contractspec.generators.base import GeneratorError, GeneratorFailure, Output
from contractspec.generators.pipeline import generate
from contractspec.grammar.lower import lower_file
from contractspec.grammar.parser import _driver, get_parser, parse_source
from contractspec.source import SourceFile
from tests.test_format_properties import strip_spans

NAME = "fuzz.cspec"
# `use … from "path"` resolves in this empty folder (deep, so that `..` stays inside it),
# not in the repository
_TEMPORARY = Path(tempfile.mkdtemp(prefix="cspec-fuzz-"))
ROOT = _TEMPORARY.joinpath(*"abcdefgh")
ROOT.mkdir(parents=True)
atexit.register(shutil.rmtree, _TEMPORARY, True)
# the standard modules' parses, kept between cases as the language server keeps them
_STD_PARSES: ParseCache = {}


def ir_without_spans(text: str) -> dict[str, Any]:
    """The lowered IR of one file and its diagnostics, spans removed."""
    source = SourceFile(NAME, text)
    parsed = parse_source(source)
    lowered = lower_file(source, parsed.chunks)
    return {
        "header": strip_spans(lowered.header.model_dump()) if lowered.header else None,
        "declarations": {k: [strip_spans(d.model_dump()) for d in v]
                         for k, v in lowered.declarations.items()},
        "diagnostics": [(d.code, d.message) for d in [*parsed.diagnostics,
                                                       *lowered.diagnostics]],
    }


def same_tree(fast: object, slow: object) -> bool:
    """Whether two Lark trees are equal, token types and positions included (iterative:
    trees may be thousands of levels deep)."""
    pending = [(fast, slow)]
    while pending:
        a, b = pending.pop()
        if isinstance(b, Tree):
            if not (isinstance(a, Tree) and a.data == b.data
                    and len(a.children) == len(b.children)):
                return False
            pending.extend(zip(a.children, b.children, strict=True))
        elif not (isinstance(a, Token) and isinstance(b, Token) and a.type == b.type
                  and str(a) == str(b) and a.start_pos == b.start_pos):
            return False
    return True


def check_parsers_agree(text: str) -> None:
    try:
        slow: Tree[Token] | None = get_parser().parse(text)
    except UnexpectedInput:
        slow = None
    fast = _driver().parse(text)
    if slow is None:
        assert fast is None, "the fast driver accepts what Lark rejects"
    else:
        assert fast is not None, "the fast driver rejects what Lark accepts"
        assert same_tree(fast, slow), "the fast driver builds another tree"


def check_formatter(text: str, syntax_errors: bool) -> str | None:
    """Format `text`; the formatted text, or None when it has syntax errors."""
    try:
        formatted = format_text(text, NAME)
    except FormatError as error:
        assert syntax_errors, f"FormatError on text the parser accepts: {error}"
        assert error.diagnostics, "FormatError without diagnostics"
        return None
    assert not syntax_errors, "formatted text the parser rejects"
    assert format_text(formatted, NAME) == formatted, "fmt is not idempotent"
    assert ir_without_spans(formatted) == ir_without_spans(text), "fmt changed the meaning"
    return formatted


def check_text(text: str) -> tuple[Analysis, Output | None]:
    """Every property on one file's text; its analysis and, when it has no error, the
    generated files."""
    check_parsers_agree(text)
    analysis = analyze_texts({NAME: text}, root=ROOT, cache=_STD_PARSES)
    _STD_PARSES.pop(NAME, None)  # the fuzzed file is parsed afresh every time
    check_formatter(text, any(d.code == "CS101" and d.span.file == NAME
                              for d in analysis.diagnostics))
    return analysis, None if analysis.errors else generated(analysis)


def generated(analysis: Analysis) -> Output | None:
    """The generated files, or None when a generator refused the spec with a message (a
    GeneratorError, e.g. an access rule it cannot evaluate). A GeneratorFailure (a crash) or
    any other exception is a failure."""
    try:
        return generate(analysis)
    except GeneratorFailure:
        raise
    except GeneratorError:
        return None


def check_valid(text: str) -> Output:
    """A generated valid spec: no error at all, every property, and its generated files."""
    analysis, output = check_text(text)
    assert not analysis.errors, [f"{d.code} {d.message}" for d in analysis.errors]
    assert output is not None, "a generator refused a valid spec"
    return output


def ruff_problems(output: Output, folder: Path) -> str:
    """Write the generated files under `folder` and run ruff there with the generated
    project's own configuration (its pyproject.toml); ruff's complaints, empty when clean."""
    for path, content in output.files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."],
                            cwd=folder, capture_output=True, text=True, check=False)
    return "" if result.returncode == 0 else result.stdout + result.stderr
