"""The `cspec` command line: check (text, JSON, --stats), ir, init, help and exit codes.

Most runs call `main(argv)` in-process; a few run the installed `cspec` executable."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from contractspec import __version__
from contractspec.cli import check as check_command
from contractspec.cli import fmt as fmt_command
from contractspec.cli.common import use_color
from contractspec.cli.fmt import unified_diff
from contractspec.cli.init import SPEC_TEMPLATE, default_name, starter
from contractspec.cli.main import main
from contractspec.cli.render import TextRenderer, summary_line
from contractspec.diagnostics import Diagnostic, Fix, Related, Severity
from contractspec.format import format_text
from contractspec.source import SourceFile

# The installed console script, next to this Python's executable.
CSPEC = [shutil.which("cspec", path=str(Path(sys.executable).parent)) or "cspec"]

SALES = """\
module sales

use identity

entity Deal {
  id: uuid @id
  org: ref identity.Org @tenant
  amount: mony
}

entity Deal {
  id: uuid @id
}
"""

NOTES = """\
module notes

entity Note {
  id: uuid @id
  body: strng
}
"""


def workspace(root: Path, files: dict[str, str]) -> Path:
    """A workspace with a `cspec.toml` and the given files under `spec/`."""
    (root / "spec").mkdir(parents=True, exist_ok=True)
    (root / "cspec.toml").write_text('[workspace]\nspecs = ["spec"]\n', encoding="utf-8")
    for name, text in files.items():
        (root / "spec" / name).write_text(text, encoding="utf-8")
    return root


def clean_spec(name: str = "app") -> str:
    return SPEC_TEMPLATE.format(name=name)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return workspace(tmp_path, {"sales.cspec": SALES, "notes.cspec": NOTES})


# ---- the executable -----------------------------------------------------------------------


def on_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run a command with its stdout on a pseudo-terminal; its exit code and output."""
    controller, terminal = pty.openpty()
    with subprocess.Popen(argv, stdout=terminal, stderr=subprocess.DEVNULL, env=env) as proc:
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the terminal closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait()
    os.close(controller)
    return code, b"".join(chunks).decode("utf-8", errors="replace")



def test_version_and_exit_codes_of_the_executable(tmp_path: Path) -> None:
    version = subprocess.run([*CSPEC, "--version"], capture_output=True, text=True,
                             check=False)
    assert version.returncode == 0
    assert version.stdout.strip() == f"cspec {__version__}"
    root = workspace(tmp_path, {"sales.cspec": SALES})
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    code, coloured = on_terminal([*CSPEC, "check", str(root)], env)
    assert code == 1
    assert "\x1b[1;31merror[CS201]\x1b[0m\x1b[1m: unknown type `mony`" in coloured
    code, plain = on_terminal([*CSPEC, "check", str(root)], {**env, "NO_COLOR": "1"})
    assert code == 1
    assert "error[CS201]: unknown type `mony`" in plain
    assert "\x1b[" not in plain
    missing = subprocess.run([*CSPEC, "check", str(tmp_path / "nope")], capture_output=True,
                             text=True, check=False)
    assert missing.returncode == 2
    assert "no such file or directory" in missing.stderr
    assert "Traceback" not in missing.stderr


# ---- help and usage -----------------------------------------------------------------------


def test_help_lists_every_command_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("check", "fmt", "ir", "init"):
        assert f"    {command}" in out
    for command in ("check", "fmt", "ir", "init"):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0
        assert "examples:" in out
        assert f"cspec {command}" in out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys)
    assert code == 2
    assert "usage: cspec" in err
    code, _, err = run(capsys, "check", "--format", "xml")
    assert code == 2
    assert "invalid choice" in err
    code, _, _ = run(capsys, "frobnicate")
    assert code == 2


def test_an_unexpected_exception_is_an_internal_error(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        broken: Path) -> None:
    def explode(paths: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(check_command, "analyze_workspace", explode)
    code, _, err = run(capsys, "check", str(broken))
    assert code == 3
    assert "internal error: RuntimeError: boom" in err
    assert "please report" in err
    assert "Traceback" not in err


# ---- check: text ------------------------------------------------------------------------


def test_check_text_output(capsys: pytest.CaptureFixture[str], broken: Path) -> None:
    code, out, err = run(capsys, "check", ".")
    assert code == 1
    assert err == ""
    assert (
        "error[CS201]: unknown type `mony`\n"
        " --> spec/sales.cspec:8:11\n"
        "  |\n"
        "8 |   amount: mony\n"
        "  |           ^^^^\n"
        "  = help: did you mean `money`?\n"
    ) in out
    assert "error[CS202]: `Deal` is already declared in module `sales`" in out
    assert "= note: first declared here --> spec/sales.cspec:5:8" in out
    assert "unknown type `strng`" in out
    last = out.rstrip("\n").splitlines()[-1]
    assert last.endswith("in 2 files")
    assert last.startswith(f"{out.count('error[')} errors")


def test_check_colour_can_be_forced(capsys: pytest.CaptureFixture[str],
                                    broken: Path) -> None:
    _, out, _ = run(capsys, "check", "spec/notes.cspec", "--color", "always")
    assert "\x1b[1;31merror[CS201]" in out
    _, out, _ = run(capsys, "check", "spec/notes.cspec")  # captured output is no terminal
    assert "\x1b[" not in out


def test_check_a_file_reports_only_that_file(capsys: pytest.CaptureFixture[str],
                                             broken: Path) -> None:
    code, out, _ = run(capsys, "check", "spec/notes.cspec", "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert {d["file"] for d in report["diagnostics"]} == {"spec/notes.cspec"}
    assert report["summary"]["files"] == 1
    code, out, _ = run(capsys, "check", "spec/sales.cspec")
    assert "notes.cspec" not in out
    assert "in 1 file" in out


def test_check_clean_and_warnings_only_exit_0(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, {"app.cspec": clean_spec()})
    code, out, _ = run(capsys, "check", str(root))
    assert (code, out) == (0, "no problems in 1 file\n")
    (root / "spec" / "empty.cspec").write_text("", encoding="utf-8")
    code, out, _ = run(capsys, "check", str(root))
    assert code == 0
    assert "warning[CS114]" in out
    assert out.endswith("1 warning in 2 files\n")


def test_check_without_path_uses_the_current_folder(
        capsys: pytest.CaptureFixture[str], broken: Path) -> None:
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert "spec/sales.cspec:8:11" in out


def test_paths_outside_the_current_folder_are_absolute(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = workspace(tmp_path / "ws", {"notes.cspec": NOTES})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    _, out, _ = run(capsys, "check", str(root))
    assert f"--> {(root / 'spec' / 'notes.cspec').resolve().as_posix()}:5:9" in out


# ---- check: JSON and --stats --------------------------------------------------------------


def test_check_json_shape(capsys: pytest.CaptureFixture[str], broken: Path) -> None:
    code, out, _ = run(capsys, "check", "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert list(report) == ["version", "diagnostics", "summary"]
    assert report["version"] == 1
    unknown = next(d for d in report["diagnostics"] if d["message"] == "unknown type `mony`")
    assert unknown == {
        "code": "CS201",
        "severity": "error",
        "message": "unknown type `mony`",
        "file": "spec/sales.cspec",
        "range": {"start": {"line": 8, "column": 11}, "end": {"line": 8, "column": 15}},
        "help": "did you mean `money`?",
        "related": [],
        "fixes": [{"title": "Replace with `money`", "file": "spec/sales.cspec",
                   "range": {"start": {"line": 8, "column": 11},
                             "end": {"line": 8, "column": 15}},
                   "replacement": "money"}],
    }
    duplicate = next(d for d in report["diagnostics"] if d["code"] == "CS202")
    assert duplicate["related"] == [{
        "message": "first declared here", "file": "spec/sales.cspec",
        "range": {"start": {"line": 5, "column": 8}, "end": {"line": 5, "column": 12}}}]
    errors = sum(1 for d in report["diagnostics"] if d["severity"] == "error")
    assert report["summary"] == {"files": 2, "errors": errors, "warnings": 0, "info": 0,
                                 "hints": 0}


def test_stats_go_to_stderr(capsys: pytest.CaptureFixture[str], broken: Path) -> None:
    code, out, err = run(capsys, "check", "--format", "json", "--stats")
    assert code == 1
    json.loads(out)
    for phase in ("read", "parse", "lower", "modules", "check", "output", "total"):
        assert any(line.split()[0] == phase for line in err.splitlines() if line.strip())
    assert "files: 3 (1 from the standard library)" in err
    assert "declarations:" in err
    assert "diagnostics: " in err and " error" in err


# ---- text rendering ---------------------------------------------------------------------


def diagnostic(source: SourceFile, start: int, end: int, **extra: Any) -> Diagnostic:
    return Diagnostic(code="CS201", severity=Severity.ERROR, message="boom",
                      span=source.span(start, end), **extra)


def frame(text: str, start: int, end: int, color: bool = False, **extra: Any) -> str:
    source = SourceFile("a.cspec", text)
    renderer = TextRenderer({"a.cspec": source}, lambda file: file, color)
    return renderer.diagnostic(diagnostic(source, start, end, **extra))


def test_frame_underlines_the_span() -> None:
    text = "module m\nentity A {\n  x: mony\n}\n"
    start = text.index("mony")
    assert frame(text, start, start + 4) == (
        "error[CS201]: boom\n"
        " --> a.cspec:3:6\n"
        "  |\n"
        "3 |   x: mony\n"
        "  |      ^^^^")


def test_frame_expands_tabs() -> None:
    text = "entity A {\n\tx:\tmony\n}\n"
    start = text.index("mony")
    lines = frame(text, start, start + 4).splitlines()
    assert lines[3] == "2 |     x:    mony"
    assert lines[4] == "  |           ^^^^"
    assert lines[3].index("mony") == lines[4].index("^")


def test_frame_counts_wide_and_combining_characters() -> None:
    text = 'title "日本語" é mony\n'
    start = text.index("日")
    lines = frame(text, start, start + 3).splitlines()
    assert lines[4] == "  |        ^^^^^^"
    start = text.index("mony")
    lines = frame(text, start, start + 4).splitlines()
    # 3 wide characters take 6 cells; the combining accent takes none
    assert lines[4] == "  | " + " " * (len('title "') + 6 + len('" é ')) + "^^^^"


def test_frame_of_an_empty_span_points_at_one_column() -> None:
    text = "entity A {\n  x:\n}\n"
    end_of_line = text.index(":") + 1
    lines = frame(text, end_of_line, end_of_line).splitlines()
    assert lines[3] == "2 |   x:"
    assert lines[4] == "  |     ^"


def test_frame_of_a_multi_line_span() -> None:
    text = "entity A {\n  x: int\n\n  y: int\n}\n"
    lines = frame(text, 0, len(text) - 1).splitlines()
    assert lines[2:] == [
        "  |",
        "1 | entity A {",
        "  | ^^^^^^^^^^",
        "2 |   x: int",
        "  |   ^^^^^^",
        "3 |",
        "...",
        "5 | }",
        "  | ^",
    ]
    # a span that stops at a line break does not underline the next line
    short = frame(text, 0, text.index("\n") + 1).splitlines()
    assert short[3:] == ["1 | entity A {", "  | ^^^^^^^^^^"]


def test_frame_cuts_long_lines_around_the_span() -> None:
    text = "x" * 1000 + " mony " + "y" * 1000 + "\n"
    start = text.index("mony")
    lines = frame(text, start, start + 4).splitlines()
    assert len(lines[3]) < 260
    assert lines[3].startswith("1 | …") and lines[3].endswith("…")
    assert lines[3].index("mony") == lines[4].index("^^^^")


def test_frame_replaces_control_characters() -> None:
    lines = frame("a\x1b[31mb mony\n", 8, 12).splitlines()
    assert "\x1b" not in lines[3]
    assert lines[3].index("mony") == lines[4].index("^^^^")


def test_help_notes_and_colour() -> None:
    source = SourceFile("a.cspec", "entity A {}\nentity A {}\n")
    first = Related(span=source.span(7, 8), message="first declared here")
    plain = frame(source.text, 19, 20, help="rename one", related=(first,))
    assert plain.splitlines()[-2:] == ["  = help: rename one",
                                       "  = note: first declared here --> a.cspec:1:8"]
    fix = Fix(title="Replace with `B`", span=source.span(19, 20), replacement="B")
    assert frame(source.text, 19, 20, fixes=(fix,)).endswith("= fix: Replace with `B`")
    coloured = frame(source.text, 19, 20, color=True)
    assert "\x1b[1;31merror[CS201]\x1b[0m" in coloured
    assert "\x1b[" not in plain


def test_summary_line() -> None:
    source = SourceFile("a.cspec", "x")

    def diag(severity: Severity) -> Diagnostic:
        return Diagnostic(code="CS1", severity=severity, message="m", span=source.span(0, 1))

    errors = [diag(Severity.ERROR), diag(Severity.ERROR), diag(Severity.WARNING)]
    assert summary_line(errors, 3, False) == "2 errors, 1 warning in 3 files"
    assert summary_line([diag(Severity.INFO)] * 2, 1, False) == "2 info in 1 file"
    assert summary_line([], 1, False) == "no problems in 1 file"
    assert summary_line([], 1, True).startswith("\x1b[")


class FakeStream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    tty, pipe = FakeStream(True), FakeStream(False)
    assert use_color("auto", tty)  # type: ignore[arg-type]
    assert not use_color("auto", pipe)  # type: ignore[arg-type]
    assert use_color("always", pipe)  # type: ignore[arg-type]
    assert not use_color("never", tty)  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color("auto", tty)  # type: ignore[arg-type]
    assert use_color("always", tty)  # type: ignore[arg-type]


# ---- ir ---------------------------------------------------------------------------------


def test_ir_prints_the_program(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, {"app.cspec": clean_spec()})
    code, out, err = run(capsys, "ir", str(root))
    assert (code, err) == (0, "")
    program = json.loads(out)
    assert list(program) == ["ir_version", "modules"]
    assert [m["name"] for m in program["modules"]] == ["app", "identity"]
    entity = program["modules"][0]["entities"][0]
    assert list(entity)[:5] == ["span", "name", "name_span", "doc", "fields"]
    assert entity["span"]["file"] == "spec/app.cspec"
    assert run(capsys, "ir", str(root))[1] == out  # stable


def test_ir_module_and_no_spans(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, {"app.cspec": clean_spec()})
    code, out, _ = run(capsys, "ir", str(root / "spec" / "app.cspec"), "--module", "app",
                       "--no-spans")
    assert code == 0
    program = json.loads(out)
    assert [m["name"] for m in program["modules"]] == ["app"]
    assert '"span"' not in out and "_span" not in out
    assert program["modules"][0]["entities"][0]["name"] == "Task"
    code, _, err = run(capsys, "ir", str(root), "--module", "nope")
    assert code == 2
    assert "no module `nope` in this workspace (modules: app, identity)" in err


def test_ir_with_errors_prints_anyway_and_exits_1(
        capsys: pytest.CaptureFixture[str], broken: Path) -> None:
    code, out, err = run(capsys, "ir", ".")
    assert code == 1
    assert "sales" in [m["name"] for m in json.loads(out)["modules"]]
    assert "error[CS201]: unknown type `mony`" in err
    assert "the IR was printed all the same" in err


# ---- init -------------------------------------------------------------------------------


def test_init_creates_a_workspace_that_checks_clean(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "init", "my-shop")
    assert code == 0
    config = tmp_path / "my-shop" / "cspec.toml"
    spec = tmp_path / "my-shop" / "spec" / "my_shop.cspec"
    assert config.is_file() and spec.is_file()
    assert 'name = "my_shop"' in config.read_text(encoding="utf-8")
    assert "cd my-shop" in out and "cspec check" in out
    text = spec.read_text(encoding="utf-8")
    for construct in ("use identity", "@tenant", "permission ", "grant ", "policy Task",
                      "command ", "query ", "event "):
        assert construct in text
    code, out, _ = run(capsys, "check", "my-shop")
    assert (code, out) == (0, "no problems in 1 file\n")


def test_init_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", str(tmp_path), "--name", "shop")[0] == 0
    spec = tmp_path / "spec" / "shop.cspec"
    spec.write_text("module shop\n", encoding="utf-8")
    code, _, err = run(capsys, "init", str(tmp_path), "--name", "shop")
    assert code == 2
    assert "refusing to overwrite" in err and "nothing was written" in err
    assert spec.read_text(encoding="utf-8") == "module shop\n"
    code, _, err = run(capsys, "init", str(tmp_path), "--name", "other")
    assert code == 2
    assert "cspec.toml" in err
    assert not (tmp_path / "spec" / "other.cspec").exists()


@pytest.mark.parametrize("name", ["1abc", "my-app", "identity", ""])
def test_init_rejects_bad_names(name: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "init", str(tmp_path), "--name", name)
    assert code == 2
    assert "cspec:" in err
    assert not (tmp_path / "cspec.toml").exists()


def test_init_default_names(tmp_path: Path) -> None:
    assert default_name(tmp_path / "My Shop") == "my_shop"
    assert default_name(tmp_path / "2024") == "app_2024"
    assert default_name(tmp_path / "---") == "app"
    config, spec = starter("crm")
    assert "module crm version 0.1.0" in spec
    assert '[rules]' in config and '[output]' in config


# ---- fmt --------------------------------------------------------------------------------

UNFORMATTED = "module x\nentity A {\nid: uuid @id\n    name:   string\n}\n"


@pytest.fixture
def unformatted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    root = workspace(tmp_path, {"a.cspec": UNFORMATTED, "ok.cspec": clean_spec()})
    (root / "spec" / "a.cspec").chmod(0o640)
    return root


def test_fmt_rewrites_files_in_place(unformatted: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    target = unformatted / "spec" / "a.cspec"
    code, out, _ = run(capsys, "fmt")
    assert code == 0
    assert out == ("reformatted spec/a.cspec\n"
                   "1 file reformatted, 1 already formatted\n")
    assert target.read_text(encoding="utf-8") == format_text(UNFORMATTED)
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.cspec", "ok.cspec"]
    assert run(capsys, "fmt", "--check")[0] == 0


def test_fmt_writes_through_a_symlink(unformatted: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    link = unformatted / "spec" / "link.cspec"
    link.symlink_to(unformatted / "spec" / "a.cspec")
    assert run(capsys, "fmt", str(link))[0] == 0
    assert link.is_symlink()
    assert (unformatted / "spec" / "a.cspec").read_text(encoding="utf-8") == format_text(
        UNFORMATTED)


def test_fmt_check_lists_files_and_writes_nothing(
        unformatted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "fmt", "--check", "spec")
    assert code == 1
    assert out == ("would reformat spec/a.cspec\n"
                   "1 file would be reformatted, 1 already formatted\n")
    assert (unformatted / "spec" / "a.cspec").read_text(encoding="utf-8") == UNFORMATTED


def test_fmt_diff_prints_a_unified_diff(unformatted: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "fmt", "--diff", "spec/a.cspec")
    assert code == 1
    assert out.startswith("--- a/spec/a.cspec\n+++ b/spec/a.cspec\n@@ ")
    assert "-id: uuid @id\n" in out and "+  id: uuid @id\n" in out
    assert err == "1 file would be reformatted, 0 already formatted\n"
    assert (unformatted / "spec" / "a.cspec").read_text(encoding="utf-8") == UNFORMATTED


def test_fmt_diff_marks_a_missing_final_newline() -> None:
    diff = unified_diff("module x", "module x\n", "a.cspec")
    assert diff.endswith("-module x\n\\ No newline at end of file\n+module x\n")


def test_fmt_skips_files_with_syntax_errors(unformatted: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    broken = unformatted / "spec" / "broken.cspec"
    broken.write_text("module y\nentity {\n", encoding="utf-8")
    code, out, err = run(capsys, "fmt")
    assert code == 1
    assert "error[CS101]" in err and "--> spec/broken.cspec:2:8" in err
    assert "skipped spec/broken.cspec: fix the errors above first" in err
    assert out.endswith("1 file reformatted, 1 already formatted, 1 skipped because of "
                        "errors\n")
    assert broken.read_text(encoding="utf-8") == "module y\nentity {\n"
    assert (unformatted / "spec" / "a.cspec").read_text(encoding="utf-8") != UNFORMATTED


def test_fmt_failed_write_leaves_the_file_and_no_temporary(
        unformatted: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fmt_command.os, "replace", refuse)
    code, _, err = run(capsys, "fmt", "spec/a.cspec")
    assert code == 2
    assert err == "cspec: cannot write spec/a.cspec: Permission denied\n"
    assert sorted(p.name for p in (unformatted / "spec").iterdir()) == ["a.cspec", "ok.cspec"]
    assert (unformatted / "spec" / "a.cspec").read_text(encoding="utf-8") == UNFORMATTED


def test_fmt_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "fmt", str(tmp_path / "nope.cspec"))
    assert (code, err) == (2, f"cspec: no such file or directory: {tmp_path / 'nope.cspec'}\n")
    code, _, err = run(capsys, "fmt", str(tmp_path))
    assert (code, err) == (2, f"cspec: no .cspec files found in {tmp_path}\n")
