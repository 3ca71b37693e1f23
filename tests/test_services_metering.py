"""Metering in a generated app, on SQLite and PostgreSQL: a usage record per metered operation
in the operation's own transaction (none for a refused one), summaries per period, the plan's
limit answered with 429 `limit_exceeded` and its details, `usage.threshold_reached` emitted
once per threshold and period. The workspace and app fixture: test_services_flags.py."""

from __future__ import annotations

import decimal
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.databases import temporary_database
from tests.test_services_flags import App, project, running_app

__all__ = ["project"]  # the fixture, shared with test_services_flags.py


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, project: Path,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with temporary_database(request.param, tmp_path_factory.mktemp(request.param),
                            "meter") as url:
        yield from running_app(project, url)


def _org(app: App, who: str) -> uuid.UUID:
    return uuid.UUID(str(app.actor(who).org_id))


def _note(app: App, who: str, title: str | None = None) -> int:
    return int(app.call(who, "POST", "/v1/create-note",
                        json={"title": title or uuid.uuid4().hex[:10]}).status_code)


def test_a_usage_record_per_metered_operation_in_its_transaction(app: App) -> None:
    org = _org(app, "m1:owner")
    assert _note(app, "m1:owner", "first") == 201
    records = app.rows("UsageRecord", org_id=org, metric="api_calls")
    assert [(r.metric, r.quantity, r.source) for r in records] == [
        ("api_calls", decimal.Decimal(1), "operation createNote v1")]
    assert records[0].user_id == app.actor("m1:owner").user_id
    # a read that meters commits its record too
    assert app.call("m1:owner", "GET", "/v1/list-notes").status_code == 200
    assert len(app.rows("UsageRecord", org_id=org, metric="api_calls")) == 2
    # refused operations write none: a conflict (rolled back) and a 403 before any work
    assert _note(app, "m1:owner", "first") == 409
    assert _note(app, "m1:member") == 403
    assert len(app.rows("UsageRecord", org_id=org, metric="api_calls")) == 2
    assert len(app.rows("Note", org_id=org)) == 1


def test_summary_by_period(app: App) -> None:
    org = _org(app, "m2:owner")
    for _ in range(3):
        assert _note(app, "m2:owner") == 201
    response = app.call("m2:owner", "GET", "/v1/get-usage?metric=api_calls")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(i["metric"], i["period"], decimal.Decimal(i["value"])) for i in items] == [
        ("api_calls", "monthly", decimal.Decimal(3))]
    usage = app.modules["usage"]
    start = usage.period_start("monthly", usage.now())
    assert items[0]["periodStart"].startswith(start.strftime("%Y-%m-%dT00:00:00"))
    assert len(app.rows("UsageSummary", org_id=org, metric="api_calls")) == 1
    assert _note(app, "m2:owner") == 201  # the summary is brought up to date
    again = app.call("m2:owner", "GET", "/v1/get-usage?period=monthly&metric=api_calls").json()[
        "items"]
    assert decimal.Decimal(again[0]["value"]) == 4 and len(again) == 1
    metrics = app.call("m2:owner", "GET", "/v1/list-metrics").json()
    assert [(m["key"], m["unit"], m["aggregation"]) for m in metrics] == [
        ("api_calls", "call", "sum"), ("notes_created", "note", "count")]


def test_the_plan_limit_is_429_with_its_details_and_thresholds_fire_once(app: App) -> None:
    org = _org(app, "m3:owner")
    assert app.call("m3:owner", "GET", "/v1/get-subscription").status_code == 404
    plan = app.call("m3:owner", "POST", "/v1/change-plan", json={"plan": "pro"})
    assert plan.status_code == 200 and plan.json()["plan"] == "pro"
    assert app.call("m3:owner", "POST", "/v1/change-plan",
                    json={"plan": "gold"}).status_code == 422
    for _ in range(5):  # pro: 5 api_calls a month
        assert _note(app, "m3:owner") == 201
    refused = app.call("m3:owner", "POST", "/v1/create-note", json={"title": "sixth"})
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "limit_exceeded"
    assert error["details"] == {"metric": "api_calls", "limit": 5, "period": "month",
                                "used": 5}
    assert app.call("m3:owner", "GET", "/v1/list-notes").status_code == 429
    assert len(app.rows("UsageRecord", org_id=org, metric="api_calls")) == 5
    assert [n.title for n in app.rows("Note", org_id=org) if n.title == "sixth"] == []
    crossings = sorted(c.percent for c in app.rows("ThresholdCrossing", org_id=org))
    assert crossings == [80, 100]
    events = [e.body["payload"] for e in app.rows("OutboxEvent", org_id=org,
                                                   event="usage.threshold_reached")]
    assert sorted((p["percent"], p["limit"]) for p in events) == [(80, 5), (100, 5)]
    # a crossing recorded again is refused, and emits nothing
    usage = app.modules["usage"]
    start = usage.period_start("month", usage.now()).isoformat()
    again = app.call("m3:owner", "POST", "/v1/record-threshold-crossing",
                     json={"metric": "api_calls", "periodStart": start, "percent": 80})
    assert again.status_code == 409
    assert len(app.rows("OutboxEvent", org_id=org, event="usage.threshold_reached")) == 2
    # a larger plan lets usage go on; usage over the smaller plan refuses a move back
    assert app.call("m3:owner", "POST", "/v1/change-plan",
                    json={"plan": "free"}).status_code == 200
    assert _note(app, "m3:owner") == 201
    assert app.call("m3:owner", "POST", "/v1/change-plan",
                    json={"plan": "pro"}).status_code == 409


def test_record_usage_by_hand_is_idempotent_and_limited(app: App) -> None:
    org = _org(app, "m4:owner")
    app.call("m4:owner", "POST", "/v1/change-plan", json={"plan": "pro"})
    body = {"metric": "api_calls", "quantity": "2", "idempotencyKey": "import-1"}
    first = app.call("m4:owner", "POST", "/v1/record-usage", json=body)
    assert first.status_code == 200, first.text
    assert app.call("m4:owner", "POST", "/v1/record-usage", json=body).json() == first.json()
    assert len(app.rows("UsageRecord", org_id=org, metric="api_calls")) == 1
    assert app.call("m4:owner", "POST", "/v1/record-usage",
                    json={"metric": "nope", "quantity": "1"}).status_code == 422
    over = app.call("m4:owner", "POST", "/v1/record-usage",
                    json={"metric": "api_calls", "quantity": "4"})
    assert over.status_code == 429 and over.json()["error"]["details"]["used"] == 2
    assert len(app.rows("UsageRecord", org_id=org, metric="api_calls")) == 1


def test_a_threshold_is_recorded_once_under_concurrency(app: App) -> None:
    usage, actor = app.modules["usage"], app.actor("m5:owner")
    start = usage.period_start("month", usage.now())
    barrier, results = threading.Barrier(4), []

    def cross() -> None:
        with app.session() as db:
            barrier.wait()
            try:
                found = usage.crossing(db, actor, actor.org_id, "api_calls", start, 80,
                                       decimal.Decimal(4), 5)
                db.commit()
                results.append(found is not None)
            except sa.exc.OperationalError:  # SQLite: the database is locked
                db.rollback()
                results.append(False)

    threads = [threading.Thread(target=cross) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
    assert len(app.rows("ThresholdCrossing", org_id=actor.org_id)) == 1
    assert len(app.rows("OutboxEvent", org_id=actor.org_id,
                        event="usage.threshold_reached")) == 1


def test_a_metric_from_an_event_counts_each_event_once(app: App) -> None:
    org = _org(app, "m6:owner")
    assert _note(app, "m6:owner") == 201 and _note(app, "m6:owner") == 201
    counted = app.rows("UsageRecord", org_id=org, metric="notes_created")
    assert [r.source for r in counted] == ["event note.created v1"] * 2
    assert {r.user_id for r in counted} == {app.actor("m6:owner").user_id}
    event = app.rows("OutboxEvent", org_id=org, event="note.created")[0]
    with app.session() as db:  # a replayed event is not counted again
        app.modules["usage"].count_event(db, event.body, "notes_created")
        db.commit()
    assert len(app.rows("UsageRecord", org_id=org, metric="notes_created")) == 2


def test_the_metering_jobs_run_in_the_worker_with_generated_functions(app: App) -> None:
    org = _org(app, "m7:owner")
    app.call("m7:owner", "POST", "/v1/change-plan", json={"plan": "pro"})
    usage, models = app.modules["usage"], app.modules["models"]
    with app.session() as db:  # usage imported behind the API's back: no threshold yet
        db.add(models.UsageRecord(org_id=org, metric="api_calls", quantity=decimal.Decimal(4),
                                  at=usage.now(), source="import"))
        db.commit()
    assert app.rows("ThresholdCrossing", org_id=org) == []
    with app.session() as db:
        queue = app.modules["queue"]
        summarize = queue.enqueue(db, "summarizeUsage", {"org": str(org)})
        check = queue.enqueue(db, "checkThresholds", {})
        db.commit()
        ids = [summarize.id, check.id]
    app.modules["worker"].run_once()
    statuses = {str(j.status) for j in app.rows("Job") if j.id in ids}
    assert statuses == {"succeeded"}, [j.last_error for j in app.rows("Job") if j.id in ids]
    assert [c.percent for c in app.rows("ThresholdCrossing", org_id=org)] == [80]
    assert len(app.rows("OutboxEvent", org_id=org, event="usage.threshold_reached")) == 1
    summaries = app.rows("UsageSummary", org_id=org, metric="api_calls")
    assert [(s.value, s.limit) for s in summaries] == [(decimal.Decimal(4), 5)]
