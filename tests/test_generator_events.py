"""The `events` target: golden output, determinism, valid JSON Schemas, pydantic models that
accept and reject what the schemas accept and reject, and models that pass ruff and mypy.

Set CSPEC_UPDATE_GOLDEN=1 to rewrite the golden files under tests/golden/events/."""

from __future__ import annotations

import copy
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

from contractspec.analysis import analyze_workspace
from contractspec.generators.base import Files, GeneratorOptions, builtin_registry
from contractspec.generators.events import EventsGenerator
from contractspec.generators.events.shapes import build_catalog
from contractspec.ir import nodes as ir
from tests.conftest import DATA, REPO

GOLDEN = Path(__file__).resolve().parent / "golden" / "events"
WORKSPACES = {"full": "crm", "gen_events": "shop"}  # test workspace -> app package
RUNTIME_APPS = {"full": "evgen_crm", "gen_events": "evgen_shop"}  # packages imported here


def program(workspace: str) -> ir.Program:
    analysis = analyze_workspace([DATA / workspace])
    assert analysis.diagnostics == []
    return analysis.program


def generate(workspace: str, app: str) -> Files:
    return EventsGenerator().generate(program(workspace), GeneratorOptions(app=app))


def enums_module(prog: ir.Program, app: str) -> bytes:
    """`<app>/enums.py` from the `db` target when it is registered, else the same shape:
    one StrEnum per enum, named as the events target imports them."""
    targets = builtin_registry().targets()
    if "db" in targets:
        files = targets["db"].generate(prog, GeneratorOptions(app=app))
        if f"{app}/enums.py" in files:
            return files[f"{app}/enums.py"]
    lines = ['"""Enums (stub of the db target\'s enums.py)."""']
    enums = [d for d in build_catalog(prog).definitions.values() if d.values]
    if enums:
        lines += ["", "from enum import StrEnum", ""]
    for definition in enums:
        lines += ["", f"class {definition.name}(StrEnum):"]
        lines += [f'    {v} = "{v}"' for v in definition.values]
    return ("\n".join(lines) + "\n").encode()


def write_app(root: Path, workspace: str, app: str) -> None:
    prog = program(workspace)
    files = EventsGenerator().generate(prog, GeneratorOptions(app=app))
    files[f"{app}/__init__.py"] = b""
    files[f"{app}/enums.py"] = enums_module(prog, app)
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both workspaces' generated packages, written to one folder that is on sys.path."""
    root = tmp_path_factory.mktemp("events_app")
    for workspace, app in RUNTIME_APPS.items():
        write_app(root, workspace, app)
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m.split(".")[0] in RUNTIME_APPS.values()]:
        del sys.modules[name]


def models(runtime: Path, workspace: str) -> ModuleType:
    return importlib.import_module(f"{RUNTIME_APPS[workspace]}.events.models")


def schema(runtime: Path, workspace: str, stem: str) -> dict[str, Any]:
    path = runtime / RUNTIME_APPS[workspace] / "events" / "schemas" / f"{stem}.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


# ---- golden files and determinism -----------------------------------------------------------


@pytest.mark.parametrize("workspace", sorted(WORKSPACES))
def test_golden(workspace: str) -> None:
    files = generate(workspace, WORKSPACES[workspace])
    folder = GOLDEN / workspace
    if os.environ.get("CSPEC_UPDATE_GOLDEN") == "1":
        for old in sorted(folder.rglob("*"), reverse=True):
            old.unlink() if old.is_file() else old.rmdir()
        for path, content in files.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(content)
    expected = {p.relative_to(folder).as_posix(): p.read_bytes()
                for p in sorted(folder.rglob("*")) if p.is_file()}
    assert sorted(files) == sorted(expected), "set CSPEC_UPDATE_GOLDEN=1 to update"
    for path, content in files.items():
        assert content.decode() == expected[path].decode(), path


def test_expected_files() -> None:
    files = generate("gen_events", "shop")
    assert sorted(files) == [
        "shop/events/__init__.py",
        "shop/events/models.py",
        "shop/events/schemas/member.invited.v1.json",
        "shop/events/schemas/order.placed.v1.json",
        "shop/events/schemas/order.placed.v2.json",
        "shop/events/schemas/org.created.v1.json",
        "shop/events/schemas/product.published.v1.json",  # declared without a version
    ]
    for path, content in files.items():
        if path.endswith(".py"):
            assert content.startswith(b"# Generated by cspec (events) from spec/shop.cspec.")
        else:
            assert json.loads(content)["$comment"].startswith("Generated by cspec (events)")


def test_registered() -> None:
    assert isinstance(builtin_registry().targets()["events"], EventsGenerator)


_DIGEST = """
import hashlib, sys
from pathlib import Path
from contractspec.analysis import analyze_workspace
from contractspec.generators.base import GeneratorOptions
from contractspec.generators.events import EventsGenerator
program = analyze_workspace([Path(sys.argv[1])]).program
files = EventsGenerator().generate(program, GeneratorOptions(app="shop"))
print(hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest())
"""


def test_deterministic_across_runs_and_hash_seeds() -> None:
    assert generate("gen_events", "shop") == generate("gen_events", "shop")
    digests = {
        subprocess.run([sys.executable, "-c", _DIGEST, str(DATA / "gen_events")], check=True,
                       capture_output=True, text=True, cwd=REPO,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(digests) == 1


# ---- the schemas ----------------------------------------------------------------------------


@pytest.mark.parametrize("workspace", sorted(WORKSPACES))
def test_schemas_are_valid_2020_12(workspace: str) -> None:
    files = generate(workspace, WORKSPACES[workspace])
    schemas = [json.loads(c) for p, c in files.items() if p.endswith(".json")]
    assert schemas
    for document in schemas:
        Draft202012Validator.check_schema(document)
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_annotations() -> None:
    files = generate("gen_events", "shop")
    v2 = json.loads(files["shop/events/schemas/order.placed.v2.json"])
    assert v2["$id"] == "urn:cspec:event:order.placed:v2"
    assert v2["description"] == "An order was placed (with its lines and where it goes)."
    assert (v2["x-cspec-severity"], v2["x-cspec-audit"]) == ("warning", True)
    assert (v2["x-cspec-retention"], v2["x-cspec-retention-seconds"]) == ("2y", 63072000)
    payload = v2["properties"]["payload"]["properties"]
    assert payload["reference"] == {"type": "string", "minLength": 1, "maxLength": 40}
    assert payload["quantity"] == {"type": "integer", "minimum": 0}
    assert payload["total"]["x-cspec-maximum"] == "1000000"
    assert payload["customer"]["format"] == "email" and payload["customer"]["x-cspec-pii"]
    assert payload["order"]["description"] == "The order placed."
    assert payload["related"]["items"]["x-cspec-ref"] == "shop.Product"
    assert payload["status"] == {"$ref": "#/$defs/OrderStatus"}
    assert v2["$defs"]["OrderStatus"]["enum"] == ["placed", "paid", "shipped"]
    assert set(v2["$defs"]) == {"Address", "EventActor", "Line", "OrderStatus"}
    assert "discount" not in v2["properties"]["payload"]["required"]
    published = json.loads(files["shop/events/schemas/product.published.v1.json"])
    assert "orgId" not in published["properties"]  # a global entity: no tenant data
    assert published["properties"]["payload"]["properties"]["name"]["title"] == "Name"
    assert (published["x-cspec-severity"], published["x-cspec-audit"]) == ("info", False)


# ---- samples: the schema and the model agree ------------------------------------------------

U = [f"{n:08x}-0000-4000-8000-00000000000{n}" for n in range(8)]
DELETE = object()

ORDER_V2: dict[str, Any] = {
    "id": U[0], "type": "order.placed", "version": "v2",
    "occurredAt": "2024-05-01T10:00:00Z", "actor": {"kind": "user", "id": U[1]},
    "orgId": U[2],
    "payload": {
        "order": U[3], "reference": "A-1", "status": "paid", "total": "120.50",
        "discount": "5.25", "quantity": 3, "views": 10**12, "gift": False,
        "deliverOn": "2024-05-03", "placedAt": "2024-05-01T09:59:00+02:00", "window": "PT2H",
        "customer": "ann@example.com", "site": "https://shop.example/a", "note": None,
        "trace": U[4], "extra": {"k": [1, "two", None]},
        "shipTo": {"line1": "1 Main St", "city": "Oslo", "country": "NO", "lines": None},
        "lines": [{"sku": "SKU-1", "quantity": 2, "price": "10"}], "tags": ["new"],
        "related": [U[5]], "buyer": None, "from": "web",
    },
}

# (name, [(path, value or DELETE)], valid?)
ORDER_CASES: list[tuple[str, list[tuple[str, Any]], bool]] = [
    ("valid", [], True),
    ("optional fields missing", [(f"payload.{k}", DELETE) for k in (
        "discount", "window", "site", "note", "buyer", "from", "shipTo.lines")], True),
    ("optional fields set", [("payload.note", "x" * 500), ("payload.buyer", U[6]),
                             ("payload.shipTo.lines", [])], True),
    ("missing payload field", [("payload.reference", DELETE)], False),
    ("missing envelope field", [("actor", DELETE)], False),
    ("missing orgId", [("orgId", DELETE)], False),
    ("string too long", [("payload.reference", "x" * 41)], False),
    ("string too short", [("payload.reference", "")], False),
    ("text too long", [("payload.note", "x" * 501)], False),
    ("wrong enum value", [("payload.status", "lost")], False),
    ("malformed money", [("payload.total", "12.3.4")], False),
    ("money as a number", [("payload.total", 12.5)], False),
    ("money in exponent form", [("payload.total", "1e3")], False),
    ("money below its minimum", [("payload.total", "-5")], False),
    ("money with five decimals", [("payload.lines.0.price", "1.00001")], False),
    ("decimal scale", [("payload.discount", "1.234")], False),
    ("decimal precision", [("payload.discount", "1234")], False),
    ("int below minimum", [("payload.quantity", -1)], False),
    ("int as a string", [("payload.quantity", "3")], False),
    ("int as a bool", [("payload.quantity", True)], False),
    ("int out of range in a list", [("payload.lines.0.quantity", 1001)], False),
    ("bool as a string", [("payload.gift", "yes")], False),
    ("impossible date", [("payload.deliverOn", "2024-13-01")], False),
    ("date with a time", [("payload.deliverOn", "2024-05-03T00:00:00Z")], False),
    ("naive datetime", [("payload.placedAt", "2024-05-01T10:00:00")], False),
    ("datetime as a number", [("occurredAt", 1714557600)], False),
    ("bad duration", [("payload.window", "2 hours")], False),
    ("duration as seconds", [("payload.window", 7200)], False),
    ("bad email", [("payload.customer", "not-an-email")], False),
    ("bad url", [("payload.site", "shop.example")], False),
    ("bad uuid", [("payload.trace", "1234")], False),
    ("uuid without dashes", [("payload.trace", "0" * 32)], False),
    ("bad ref id in a list", [("payload.related", ["x"])], False),
    ("wrong type", [("type", "order.placed.v2")], False),
    ("wrong version", [("version", "v1")], False),
    ("unknown payload field", [("payload.unknown", 1)], False),
    ("unknown envelope field", [("tenant", "x")], False),
    ("nested pattern", [("payload.shipTo.country", "nor")], False),
    ("nested type missing field", [("payload.shipTo.city", DELETE)], False),
    ("empty tag", [("payload.tags", [""])], False),
    ("null for a required field", [("payload.status", None)], False),
    ("unknown actor kind", [("actor.kind", "robot")], False),
    ("empty actor id", [("actor.id", "")], False),
    ("json any value", [("payload.extra", [1, {"a": None}])], True),
]

DEAL_CREATED: dict[str, Any] = {
    "id": U[0], "type": "deal.created", "version": "v1", "occurredAt": "2024-05-01T10:00:00Z",
    "actor": {"kind": "agent", "id": "salesAssistant"}, "orgId": U[1],
    "payload": {"deal": U[2], "amount": "-10.0001", "by": U[3]},
}
DEAL_CASES: list[tuple[str, list[tuple[str, Any]], bool]] = [
    ("valid", [], True),
    ("system actor", [("actor", {"kind": "system", "id": "scheduler"})], True),
    ("money with too many digits", [("payload.amount", "1" * 16)], False),
    ("missing amount", [("payload.amount", DELETE)], False),
    ("ref not an id", [("payload.deal", "deal-1")], False),
]


def mutate(sample: dict[str, Any], changes: list[tuple[str, Any]]) -> dict[str, Any]:
    result = copy.deepcopy(sample)
    for path, value in changes:
        *parents, last = path.split(".")
        node: Any = result
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return result


def schema_accepts(document: dict[str, Any], sample: dict[str, Any]) -> bool:
    validator = Draft202012Validator(document,
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    return validator.is_valid(sample)


def model_accepts(model: type[BaseModel], sample: dict[str, Any]) -> bool:
    """Both ways events arrive: JSON text, and a dict decoded from JSON (the outbox)."""
    verdicts = set()
    for load in (lambda: model.model_validate_json(json.dumps(sample)),
                 lambda: model.model_validate(json.loads(json.dumps(sample)))):
        try:
            load()
            verdicts.add(True)
        except ValidationError:
            verdicts.add(False)
    assert len(verdicts) == 1, "the JSON and Python modes disagree"
    return verdicts.pop()


@pytest.mark.parametrize(("name", "changes", "valid"), ORDER_CASES,
                         ids=[c[0] for c in ORDER_CASES])
def test_order_samples(runtime: Path, name: str, changes: list[tuple[str, Any]],
                       valid: bool) -> None:
    sample = mutate(ORDER_V2, changes)
    document = schema(runtime, "gen_events", "order.placed.v2")
    model = models(runtime, "gen_events").OrderPlacedV2
    assert schema_accepts(document, sample) is valid
    assert model_accepts(model, sample) is valid


@pytest.mark.parametrize(("name", "changes", "valid"), DEAL_CASES,
                         ids=[c[0] for c in DEAL_CASES])
def test_deal_samples(runtime: Path, name: str, changes: list[tuple[str, Any]],
                      valid: bool) -> None:
    sample = mutate(DEAL_CREATED, changes)
    assert schema_accepts(schema(runtime, "full", "deal.created.v1"), sample) is valid
    assert model_accepts(models(runtime, "full").DealCreatedV1, sample) is valid


def test_money_above_its_maximum(runtime: Path) -> None:
    """A string cannot carry a numeric maximum in JSON Schema: the model enforces it and
    the schema records it as `x-cspec-maximum`."""
    sample = mutate(ORDER_V2, [("payload.total", "1000000.01")])
    assert not model_accepts(models(runtime, "gen_events").OrderPlacedV2, sample)
    document = schema(runtime, "gen_events", "order.placed.v2")
    assert document["properties"]["payload"]["properties"]["total"]["x-cspec-maximum"] == \
        "1000000"


def test_model_round_trip_validates_against_the_schema(runtime: Path) -> None:
    module = models(runtime, "gen_events")
    event = module.OrderPlacedV2.model_validate_json(json.dumps(ORDER_V2))
    dumped = event.model_dump(mode="json")
    assert dumped["payload"]["from"] == "web"  # the keyword field keeps its spec name
    assert dumped["payload"]["total"] == "120.50"  # money stays a string
    assert schema_accepts(schema(runtime, "gen_events", "order.placed.v2"), dumped)
    assert module.OrderPlacedV2.model_validate(dumped) == event


def test_registry_of_models(runtime: Path) -> None:
    module = models(runtime, "gen_events")
    registry = module.EVENT_MODELS
    assert sorted(registry) == [("member.invited", "v1"), ("order.placed", "v1"),
                                ("order.placed", "v2"), ("org.created", "v1"),
                                ("product.published", "v1")]
    assert registry[("order.placed", "v1")] is module.OrderPlacedV1
    for (type_, version), model in registry.items():
        fields = model.model_fields
        assert fields["type"].annotation.__args__ == (type_,)
        assert fields["version"].annotation.__args__ == (version,)
        stem = f"{type_}.{version}"
        document = schema(runtime, "gen_events", stem)
        assert set(fields) == set(document["properties"]), stem


# ---- the generated code passes ruff and mypy --strict -----------------------------------------


def test_models_pass_ruff_and_mypy(tmp_path: Path) -> None:
    for workspace, app in WORKSPACES.items():
        write_app(tmp_path, workspace, app)
    packages = sorted(WORKSPACES.values())
    for args in (["--isolated"],
                 ["--isolated", "--line-length", "100",
                  "--select", "E,F,W,I,B,UP,SIM,RUF"]):
        ruff = subprocess.run([sys.executable, "-m", "ruff", "check", *args, *packages],
                              cwd=tmp_path, capture_output=True, text=True)
        assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\nplugins = pydantic.mypy\n")
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--cache-dir",
         str(tmp_path / ".mypy_cache"), *(f"{p}/events/models.py" for p in packages)],
        cwd=tmp_path, capture_output=True, text=True)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
