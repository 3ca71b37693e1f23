"""Bad input never produces a traceback: each case gets a clear message and its exit code.

Exit codes: 1 for a problem in a spec file (reported as a diagnostic), 2 for a usage or
I/O problem (one `cspec: …` line on stderr), 3 would be an internal error (never here)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contractspec.cli.init import SPEC_TEMPLATE
from contractspec.cli.main import main

CSPEC = shutil.which("cspec", path=str(Path(sys.executable).parent)) or "cspec"


def workspace(root: Path, files: dict[str, bytes]) -> Path:
    (root / "spec").mkdir(parents=True, exist_ok=True)
    (root / "cspec.toml").write_text('[workspace]\nspecs = ["spec"]\n', encoding="utf-8")
    for name, data in files.items():
        (root / "spec" / name).write_bytes(data)
    return root


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "internal error" not in err
    return code, out, err


def test_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, {"logo.cspec": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"})
    code, out, _ = check(capsys, str(root))
    assert code == 1
    assert "error[CS111]: file looks binary" in out
    assert "--> spec/logo.cspec:1:1" in out or "logo.cspec:1:1" in out


def test_binary_file_end_to_end(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"logo.cspec": bytes(range(256)) * 4})
    result = subprocess.run([CSPEC, "check", str(root)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 1
    assert "error[CS111]" in result.stdout
    assert "Traceback" not in result.stderr


def test_non_utf8_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "module m\n/// Caf\xe9\nentity A {\n  id: uuid @id\n}\n".encode("latin-1")
    root = workspace(tmp_path, {"latin.cspec": text})
    code, out, _ = check(capsys, str(root))
    assert code == 1
    assert "error[CS112]: file is not valid UTF-8 (byte 0xe9" in out
    assert "save it as UTF-8" in out
    assert "latin.cspec:2:8" in out  # points at the bad byte, after `/// Caf`


def test_ten_megabyte_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = b"// " + b"x" * 96 + b"\n"
    big = b"module big\n" + line * (10 * 1024 * 1024 // len(line) + 1)
    assert len(big) >= 10 * 1024 * 1024
    root = workspace(tmp_path, {"big.cspec": big})
    code, out, _ = check(capsys, str(root))
    assert code == 1
    assert "error[CS113]: file is too large to check (10.0 MB" in out
    assert "max_file_bytes" in out


@pytest.mark.parametrize("body", [
    "{" * 10_000 + "}" * 10_000,
    "policy A {\n  read: " + "not " * 10_000 + "x\n}",
    "policy A {\n  read: " + "[" * 10_000 + "x" + "]" * 10_000 + "\n}",
    "policy A {\n  read: " + "(" * 10_000 + "x" + ")" * 10_000 + "\n}",
])
def test_ten_thousand_nested_brackets(body: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, {"deep.cspec": f"module deep\n{body}\n".encode()})
    code, out, _ = check(capsys, str(root))
    assert code == 1
    assert "error[CS1" in out or "error[CS2" in out
    assert len(out) < 20_000  # one clear message, not one per bracket


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, {"empty.cspec": b""})
    code, out, _ = check(capsys, str(root))
    assert code == 0  # a warning
    assert "warning[CS114]: file is empty: start it with `module <name>`" in out


def test_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(capsys, str(tmp_path / "nowhere"))
    assert code == 2
    assert out == ""
    assert err == f"cspec: no such file or directory: {tmp_path / 'nowhere'}\n"


def test_folder_without_specs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "README.md").write_text("# nothing here\n", encoding="utf-8")
    code, _, err = check(capsys, str(tmp_path))
    assert code == 2
    assert err == f"cspec: no .cspec files found in {tmp_path}\n"


@pytest.mark.parametrize(("config", "message"), [
    ("[workspace\nname = ", "cspec.toml"),
    ('[workspace]\nspecs = "spec"\n', "specs must be a list"),
    ('[rules]\nCS201 = "loud"\n', "[rules] CS201 must be one of error, warning"),
    ("workspace = 3\n", "[workspace] must be a table"),
])
def test_bad_cspec_toml(config: str, message: str, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, {"app.cspec": SPEC_TEMPLATE.format(name="app").encode()})
    (root / "cspec.toml").write_text(config, encoding="utf-8")
    code, _, err = check(capsys, str(root))
    assert code == 2
    assert err.startswith("cspec: ") and message in err
    assert main(["ir", str(root)]) == 2


def test_cspec_toml_that_is_not_utf8(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, {"app.cspec": SPEC_TEMPLATE.format(name="app").encode()})
    (root / "cspec.toml").write_bytes(b"[workspace]\nname = \"\xff\"\n")
    code, _, err = check(capsys, str(root))
    assert code == 2
    assert "cspec.toml" in err


def test_folder_where_a_file_is_expected_and_the_reverse(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "spec" / "crm.cspec"
    folder.mkdir(parents=True)
    code, _, err = check(capsys, str(folder))
    assert code == 2
    assert "no .cspec files found" in err
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    assert main(["init", str(target)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def make_unreadable(path: Path) -> str:
    """Make `path` unreadable; as root (who reads anything) a dangling symlink instead."""
    path.chmod(0)
    if os.access(path, os.R_OK):
        path.unlink()
        path.symlink_to(path.with_name("gone.cspec"))
        return "dangling"
    return "denied"


def test_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, {"app.cspec": SPEC_TEMPLATE.format(name="app").encode(),
                                "secret.cspec": b"module secret\n"})
    secret = root / "spec" / "secret.cspec"
    how = make_unreadable(secret)
    try:
        code, out, err = check(capsys, str(secret))
        if how == "denied":
            assert code == 1
            assert "error[CS110]: cannot read file: Permission denied" in out
        else:
            assert code == 2
            assert err == f"cspec: no such file or directory: {secret}\n"
    finally:
        secret.chmod(0o644) if how == "denied" else secret.unlink()


@pytest.mark.parametrize(("data", "code"), [
    (b"\x00\x01binary", "CS111"),
    (b"module m\n\xff\xfe\n", "CS112"),
])
def test_fmt_skips_unreadable_specs(data: bytes, code: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, {"bad.cspec": data})
    assert main(["fmt", str(root)]) == 1
    out, err = capsys.readouterr()
    assert f"error[{code}]" in err
    assert "skipped " in err and "Traceback" not in err
    assert "1 skipped because of errors" in out
    assert (root / "spec" / "bad.cspec").read_bytes() == data


def test_fmt_leaves_an_empty_file_alone(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, {"empty.cspec": b""})
    assert main(["fmt", "--check", str(root)]) == 0
    assert "1 already formatted" in capsys.readouterr().out


def test_ir_of_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, {"logo.cspec": b"\x00\x01"})
    assert main(["ir", str(root)]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("{") and "error[CS111]" in err
    assert main(["ir", str(tmp_path / "nope")]) == 2
