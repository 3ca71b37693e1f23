"""Feature flags and experiments in a generated app, on SQLite and PostgreSQL: the rollout hash
is stable and spreads evenly, targets (org, user, plan, segment) switch a flag on, an operation
behind a flag answers 404 like an unknown route while the flag is off, experiment assignments
are recorded once and never change, and a `critical` operation is never gated by an
experiment. The workspace and the app fixture are shared with test_services_metering.py."""

from __future__ import annotations

import hashlib
import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, cast

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from contractspec.analysis import analyze_texts, analyze_workspace
from contractspec.generators.api.model import Operation
from contractspec.generators.base import GeneratorError
from contractspec.generators.pipeline import generate
from contractspec.generators.services.gating import gate_key
from tests.conftest import codes
from tests.databases import temporary_database

APP = "shop"
SPEC = """\
/// A shop with notes and cards, to test flags and metering.
module shop version 1.0.0

use identity
use flags
use metering

entity Note {
  id: uuid @id
  org: ref identity.Org @tenant
  title: string(1..80)
  @@unique(org, title)
}

entity Card {
  id: uuid @id
  org: ref identity.Org @tenant
  title: string(1..80)
}

permission write_notes "Write notes and cards"

grant owner, admin: write_notes
grant owner: manage_flags, manage_experiments, view_flags

policy Note {
  read: write_notes
  create: write_notes
}

policy Card {
  read: write_notes
  create: write_notes
}

command createNote v1 {
  input {
    title: string(1..80)
  }
  output Note
  policy write_notes
  emits note.created
  meters api_calls
}

query listNotes v1 {
  output page<Note>
  policy write_notes
  meters api_calls
}

command createCard v1 {
  input {
    title: string(1..80)
  }
  output Card
  policy write_notes
  behind newBoard
}

query listCards v1 {
  output page<Card>
  policy write_notes
  behind onboardingCopy
}

event note.created v1 {
  payload {
    note: ref Note
    by: ref identity.User
  }
  retention 30d
}

flag newBoard "New board" {
  default off
  target plan pro
}

flag everywhere {
  default on
}

flag halfOfOrgs {
  default off
  rollout 50% by org
}

experiment onboardingCopy {
  variants control 50%, short 50%
  metric note.created
}

experiment pricingPage {
  variants control 50%, annual 50%
  metric note.created
}

critical createNote

metric api_calls "API calls" {
  unit call
  aggregate sum monthly
}

metric notes_created {
  unit note
  aggregate count monthly
  from note.created
}

plan pro {
  limit api_calls 5/month
  flags newBoard
}

plan free {
  limit api_calls 100/day
}
"""


@dataclass
class App:
    client: TestClient
    modules: dict[str, ModuleType]
    tokens: dict[str, str] = field(default_factory=dict)  # "<org>:<role>" -> token

    def token(self, who: str) -> str:
        """The token of `<org>:<role>` (created on first use)."""
        if who not in self.tokens:
            org, role = who.split(":")
            with self.session() as db:
                self.tokens[who] = self.modules["dev"].create_token(
                    db, f"Org {org}", f"{role}@{org}.example", role, role.title())
        return self.tokens[who]

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token(who)}"}
        return self.client.request(method, path, headers=headers, **kwargs)

    def actor(self, who: str) -> Any:
        with self.session() as db:
            return self.modules["auth"].actor_for_token(db, self.token(who))

    def session(self) -> Any:
        return self.modules["session"].SessionLocal()

    def rows(self, model: str, **where: Any) -> list[Any]:
        orm = getattr(self.modules["models"], model)
        with self.session() as db:
            return list(db.scalars(sa.select(orm).filter_by(**where)).all())


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workspace = tmp_path_factory.mktemp("shop_spec")
    (workspace / "cspec.toml").write_text('[workspace]\nname = "shop"\nspecs = ["spec"]\n')
    (workspace / "spec").mkdir()
    (workspace / "spec" / "shop.cspec").write_text(SPEC)
    analysis = analyze_workspace([workspace])
    assert not analysis.errors, analysis.diagnostics
    root = tmp_path_factory.mktemp("shop_app")
    for path, content in generate(analysis).files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)
    return root


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, project: Path,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with temporary_database(request.param, tmp_path_factory.mktemp(request.param),
                            "svc") as url:
        yield from running_app(project, url)


def running_app(project: Path, url: str) -> Iterator[App]:
    """The generated app migrated on `url`, served by a TestClient."""
    env = {**os.environ, "DATABASE_URL": url}
    migrated = subprocess.run([sys.executable, "-m", "alembic", "-c", f"{APP}/alembic.ini",
                               "upgrade", "head"], cwd=project, env=env, capture_output=True,
                              text=True, check=False)
    assert migrated.returncode == 0, migrated.stderr
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.syspath_prepend(str(project))
        modules = {name: importlib.import_module(f"{APP}.{path}") for name, path in (
            ("main", "main"), ("session", "db.session"), ("dev", "dev"), ("models", "db.models"),
            ("auth", "auth"), ("enums", "enums"), ("evaluate", "flags.evaluate"),
            ("usage", "metering.usage"), ("outbox", "events.outbox"),
            ("queue", "jobs.queue"), ("worker", "jobs.worker"))}
        with TestClient(modules["main"].app) as client:
            yield App(client, modules)
        modules["session"].engine.dispose()
        for name in [m for m in sys.modules if m == APP or m.startswith(f"{APP}.")]:
            del sys.modules[name]


# ---- the generated code -------------------------------------------------------------------


def test_generated_code_passes_ruff_and_mypy(project: Path) -> None:
    for tool in (["ruff", "check", APP], ["mypy", APP]):
        done = subprocess.run([sys.executable, "-m", *tool], cwd=project, capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_a_critical_operation_behind_an_experiment_is_refused_at_check_time() -> None:
    spec = SPEC.replace("  policy write_notes\n  emits note.created\n",
                        "  policy write_notes\n  emits note.created\n  behind onboardingCopy\n")
    assert "CS505" in codes(spec)
    assert "CS505" not in codes(SPEC)
    # and the generator refuses it, should the error be silenced
    program = analyze_texts({"shop.cspec": spec}).program
    decl = next(o for m in program.modules for o in m.operations if o.name == "createNote")
    with pytest.raises(GeneratorError, match="critical operation `createNote`"):
        gate_key(program, cast(Operation, SimpleNamespace(decl=decl, transition=None)))
    card = next(o for m in program.modules for o in m.operations if o.name == "createCard")
    assert gate_key(program, cast(Operation, SimpleNamespace(decl=card, transition=None))) \
        == "newBoard"


# ---- evaluation -----------------------------------------------------------------------------


def test_rollout_hash_is_stable_and_evenly_spread(app: App) -> None:
    evaluate = app.modules["evaluate"]
    ids = [uuid.UUID(int=i * 7919 + 1) for i in range(4000)]
    first = [evaluate.in_rollout("halfOfOrgs", i, 25) for i in ids]
    assert first == [evaluate.in_rollout("halfOfOrgs", i, 25) for i in ids]
    assert 900 < sum(first) < 1100  # a quarter of 4000, within 2.5 points
    # growing the rollout keeps everyone who was in
    assert all(evaluate.in_rollout("halfOfOrgs", i, 60) for i, on in zip(ids, first, strict=True)
               if on)
    # another flag buckets independently
    other = [evaluate.in_rollout("newBoard", i, 25) for i in ids]
    assert other != first
    digest = hashlib.sha256(f"halfOfOrgs:{ids[0]}".encode()).digest()
    assert evaluate.bucket("halfOfOrgs", ids[0]) == int.from_bytes(digest[:8], "big") % 10000


def _flags(app: App, who: str) -> set[str]:
    response = app.call(who, "GET", "/v1/evaluate-flags")
    assert response.status_code == 200, response.text
    return {f["key"] for f in response.json()}


def test_defaults_and_rollout_by_org(app: App) -> None:
    evaluate = app.modules["evaluate"]
    for org in ("r1", "r2", "r3", "r4", "r5", "r6"):
        on = _flags(app, f"{org}:owner")
        assert "everywhere" in on and "newBoard" not in on
        actor = app.actor(f"{org}:owner")
        expected = evaluate.in_rollout("halfOfOrgs", actor.org_id, 50)
        assert ("halfOfOrgs" in on) == expected
        assert ("halfOfOrgs" in _flags(app, f"{org}:admin")) == expected  # by org: same org
    assert _flags(app, "r1:owner") == _flags(app, "r1:owner")


def test_targets_by_org_user_plan_and_segment(app: App) -> None:
    add = "/v1/add-flag-target"
    assert "newBoard" not in _flags(app, "t1:owner")
    org = str(app.actor("t1:owner").org_id)
    assert app.call("t1:owner", "POST", add, json={
        "key": "newBoard", "kind": "org", "value": org}).status_code == 200
    assert "newBoard" in _flags(app, "t1:owner") and "newBoard" in _flags(app, "t1:admin")
    assert "newBoard" not in _flags(app, "t2:owner")
    # a user target: that user only
    user = str(app.actor("t2:admin").user_id)
    assert app.call("t1:owner", "POST", add, json={
        "key": "newBoard", "kind": "user", "value": user}).status_code == 200
    assert "newBoard" in _flags(app, "t2:admin") and "newBoard" not in _flags(app, "t2:owner")
    # a plan: the spec's `target plan pro` and `plan pro { flags newBoard }`
    assert app.call("t3:owner", "POST", "/v1/change-plan", json={"plan": "pro"}).status_code \
        == 200
    assert "newBoard" in _flags(app, "t3:owner")
    # a segment
    key = f"beta-{uuid.uuid4().hex[:6]}"
    assert app.call("t1:member", "POST", "/v1/create-segment", json={"key": key}).status_code \
        == 403
    created = app.call("t1:owner", "POST", "/v1/create-segment", json={"key": key})
    assert created.status_code == 201, created.text
    segment_id = created.json()["id"]
    assert app.call("t1:owner", "POST", "/v1/create-segment", json={"key": key}).status_code \
        == 409  # keys are unique
    listed = app.call("t1:admin", "GET", "/v1/list-segments", params={"q": key}).json()
    assert [s["id"] for s in listed["items"]] == [segment_id]
    t4 = str(app.actor("t4:owner").org_id)
    assert app.call("t1:owner", "POST", "/v1/add-to-segment", json={
        "segment": segment_id, "org": t4}).status_code == 200
    assert app.call("t1:owner", "POST", add, json={
        "key": "halfOfOrgs", "kind": "segment", "value": key}).status_code == 200
    assert "halfOfOrgs" in _flags(app, "t4:owner")
    out = {"segment": segment_id, "org": t4}
    assert app.call("t1:member", "POST", "/v1/remove-from-segment", json=out).status_code == 403
    assert app.call("t1:owner", "POST", "/v1/remove-from-segment", json=out).status_code == 204
    assert not app.rows("SegmentMember", segment_id=uuid.UUID(segment_id))
    assert app.call("t1:owner", "POST", "/v1/remove-from-segment", json=out).status_code == 404
    # unknown targets and flags
    assert app.call("t1:owner", "POST", add, json={
        "key": "newBoard", "kind": "plan", "value": "platinum"}).status_code == 422
    assert app.call("t1:owner", "POST", add, json={
        "key": "nope", "kind": "plan", "value": "pro"}).status_code == 404
    # only who may manage flags
    assert app.call("t1:admin", "POST", add, json={
        "key": "newBoard", "kind": "org", "value": org}).status_code == 403


def test_an_operation_behind_a_flag_is_absent_while_it_is_off(app: App) -> None:
    unknown = app.call("g1:owner", "POST", "/v1/no-such-route", json={})
    off = app.call("g1:owner", "POST", "/v1/create-card", json={"title": "A"})
    assert off.status_code == 404 == unknown.status_code
    assert off.json() == unknown.json()
    # before the policy: an actor it refuses learns nothing either (403 once the flag is on)
    assert app.call("g1:member", "POST", "/v1/create-card", json={}).json() == unknown.json()
    org = str(app.actor("g1:owner").org_id)
    assert app.rows("Card", org_id=uuid.UUID(org)) == []
    app.call("g1:owner", "POST", "/v1/add-flag-target",
             json={"key": "newBoard", "kind": "org", "value": org})
    on = app.call("g1:owner", "POST", "/v1/create-card", json={"title": "A"})
    assert on.status_code == 201, on.text
    assert app.call("g1:member", "POST", "/v1/create-card", json={}).status_code == 403
    assert app.call("g2:owner", "POST", "/v1/create-card", json={"title": "A"}).status_code \
        == 404
    # the kill switch: off for everyone, targets included, until an update revives it
    killed = app.call("g1:owner", "POST", "/v1/kill-flag",
                      json={"key": "newBoard", "reason": "incident"})
    assert killed.status_code == 200 and killed.json()["killed"] is True
    assert app.call("g1:owner", "POST", "/v1/create-card", json={"title": "B"}).status_code \
        == 404
    updated = app.call("g1:owner", "POST", "/v1/update-flag",
                       json={"key": "newBoard", "status": "on"})
    assert updated.status_code == 200 and updated.json()["killed"] is False
    assert app.call("g2:owner", "POST", "/v1/create-card", json={"title": "B"}).status_code \
        == 201
    assert app.call("g1:owner", "POST", "/v1/update-flag",
                    json={"key": "newBoard", "status": "off"}).status_code == 200
    assert app.call("g2:owner", "POST", "/v1/create-card", json={"title": "C"}).status_code \
        == 404
    events = {e.event for e in app.rows("OutboxEvent")}
    assert {"flag.changed", "flag.killed"} <= events


# ---- experiments ----------------------------------------------------------------------------


def _start(app: App, key: str) -> None:
    """Start the experiment `key` as an operator would (the tests share the app: an
    experiment an earlier test started answers 409)."""
    started = app.call("e0:owner", "POST", "/v1/start-experiment", json={"experiment": key})
    assert started.status_code == 200 or started.json()["error"]["code"] == "NotDraft", \
        started.text


def test_an_experiment_is_started_then_concluded_with_a_winner(app: App) -> None:
    def call(who: str, path: str, body: dict[str, str]) -> Any:
        return app.call(who, "POST", path, json=body)

    key = {"experiment": "pricingPage"}
    assert call("p1:member", "/v1/start-experiment", key).status_code == 403
    assert call("p1:owner", "/v1/start-experiment", {"experiment": "nope"}).status_code == 404
    assert call("p1:owner", "/v1/conclude-experiment",
                {**key, "winner": "annual"}).json()["error"]["code"] == "NotRunning"
    started = call("p1:owner", "/v1/start-experiment", key)
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "running" and started.json()["startedAt"] is not None
    assert call("p1:owner", "/v1/start-experiment", key).json()["error"]["code"] == "NotDraft"
    variant = app.call("p1:member", "GET", "/v1/get-variant?experiment=pricingPage")
    assert variant.status_code == 200 and variant.json()["variant"] in ("control", "annual")
    wrong = call("p1:owner", "/v1/conclude-experiment", {**key, "winner": "monthly"})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["details"] == {"variants": ["control", "annual"]}
    concluded = call("p1:owner", "/v1/conclude-experiment", {**key, "winner": "annual"})
    assert concluded.status_code == 200, concluded.text
    assert (concluded.json()["status"], concluded.json()["winner"]) == ("concluded", "annual")
    again = call("p1:owner", "/v1/conclude-experiment", {**key, "winner": "control"})
    assert again.status_code == 409
    experiment = concluded.json()["id"]
    assert {"experiment": experiment} in [
        e.body["payload"] for e in app.rows("OutboxEvent", event="experiment.started")]
    assert {"experiment": experiment, "winner": "annual"} in [
        e.body["payload"] for e in app.rows("OutboxEvent", event="experiment.concluded")]
    assert call("p1:owner", "/v1/archive-experiment", {"experiment": "onboardingCopy"}) \
        .json()["error"]["code"] in ("NotConcluded", "UnknownExperiment")
    archived = call("p1:owner", "/v1/archive-experiment", key)
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert call("p1:owner", "/v1/archive-experiment", key).status_code == 409
    with app.session() as db:
        evaluate = app.modules["evaluate"]
        for who in ("p1:member", "p1:owner", "p2:owner"):  # the winner, whatever the variant
            assert evaluate.experiment_on(db, app.actor(who), "pricingPage")


def test_assignments_are_recorded_once_and_stable(app: App) -> None:
    variant = "/v1/get-variant?experiment=onboardingCopy"
    assert app.call("e1:owner", "GET", "/v1/get-variant?experiment=nope").status_code == 404
    assert app.call("e1:owner", "GET", variant).status_code == 409  # drafted, not running
    _start(app, "onboardingCopy")
    answers = {app.call("e1:owner", "GET", variant).json()["variant"] for _ in range(3)}
    assert len(answers) == 1
    evaluate = app.modules["evaluate"]
    actor = app.actor("e1:owner")
    assert answers == {evaluate.pick("onboardingCopy", actor.user_id)}
    assert len(app.rows("Assignment", user_id=actor.user_id)) == 1
    exposed = app.call("e1:owner", "POST", "/v1/record-exposure",
                       json={"experiment": "onboardingCopy"})
    assert exposed.status_code == 200 and exposed.json()["exposedAt"] is not None
    again = app.call("e1:owner", "POST", "/v1/record-exposure",
                     json={"experiment": "onboardingCopy"})
    assert again.json()["exposedAt"] == exposed.json()["exposedAt"]
    exposures = [e for e in app.rows("OutboxEvent", event="experiment.exposed")
                 if e.body["payload"]["assignment"] == exposed.json()["id"]]
    assert len(exposures) == 1
    # the split: about half of the users get each variant
    picks = [evaluate.pick("onboardingCopy", uuid.UUID(int=i * 104729 + 3)) for i in range(4000)]
    assert 1800 < picks.count("control") < 2200 and set(picks) == {"control", "short"}


def test_an_operation_behind_an_experiment_and_a_critical_one(app: App) -> None:
    _start(app, "onboardingCopy")
    evaluate = app.modules["evaluate"]
    seen: dict[str, int] = {}
    for n in range(8):
        who = f"x{n}:owner"
        variant = app.call(who, "GET", "/v1/get-variant?experiment=onboardingCopy").json()
        status = app.call(who, "GET", "/v1/list-cards").status_code
        assert status == (404 if variant["variant"] == "control" else 200)
        seen[variant["variant"]] = seen.get(variant["variant"], 0) + 1
        assert variant["variant"] == evaluate.pick("onboardingCopy", app.actor(who).user_id)
        # createNote is critical: never gated, whatever the variant
        created = app.call(who, "POST", "/v1/create-note", json={"title": f"n{n}"})
        assert created.status_code == 201, created.text
    assert set(seen) <= {"control", "short"}
