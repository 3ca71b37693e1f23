"""The generator framework: registry and entry points, options from cspec.toml, output checks,
determinism (also across PYTHONHASHSEEDs), purity, and the `app` target."""

from __future__ import annotations

import builtins
import datetime
import io
import os
import random
import shutil
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Self

import pytest

import contractspec
from contractspec.analysis import analyze_workspace
from contractspec.generators import base
from contractspec.generators.base import (
    Files,
    Generator,
    GeneratorError,
    GeneratorFailure,
    GeneratorOptions,
    Registry,
    UserOwned,
    builtin_registry,
    check_settings,
    header,
    python_package_name,
    run_generators,
    target_options,
)
from contractspec.ir import nodes as ir

FULL = Path(__file__).parent / "data" / "full"


class FakeOptions(GeneratorOptions):
    flavour: str = "plain"


class Fake:
    name: ClassVar[str] = "fake"
    description: ClassVar[str] = "a test target"
    options_model: ClassVar[type[GeneratorOptions]] = FakeOptions

    def __init__(self, files: Files | None = None) -> None:
        self.files = files

    def generate(self, program: ir.Program, options: GeneratorOptions) -> Files:
        if self.files is not None:
            return self.files
        return {f"{options.app}/x.py": header("fake", base.user_files(program)).encode()}


@pytest.fixture(scope="module")
def program() -> ir.Program:
    analysis = analyze_workspace([FULL])
    assert not analysis.errors
    return analysis.program


Selected = list[tuple[Generator, GeneratorOptions]]


def every_target() -> Selected:
    return [(g, target_options(g, {}, "crm")) for g in builtin_registry().targets().values()]


def run_all(program: ir.Program, selected: Selected | None = None) -> dict[str, bytes]:
    return run_generators(program, selected or every_target()).files


# --- registry --------------------------------------------------------------------------------

class FakeEntryPoint:
    def __init__(self, name: str, loaded: object) -> None:
        self.name, self.value, self.loaded = name, f"tests:{name}", loaded

    def load(self) -> object:
        if isinstance(self.loaded, Exception):
            raise self.loaded
        return self.loaded


def with_entry_points(monkeypatch: pytest.MonkeyPatch, *points: FakeEntryPoint) -> None:
    monkeypatch.setattr(base, "entry_points", lambda group: list(points))


def test_builtin_targets_are_generators() -> None:
    targets = builtin_registry().targets()
    assert "project" in targets and list(targets) == sorted(targets)
    for name, generator in targets.items():
        assert isinstance(generator, Generator) and generator.name == name
        assert generator.description and issubclass(generator.options_model, GeneratorOptions)


def test_entry_points_add_third_party_generators(monkeypatch: pytest.MonkeyPatch) -> None:
    with_entry_points(monkeypatch, FakeEntryPoint("fake", Fake))  # a class is instantiated
    assert isinstance(builtin_registry().targets()["fake"], Fake)


@pytest.mark.parametrize(("loaded", "message"), [
    (ImportError("no module named x"), "cannot load the generator 'broken'"),
    (object(), "is not a generator"),
])
def test_broken_entry_points_are_clear_errors(monkeypatch: pytest.MonkeyPatch, loaded: object,
                                              message: str) -> None:
    with_entry_points(monkeypatch, FakeEntryPoint("broken", loaded))
    with pytest.raises(GeneratorError, match=message):
        builtin_registry()


def test_registry_rejects_duplicates_and_unknown_targets() -> None:
    registry = Registry()
    registry.add(Fake())
    with pytest.raises(GeneratorError, match="registered twice"):
        registry.add(Fake())
    assert [g.name for g in registry.select([])] == ["fake"]
    with pytest.raises(GeneratorError, match=r"unknown target 'nope' \(available: fake\)"):
        registry.select(["nope", "fake"])


# --- options ---------------------------------------------------------------------------------

def test_options_defaults_shared_keys_and_target_tables() -> None:
    fake = Fake()
    assert target_options(fake, {}, "crm") == FakeOptions(app="crm")
    assert target_options(fake, {"app": "shop", "fake": {"flavour": "x"}}, "crm") == \
        FakeOptions(app="shop", flavour="x")
    assert target_options(fake, {"app": "shop", "fake": {"app": "own"}}, "crm").app == "own"


@pytest.mark.parametrize(("settings", "message"), [
    ({"fake": {"flavor": "x"}}, r"\[generators.fake\]: flavor: Extra inputs are not permitted"),
    ({"fake": {"flavour": 3}}, r"flavour: Input should be a valid string"),
    ({"app": "not a name"}, r"app: Value error, 'not a name' is not a valid Python package"),
])
def test_bad_options_are_clear_errors(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(GeneratorError, match=message):
        target_options(Fake(), settings, "crm")


def test_settings_for_unknown_targets_or_keys_are_errors() -> None:
    registry = Registry()
    registry.add(Fake())
    check_settings({"app": "x", "fake": {}}, registry)
    with pytest.raises(GeneratorError, match=r"\[generators.fkae\]: no such target"):
        check_settings({"fkae": {}}, registry)
    with pytest.raises(GeneratorError, match="not an option every target shares"):
        check_settings({"flavour": "x"}, registry)


# --- output checks ---------------------------------------------------------------------------

@pytest.mark.parametrize(("files", "message"), [
    ({"/abs.py": b""}, "not a relative POSIX path"),
    ({"a\\b.py": b""}, "not a relative POSIX path"),
    ({"a/../b.py": b""}, "path segment"),
    ({".cspec/x.py": b""}, "reserved"),
    ({"a.py": b"x = 1\n"}, "does not start with the generated-file header"),
    ({"a.py": "text"}, "content is not bytes"),
])
def test_bad_output_is_a_generator_failure(program: ir.Program, files: Files,
                                           message: str) -> None:
    with pytest.raises(GeneratorFailure, match=message):
        run_generators(program, [(Fake(files), FakeOptions())])


def test_json_and_user_owned_files_need_no_header(program: ir.Program) -> None:
    files: Files = {"s.json": b"{}\n", "h.py": UserOwned(b"x = 1\n")}
    output = run_generators(program, [(Fake(files), FakeOptions())])
    assert output.user_owned("h.py") and not output.user_owned("s.json")


def test_two_targets_writing_one_path_fail(program: ir.Program) -> None:
    class Other(Fake):
        name: ClassVar[str] = "other"

    with pytest.raises(GeneratorFailure, match="also produced by the target 'fake'"):
        run_generators(program, [(Fake(), FakeOptions()), (Other(), FakeOptions())])


def test_a_crashing_generator_is_reported_by_name(program: ir.Program) -> None:
    class Crashing(Fake):
        def generate(self, program: ir.Program, options: GeneratorOptions) -> Files:
            raise KeyError("boom")

    with pytest.raises(GeneratorFailure, match="generator 'fake' failed: KeyError"):
        run_generators(program, [(Crashing(), FakeOptions())])


def test_header_names_the_specs_and_wraps_long_lists() -> None:
    assert header("db", ["spec/b.cspec", "spec/a.cspec"]) == (
        "# Generated by cspec (db) from spec/a.cspec, spec/b.cspec.\n"
        "# Do not edit: change the spec and run `cspec gen`.\n")
    long = header("db", [f"spec/module_{i:02}.cspec" for i in range(20)])
    assert all(len(line) <= 99 for line in long.splitlines()) and long.count("\n") > 3
    assert header("app", [], "<!--", " -->").startswith(
        "<!-- Generated by cspec (app) from the workspace. -->\n")


@pytest.mark.parametrize(("name", "package"), [
    ("crm", "crm"), ("My-Shop", "my_shop"), ("2fa", "app_2fa"), ("class", "class_app"),
    ("ünï", "n"), ("---", "app"),
])
def test_python_package_name(name: str, package: str) -> None:
    assert python_package_name(name) == package


# --- determinism and purity ------------------------------------------------------------------

DIGEST_SCRIPT = """
import hashlib, sys
from pathlib import Path
from contractspec.analysis import analyze_workspace
from contractspec.generators.base import builtin_registry, run_generators, target_options
program = analyze_workspace([Path(sys.argv[1])]).program
selected = [(g, target_options(g, {}, "crm")) for g in builtin_registry().targets().values()]
files = run_generators(program, selected).files
digest = hashlib.sha256()
for path, content in files.items():
    digest.update(path.encode() + b"\\0" + content + b"\\0")
print(len(files), digest.hexdigest())
"""


def test_every_target_is_deterministic_in_process(program: ir.Program) -> None:
    first = run_all(program)
    assert first == run_all(program)
    assert list(first) == sorted(first)


def test_every_target_is_deterministic_across_hash_seeds() -> None:
    digests = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT, str(FULL)], env=env,
                                capture_output=True, text=True, check=True, timeout=300)
        digests.add(result.stdout)
    assert len(digests) == 1, digests


class Forbidden(Exception):
    pass


def forbidden(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise Forbidden(what)

    return refuse


class ForbiddenEnviron(dict[str, str]):
    def __getitem__(self, key: str) -> str:
        raise Forbidden("os.environ")

    def get(self, key: str, default: Any = None) -> Any:
        raise Forbidden("os.environ")

    def __iter__(self) -> Iterator[str]:
        raise Forbidden("os.environ")


class FrozenDateTime(datetime.datetime):
    @classmethod
    def now(cls, tz: datetime.tzinfo | None = None) -> Self:
        raise Forbidden("datetime.now")

    @classmethod
    def utcnow(cls) -> Self:
        raise Forbidden("datetime.utcnow")

    @classmethod
    def today(cls) -> Self:
        raise Forbidden("datetime.today")


class FrozenDate(datetime.date):
    @classmethod
    def today(cls) -> Self:
        raise Forbidden("date.today")


def test_generators_are_pure(program: ir.Program, monkeypatch: pytest.MonkeyPatch) -> None:
    """No disk (except reading cspec's own package files, e.g. templates), clock, environment
    or randomness while generating: each of them raises here."""
    selected = every_target()
    expected = run_all(program, selected)
    package = Path(contractspec.__file__).parent.resolve()
    real_open = builtins.open

    def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        inside = isinstance(file, str | os.PathLike) and package in Path(file).resolve().parents
        if not inside or any(flag in mode for flag in "wax+"):
            raise Forbidden(f"open({file!r}, {mode!r})")
        return real_open(file, mode, *args, **kwargs)

    result: dict[str, bytes] | Exception
    with monkeypatch.context() as patch:
        patch.setattr(builtins, "open", guarded_open)
        patch.setattr(io, "open", guarded_open)
        for name in ("open", "listdir", "scandir", "remove", "unlink", "rename", "replace", "mkdir",
                     "makedirs", "rmdir", "getenv", "urandom", "getcwd", "getpid"):
            patch.setattr(os, name, forbidden(f"os.{name}"))
        patch.setattr(os, "environ", ForbiddenEnviron())
        for name in ("time", "time_ns", "monotonic", "localtime", "gmtime", "ctime"):
            patch.setattr(time, name, forbidden(f"time.{name}"))
        for name in ("random", "randint", "randrange", "choice", "choices", "shuffle", "sample",
                     "uniform", "getrandbits", "seed"):
            patch.setattr(random, name, forbidden(f"random.{name}"))
        patch.setattr(uuid, "uuid1", forbidden("uuid.uuid1"))
        patch.setattr(uuid, "uuid4", forbidden("uuid.uuid4"))
        patch.setattr(datetime, "datetime", FrozenDateTime)
        patch.setattr(datetime, "date", FrozenDate)
        try:
            result = run_all(program, selected)
        except Exception as error:  # reported once the world is restored
            result = error
    assert not isinstance(result, Exception), repr(result)
    assert result == expected


# --- the project target ----------------------------------------------------------------------

def project_files(program: ir.Program, **settings: Any) -> Files:
    generator = builtin_registry().targets()["project"]
    return run_generators(program, [(generator, target_options(generator, settings, "crm"))]
                          ).files


def test_project_target_writes_the_package_skeleton(program: ir.Program) -> None:
    files = project_files(program)
    assert sorted(files) == ["README.md", "crm/__init__.py", "crm/handlers/__init__.py",
                             "crm/handlers/crm.py", "pyproject.toml"]
    assert isinstance(files["crm/handlers/crm.py"], UserOwned)
    assert isinstance(files["crm/handlers/__init__.py"], UserOwned)
    assert not isinstance(files["crm/__init__.py"], UserOwned)
    project = tomllib.loads(files["pyproject.toml"].decode())
    assert project["project"]["name"] == "crm"
    deps = " ".join(project["project"]["dependencies"])
    for name in ("fastapi", "uvicorn", "sqlalchemy>=2", "alembic", "pydantic>=2", "jinja2"):
        assert name in deps
    assert project["project"]["optional-dependencies"]["postgres"] == ["psycopg[binary]>=3.1"]
    assert project["tool"]["mypy"]["strict"] is True and "ruff" in project["tool"]
    readme = files["README.md"].decode()
    assert readme.startswith("<!-- Generated by cspec (project) from spec/crm.cspec. -->")
    assert "uvicorn crm.main:app" in readme and "crm/handlers/crm.py" in readme


def test_project_target_options(program: ir.Program) -> None:
    files = project_files(program, app="shop",
                          project={"version": "2.0.0", "description": 'a "q"'})
    assert "shop/__init__.py" in files and "shop/handlers/crm.py" in files
    project = tomllib.loads(files["pyproject.toml"].decode())["project"]
    assert project["name"] == "shop"
    assert project["version"] == "2.0.0" and project["description"] == 'a "q"'


def test_every_target_output_passes_ruff_and_mypy_with_the_project_config(
        program: ir.Program, tmp_path: Path) -> None:
    """The generated project (pyproject.toml from `project`) lints and type-checks the code of
    every target with its own ruff and mypy settings."""
    for path, content in run_all(program).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(content)
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or "ruff"
    result = subprocess.run([ruff, "check", "--no-cache", "."], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "crm"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
