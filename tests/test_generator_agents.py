"""The `agents` target: MCP tool manifests checked as JSON Schema (2020-12) against real
inputs and outputs, and runs of the generated sales app on SQLite and PostgreSQL: a run
started, tool calls executed as the member who started it, refused (not the agent's tool,
the agent's policy, the operation's policy, another organisation's record) and recorded but
never run, limits failing the run, and the run's events in the outbox in order.
"""

from __future__ import annotations

import datetime
import importlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from contractspec.analysis import analyze_workspace
from contractspec.generators import writer
from contractspec.generators.agents import AgentsGenerator
from contractspec.generators.base import GeneratorError, GeneratorOptions
from contractspec.generators.pipeline import generate
from contractspec.ir import nodes as ir
from tests.conftest import DATA, analyse
from tests.databases import temporary_database

APP = "sales"
AGENTS = '''
/// Keeps the pipeline current.
agent salesAssistant "Sales assistant" {
  model "provider/model-name"
  tools listDeals, getDeal, createDeal, deleteDeal, scoreDeal
  policy view_deals
  limits {
    steps 8
    tokens 1000
    time 5m
  }
  instructions """
    Help the sales team keep the pipeline current: list the deals, open new ones when asked
    to, and never create a deal without an amount, whatever the customer says about it.
    """
}

agent pipelineAdmin {
  tools createStage
  policy manage_stages
}
'''


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("agents_ws")
    shutil.copytree(DATA / "gen" / "app", root, dirs_exist_ok=True)
    spec = root / "spec" / "sales.cspec"
    spec.write_text(spec.read_text() + AGENTS)
    return root


@pytest.fixture(scope="module")
def files(workspace: Path) -> dict[str, bytes]:
    analysis = analyze_workspace([workspace])
    assert not analysis.errors, analysis.errors
    return generate(analysis).files


def _json(files: dict[str, bytes], path: str) -> Any:
    return json.loads(files[path])


# ---- the generator --------------------------------------------------------------------------


def test_nothing_without_agents() -> None:
    analysis = analyze_workspace([DATA / "gen" / "app"])
    assert AgentsGenerator().generate(analysis.program, GeneratorOptions(app=APP)) == {}
    assert "sales/agents/routes.py" not in generate(analysis).files


def test_the_files_of_the_target(files: dict[str, bytes]) -> None:
    assert {p for p in files if "agents" in p} == {
        "agents/salesAssistant.tools.json", "agents/pipelineAdmin.tools.json",
        f"{APP}/agents/__init__.py", f"{APP}/agents/config.py", f"{APP}/agents/runtime.py",
        f"{APP}/agents/routes.py"}
    main = files[f"{APP}/main.py"].decode()
    assert "app.include_router(agents_router)" in main
    for event in ("run.started", "tool.called", "run.completed", "run.failed"):
        schema = _json(files, f"schemas/events/{event}.v1.json")
        Draft202012Validator.check_schema(schema)


def test_an_unsupported_agent_policy_is_refused_with_its_name(workspace: Path) -> None:
    program = analyze_workspace([workspace]).program
    module = next(m for m in program.modules if m.name == "sales")
    agent = module.agents[0]
    three = ir.LiteralExpr(type="int", text="3", value=3, span=agent.span)
    bad = agent.model_copy(update={"policy": three})
    broken = program.model_copy(update={"modules": tuple(
        m.model_copy(update={"agents": (bad,)}) if m is module else m for m in program.modules)})
    with pytest.raises(GeneratorError, match="agent `salesAssistant`"):
        AgentsGenerator().generate(broken, GeneratorOptions(app=APP))


def test_without_users_only_the_manifests() -> None:
    analysis = analyse("module shop\n\n/// Count things.\nquery countItems v1 {\n"
                       "  output int\n}\n\nagent helper {\n  tools countItems\n}\n")
    assert not analysis.errors, analysis.errors
    files = AgentsGenerator().generate(analysis.program, GeneratorOptions(app="shop"))
    assert list(files) == ["agents/helper.tools.json"]
    tool = json.loads(files["agents/helper.tools.json"])["tools"][0]
    assert (tool["name"], tool["description"]) == ("countItems", "Count things.")


def test_a_workspace_event_named_like_a_runtime_event_is_told_apart(workspace: Path,
                                                                    tmp_path: Path) -> None:
    shutil.copytree(workspace, tmp_path, dirs_exist_ok=True)
    spec = tmp_path / "spec" / "sales.cspec"
    spec.write_text(spec.read_text() + "\nevent run.started v1 {\n  payload {\n"
                    "    deal: ref Deal\n  }\n  retention 30d\n}\n")
    analysis = analyze_workspace([tmp_path])
    assert not analysis.errors, analysis.errors
    files = generate(analysis).files
    runtime = files[f"{APP}/agents/runtime.py"].decode()
    assert "events.RuntimeRunStartedV1Payload" in runtime
    assert "class RuntimeRunStartedV1(" in files[f"{APP}/events/models.py"].decode()
    # the workspace's own event keeps its plain name: the generated runtime's yields
    assert "class RunStartedV1(" in files[f"{APP}/events/models.py"].decode()
    assert '("run.started", "v1"): RunStartedV1,' in files[f"{APP}/events/models.py"].decode()


# ---- the manifests --------------------------------------------------------------------------


def test_manifests_are_mcp_tool_lists_of_valid_json_schemas(files: dict[str, bytes]) -> None:
    tools = _json(files, "agents/salesAssistant.tools.json")["tools"]
    names = [t["name"] for t in tools]
    assert names == ["listDeals", "getDeal", "createDeal", "deleteDeal", "scoreDeal"]
    assert len(set(names)) == len(names)
    for tool in tools:
        assert {"name", "description", "inputSchema", "outputSchema"} <= set(tool)
        for key in ("inputSchema", "outputSchema"):
            Draft202012Validator.check_schema(tool[key])
            assert tool[key]["type"] == "object"
            assert "#/components" not in json.dumps(tool[key])  # self-contained
    by_name = {t["name"]: t for t in tools}
    assert by_name["listDeals"]["annotations"] == {"readOnlyHint": True}
    assert "annotations" not in by_name["createDeal"]
    assert by_name["createDeal"]["description"] == "Open a deal; its owner is the caller."


def test_input_schemas_are_the_openapi_request_schemas(files: dict[str, bytes]) -> None:
    openapi = _json(files, "openapi.json")
    tools = {t["name"]: t for t in _json(files, "agents/salesAssistant.tools.json")["tools"]}
    request = openapi["components"]["schemas"]["CreateDealV1Input"]
    schema = dict(tools["createDeal"]["inputSchema"])
    assert schema.pop("$schema") == "https://json-schema.org/draft/2020-12/schema"
    assert schema == request
    params = openapi["paths"]["/v1/list-deals"]["get"]["parameters"]
    listing = tools["listDeals"]["inputSchema"]
    assert list(listing["properties"]) == sorted(p["name"] for p in params)
    assert listing["properties"]["status"]["anyOf"][0] == {"$ref": "#/$defs/DealStatus"}
    assert listing["$defs"]["DealStatus"] == openapi["components"]["schemas"]["DealStatus"]


def test_input_schemas_accept_real_inputs_and_refuse_bad_ones(files: dict[str, bytes]) -> None:
    tools = {t["name"]: t for t in _json(files, "agents/salesAssistant.tools.json")["tools"]}
    create = Draft202012Validator(tools["createDeal"]["inputSchema"])
    good = {"title": "Big deal", "amount": "1200.50", "stage": str(uuid.uuid4()),
            "contactEmail": "ada@example.com"}
    assert not list(create.iter_errors(good))
    assert list(create.iter_errors({"amount": "1"}))  # no title, no stage
    assert list(create.iter_errors({**good, "owner": str(uuid.uuid4())}))  # unknown key
    listing = Draft202012Validator(tools["listDeals"]["inputSchema"])
    assert not list(listing.iter_errors({"status": "won", "page": 2}))
    assert list(listing.iter_errors({"status": "maybe"}))
    score = tools["scoreDeal"]["outputSchema"]  # an int output is wrapped
    assert score["required"] == ["result"] and score["properties"]["result"]["type"] == "integer"
    assert tools["deleteDeal"]["outputSchema"]["properties"] == {}


# ---- runs of the generated app --------------------------------------------------------------


@dataclass
class App:
    client: TestClient
    modules: dict[str, ModuleType]
    tokens: dict[str, str]
    tools: dict[str, dict[str, Any]]

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.request(method, path, headers={
            "Authorization": f"Bearer {self.tokens[who]}"}, **kwargs)

    def start(self, who: str, agent: str = "salesAssistant") -> str:
        response = self.call(who, "POST", f"/v1/agents/{agent}/runs", json={"input": {"q": 1}})
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "running"
        return str(response.json()["id"])

    def tool(self, who: str, run: str, tool: str, arguments: dict[str, Any],
             **usage: int) -> Any:
        response = self.call(who, "POST", f"/v1/agents/runs/{run}/tool-calls",
                             json={"tool": tool, "arguments": arguments, **usage})
        return response

    def run(self, who: str, run: str) -> dict[str, Any]:
        response = self.call(who, "GET", f"/v1/agents/runs/{run}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def rows(self, model: str) -> list[Any]:
        with self.modules["session"].SessionLocal() as db:
            return list(db.scalars(sa.select(getattr(self.modules["models"], model))).all())

    def events(self, run: str) -> list[str]:
        """The run's events in the order they occurred."""
        bodies = [r.body for r in self.rows("OutboxEvent")
                  if r.body["payload"].get("run") == run]
        return [b["type"] for b in sorted(bodies, key=lambda b: b["occurredAt"])]


@pytest.fixture(scope="module")
def project(files: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("agents_app")
    _write(root, files)
    return root


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, project: Path,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with temporary_database(request.param, tmp_path_factory.mktemp(request.param),
                            "agents") as url:
        yield from _app(project, url)


def _app(project: Path, url: str) -> Iterator[App]:
    _upgrade(project, url)
    tools = {t["name"]: t for t in json.loads(
        (project / "agents" / "salesAssistant.tools.json").read_text())["tools"]}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.syspath_prepend(str(project))
        modules = {name: importlib.import_module(f"{APP}.{path}") for name, path in (
            ("main", "main"), ("session", "db.session"), ("dev", "dev"),
            ("models", "db.models"), ("config", "agents.config"),
            ("runtime", "agents.runtime"), ("auth", "auth"))}
        tokens = {}
        with modules["session"].SessionLocal() as db:
            for org in ("a", "b"):
                for role in ("owner", "admin", "member"):
                    tokens[f"{org}:{role}"] = modules["dev"].create_token(
                        db, f"Org {org}", f"{role}@{org}.example", role, role.title())
        with TestClient(modules["main"].app) as client:
            yield App(client, modules, tokens, tools)
        modules["session"].engine.dispose()
        for name in [m for m in sys.modules if m == APP or m.startswith(f"{APP}.")]:
            del sys.modules[name]


def _write(root: Path, files: dict[str, bytes]) -> None:
    for path, content in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)


def _upgrade(root: Path, url: str) -> None:
    migrated = subprocess.run([sys.executable, "-m", "alembic", "-c", f"{APP}/alembic.ini",
                               "upgrade", "head"], cwd=root, env={**os.environ,
                                                                  "DATABASE_URL": url},
                              capture_output=True, text=True, check=False)
    assert migrated.returncode == 0, migrated.stderr


def test_adding_an_agent_later_migrates_its_tables(workspace: Path, tmp_path: Path) -> None:
    root, url = tmp_path / "out", f"sqlite:///{tmp_path / 'later.db'}"
    writer.apply(writer.plan(root, generate(analyze_workspace([DATA / "gen" / "app"]))))
    _upgrade(root, url)
    output = generate(analyze_workspace([workspace]), out_dir=root)
    added = [p for p in output.files if p.startswith(f"{APP}/migrations/versions/0002_")]
    assert len(added) == 1 and "runtime_agent_run" in output.files[added[0]].decode()
    writer.apply(writer.plan(root, output))
    _upgrade(root, url)
    engine = sa.create_engine(url)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {"runtime_agent_run", "runtime_agent_step"} <= tables


def _stage(app: App, org: str = "a") -> str:
    response = app.call(f"{org}:owner", "POST", "/v1/create-stage",
                        json={"name": f"Stage {uuid.uuid4().hex[:6]}"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _deal_args(app: App, org: str = "a") -> dict[str, Any]:
    return {"title": f"Deal {uuid.uuid4().hex[:8]}", "amount": "250", "stage": _stage(app, org)}


def test_the_configuration_is_the_spec(app: App) -> None:
    agent = app.modules["config"].AGENTS["salesAssistant"]
    assert agent.title == "Sales assistant" and agent.model == "provider/model-name"
    assert agent.instructions.startswith("Help the sales team keep the pipeline current:")
    assert agent.instructions.endswith("whatever the customer says about it.")
    assert agent.policy == "view_deals" and dict(agent.limits) == {
        "steps": 8, "tokens": 1000, "time": 300}
    assert list(agent.tools) == list(app.tools)


def test_an_allowed_tool_call_runs_as_the_member_and_is_recorded(app: App) -> None:
    run = app.start("a:admin")
    args = _deal_args(app)
    response = app.tool("a:admin", run, "createDeal", args, tokens=10)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "succeeded" and result["error"] is None
    deal = result["output"]
    assert not list(Draft202012Validator(app.tools["createDeal"]["outputSchema"])
                    .iter_errors(deal))
    owner = app.call("a:admin", "GET", "/v1/get-deal", params={"id": deal["id"]}).json()
    assert owner["title"] == args["title"] and owner["owner"] == deal["owner"]
    listing = app.tool("a:admin", run, "listDeals", {"q": args["title"]}).json()
    assert listing["status"] == "succeeded" and listing["output"]["total"] == 1
    assert not list(Draft202012Validator(app.tools["listDeals"]["outputSchema"])
                    .iter_errors(listing["output"]))
    deleted = app.tool("a:admin", run, "deleteDeal", {"id": deal["id"]}).json()
    assert deleted["status"] == "succeeded" and deleted["output"] == {}
    recorded = app.run("a:admin", run)
    assert [(s["position"], s["tool"], s["status"]) for s in recorded["steps"]] == [
        (0, "createDeal", "succeeded"), (1, "listDeals", "succeeded"),
        (2, "deleteDeal", "succeeded")]
    assert recorded["steps"][0]["input"] == args
    assert recorded["steps"][0]["output"]["id"] == deal["id"]
    assert recorded["usage"] == {"steps": 3, "tokens": 10, "cost": 0}
    assert app.call("a:owner", "GET", f"/v1/agents/runs/{run}").status_code == 404


def _refused(app: App, who: str, run: str, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    response = app.tool(who, run, tool, args)
    assert response.status_code == 200, response.text
    result = dict(response.json())
    assert result["status"] == "refused", result
    return result


def test_a_tool_that_is_not_the_agents_is_refused_and_never_runs(app: App) -> None:
    run = app.start("a:owner")
    result = _refused(app, "a:owner", run, "createStage", {"name": "Sneaky"})
    assert "not a tool of agent 'salesAssistant'" in result["error"]
    assert not [s for s in app.rows("Stage") if s.name == "Sneaky"]
    step = app.run("a:owner", run)["steps"][0]
    assert (step["tool"], step["status"], step["input"]) == (
        "createStage", "refused", {"name": "Sneaky"})


def test_the_operation_policy_refuses_what_the_member_may_not_do(app: App) -> None:
    run = app.start("a:member")  # the agent's policy (view_deals) allows a member
    args = _deal_args(app)
    result = _refused(app, "a:member", run, "createDeal", args)
    assert result["output"]["error"]["code"] == "forbidden"
    assert not [d for d in app.rows("Deal") if d.title == args["title"]]
    assert app.tool("a:member", run, "listDeals", {}).json()["status"] == "succeeded"


def test_another_organisations_records_are_not_found(app: App) -> None:
    deal = app.tool("a:owner", app.start("a:owner"), "createDeal",
                    _deal_args(app)).json()["output"]
    run = app.start("b:owner")
    result = _refused(app, "b:owner", run, "getDeal", {"id": deal["id"]})
    assert result["output"]["error"]["message"] == "Not found."
    admin = app.start("b:admin")  # may delete deals, but not another organisation's
    deleted = _refused(app, "b:admin", admin, "deleteDeal", {"id": deal["id"]})
    assert deleted["output"]["error"]["message"] == "Not found."
    assert any(str(d.id) == deal["id"] for d in app.rows("Deal"))
    other = _refused(app, "b:owner", run, "createDeal", _deal_args(app, "a"))
    assert other["output"]["error"]["code"] == "StageNotFound"


def test_the_agent_policy_refuses_at_start_and_at_each_call(app: App) -> None:
    refused = app.call("a:member", "POST", "/v1/agents/pipelineAdmin/runs", json={})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "agent_refused"
    run = app.start("a:admin", "pipelineAdmin")
    models, session = app.modules["models"], app.modules["session"]

    def set_role(role: str) -> None:
        with session.SessionLocal() as db:
            user = db.scalar(sa.select(models.User).where(models.User.email == "admin@a.example"))
            membership = db.scalar(sa.select(models.OrgMembership).where(
                models.OrgMembership.user_id == user.id))
            membership.role = role
            db.commit()

    set_role("member")
    try:
        result = _refused(app, "a:admin", run, "createStage", {"name": "Refused stage"})
        assert "policy of agent 'pipelineAdmin'" in result["error"]
        assert not [s for s in app.rows("Stage") if s.name == "Refused stage"]
    finally:
        set_role("admin")
    allowed = app.tool("a:admin", run, "createStage", {"name": "Allowed stage"}).json()
    assert allowed["status"] == "succeeded" and allowed["output"]["name"] == "Allowed stage"


def test_failures_are_recorded_and_the_run_goes_on(app: App) -> None:
    run = app.start("a:owner")
    invalid = app.tool("a:owner", run, "createDeal", {"title": ""}).json()
    assert invalid["status"] == "failed" and invalid["error"].startswith("Invalid arguments")
    missing = app.tool("a:owner", run, "scoreDeal", {"id": str(uuid.uuid4())}).json()
    assert missing["status"] == "failed" and "not_implemented" in missing["error"]
    logged = app.call("a:owner", "POST", f"/v1/agents/runs/{run}/logs",
                      json={"message": "thinking", "kind": "message"})
    assert logged.status_code == 201
    assert logged.json()["steps"][-1]["output"] == {"message": "thinking"}
    done = app.call("a:owner", "POST", f"/v1/agents/runs/{run}/complete",
                    json={"output": {"answer": 42}})
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert done.json()["output"] == {"answer": 42}
    closed = app.tool("a:owner", run, "listDeals", {})
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "run_closed"
    assert app.events(run) == ["run.started", "tool.called", "tool.called", "run.completed"]


def test_limits_fail_the_run(app: App) -> None:
    run = app.start("a:owner")
    for _ in range(8):
        assert app.tool("a:owner", run, "listDeals", {}).json()["status"] == "succeeded"
    over = app.tool("a:owner", run, "listDeals", {})
    assert over.status_code == 409 and over.json()["error"]["code"] == "limit_exceeded"
    assert "limit of 8 steps" in over.json()["error"]["message"]
    failed = app.run("a:owner", run)
    assert failed["status"] == "failed" and "limit of 8 steps" in failed["error"]
    assert len(failed["steps"]) == 8
    assert app.events(run) == ["run.started", *["tool.called"] * 8, "run.failed"]
    tokens = app.start("a:owner")
    over = app.tool("a:owner", tokens, "listDeals", {}, tokens=1001)
    assert over.status_code == 409 and "1000 tokens" in over.json()["error"]["message"]
    assert app.run("a:owner", tokens)["steps"] == []
    late = app.start("a:owner")
    with app.modules["session"].SessionLocal() as db:  # started ten minutes ago
        row = db.get(app.modules["models"].AgentRun, uuid.UUID(late))
        row.started_at = row.started_at - datetime.timedelta(minutes=10)
        db.commit()
    over = app.tool("a:owner", late, "listDeals", {})
    assert over.status_code == 409 and "time limit of 300 s" in over.json()["error"]["message"]
    assert app.run("a:owner", late)["status"] == "failed"


def test_events_are_in_the_outbox_in_order_with_the_tools_own(app: App) -> None:
    run = app.start("a:owner")
    _refused(app, "a:owner", run, "createStage", {"name": "x"})
    app.tool("a:owner", run, "createDeal", _deal_args(app))
    failed = app.call("a:owner", "POST", f"/v1/agents/runs/{run}/fail", json={"error": "gave up"})
    assert failed.json()["status"] == "failed" and failed.json()["error"] == "gave up"
    assert app.events(run) == ["run.started", "tool.called", "tool.called", "run.failed"]
    bodies = sorted((r.body for r in app.rows("OutboxEvent")), key=lambda b: b["occurredAt"])
    types = [b["type"] for b in bodies if b["payload"].get("run") == run
             or b["type"] == "deal.created"]
    start = types.index("run.started")
    assert types[start:start + 5] == ["run.started", "tool.called", "deal.created",
                                      "tool.called", "run.failed"]
    called = [b for b in bodies if b["type"] == "tool.called" and b["payload"]["run"] == run]
    assert [c["payload"]["status"] for c in called] == ["refused", "succeeded"]
    assert all(c["orgId"] == called[0]["orgId"] for c in called)


def test_the_runtime_is_usable_without_http(app: App) -> None:
    runtime, auth = app.modules["runtime"], app.modules["auth"]
    with app.modules["session"].SessionLocal() as db:
        actor = auth.actor_for_token(db, app.tokens["a:admin"])
        run = runtime.start_run(db, "salesAssistant", actor, {"goal": "count"})
        result = runtime.call_tool(db, run, "listDeals", {"size": 1})
        assert result.status == "succeeded" and result.output["size"] == 1
        assert runtime.log(db, run, "done counting") == 1
        runtime.finish(db, run, {"count": result.output["total"]})
        assert str(run.status) == "completed"
        with pytest.raises(runtime.RunClosed):
            runtime.fail(db, run, "too late")
        with pytest.raises(runtime.UnknownAgent):
            runtime.start_run(db, "nobody", actor)
