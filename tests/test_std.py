"""The standard library: each module checks clean alone and with the others, is formatted and
documented; the rule that constructs use their module (CS523) and its quick fix; and the
semantics the generators rely on, as far as the checker can see them."""

from __future__ import annotations

import re

import pytest

from contractspec.analysis import Analysis, analyze_texts, analyze_workspace
from contractspec.check.rules.stdlib import constructs
from contractspec.diagnostics import Diagnostic
from contractspec.format import format_text
from contractspec.ir import nodes as ir
from contractspec.workspace.loader import STD_DIR, std_modules
from tests.conftest import REPO, analyse, codes

MODULES = ("identity", "audit", "notifications", "jobs", "flags", "files", "metering",
           "learning")
DOCS = REPO / "docs" / "std"


def std_text(name: str) -> str:
    return (STD_DIR / f"{name}.cspec").read_text(encoding="utf-8")


def alone(name: str) -> Analysis:
    """The module checked as a workspace module (the standard library is otherwise trusted
    and not checked), with the standard modules it uses."""
    return analyze_texts({f"{name}.cspec": std_text(name)})


def module(analysis: Analysis, name: str) -> ir.Module:
    found = analysis.program.module(name)
    assert found is not None
    return found


# ---- every module: clean, formatted, documented ---------------------------------------------


def test_the_eight_modules_ship() -> None:
    assert set(std_modules()) == set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_checks_clean_alone(name: str) -> None:
    analysis = alone(name)
    assert analysis.diagnostics == []
    assert not module(analysis, name).std  # it was really checked


@pytest.mark.parametrize("name", MODULES)
def test_module_is_formatted_and_suppresses_nothing(name: str) -> None:
    text = std_text(name)
    assert format_text(text) == text
    assert "cspec-ignore" not in text


def test_all_modules_check_clean_together() -> None:
    assert analyze_workspace([STD_DIR]).diagnostics == []


@pytest.mark.parametrize("name", MODULES)
def test_module_is_documented_and_linked(name: str) -> None:
    page = (DOCS / f"{name}.md").read_text(encoding="utf-8")
    decls = module(alone(name), name)
    named = [*decls.entities, *decls.enums, *decls.operations, *decls.events,
             *decls.permissions, *decls.workflows, *decls.jobs]
    for decl in named:  # written as `name` or, with a version, `name v1`
        assert re.search(rf"`{re.escape(decl.name)}[` ]", page), \
            f"docs/std/{name}.md does not mention {decl.name}"
    assert f"(std/{name}.md)" in (REPO / "docs" / "language.md").read_text(encoding="utf-8")


def doc_examples() -> list[tuple[str, str]]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        blocks = re.findall(r"```cspec\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)
        found += [(f"{page.stem}-{i}", b) for i, b in enumerate(blocks) if b.startswith("module")]
    return found


@pytest.mark.parametrize(("name", "text"), doc_examples(), ids=[n for n, _ in doc_examples()])
def test_doc_examples_check_clean(name: str, text: str) -> None:
    assert codes(text) == []


# ---- a user module extending all of them --------------------------------------------------

APP = """\
module app

use identity
use audit
use jobs
use notifications
use flags
use files
use metering
use learning

entity Project {
  id: uuid @id
  org: ref identity.Org @tenant
  name: string(1..120)
  lead: ref identity.User
  brief: ref files.File?
}

permission manage_projects "Create and edit projects"

grant owner, admin, member: manage_projects
grant worker: manage_projects

policy Project {
  read: authenticated
  create: manage_projects
  update: manage_projects or self.lead == actor
}

command createProject v1 {
  input {
    name: string(1..120)
  }
  output Project
  policy manage_projects
  emits project.created
  meters projects
  behind newProjects
}

event project.created v1 {
  payload {
    project: ref Project
    by: ref identity.User
  }
  retention 365d
  audit
}

job indexProject {
  input {
    project: ref Project
  }
  retries 3
  backoff exponential(30s, 10m)
}

on project.created run indexProject
on member.joined run welcomeMember

job welcomeMember {
  input {
    user: ref identity.User
  }
}

schedule nightlyReport cron "0 2 * * *" run indexReport

job indexReport {
  timeout 10m
}

notification projectCreated {
  on project.created
  to by, role admin
  via email, in_app
  template "Project {{ project.name }} was created"
}

notification deadJob {
  on job.dead_lettered
  to role owner
  via email
  template "Job {{ type }} failed for good: {{ error }}"
}

flag newProjects "New project flow" {
  default off
  rollout 10% by org
  target plan team
}

experiment projectCopy {
  variants control 50%, short 50%
  metric project.created
}

critical createProject

attachments on Project {
  kinds "application/pdf"
  max 20MB
  upload: manage_projects
  view: authenticated
  delete: self.lead == actor
  retention 2y
}

metric projects "Projects" {
  unit project
  aggregate count monthly
  from project.created
}

plan team {
  limit projects 50/month
  flags newProjects
}

track onboarding "Get started" {
  unit basics "Basics" {
    step firstProject "Create a project" {
      completes on project.created
    }
    step invite "Invite a colleague" {
      completes on member.invited
    }
  }
}
"""


def test_a_user_module_extends_every_std_module_cleanly() -> None:
    analysis = analyse({"app.cspec": APP})
    assert analysis.diagnostics == []
    assert {m.name for m in analysis.program.modules} == {"app", *MODULES}


# ---- CS523: constructs use their module ---------------------------------------------------

CONSTRUCTS = {
    "jobs": "job work {\n  timeout 1m\n}\n\nschedule nightly every 1d run work\n",
    "notifications": "notification joined {\n  on member.joined\n  to user\n  via email\n"
                     "  template \"Welcome\"\n}\n",
    "flags": "flag beta {\n  default off\n}\n",
    "files": "entity Note {\n  id: uuid @id\n  org: ref identity.Org @tenant\n}\n\n"
             "attachments on Note {\n  max 1MB\n  view: authenticated\n}\n",
    "metering": "metric calls {\n  unit call\n  aggregate sum monthly\n}\n",
    "learning": "track basics {\n  unit first {\n    step joined {\n"
                "      completes on member.joined\n    }\n  }\n}\n",
    "audit": "command ping v1 {\n  policy authenticated\n  emits pinged\n}\n\n"
             "event pinged v1 {\n  audit\n}\n",
}
HEAD = "/// An app.\nmodule app\n\nuse identity\n\n"


def cs523(text: str | dict[str, str]) -> list[Diagnostic]:
    return [d for d in analyse(text).diagnostics if d.code == "CS523"]


def apply(text: str, diagnostic: Diagnostic) -> str:
    [fix] = diagnostic.fixes
    return text[:fix.span.start_offset] + fix.replacement + text[fix.span.end_offset:]


@pytest.mark.parametrize("required", sorted(CONSTRUCTS))
def test_construct_without_its_module_and_the_fix(required: str) -> None:
    text = HEAD + CONSTRUCTS[required]
    [diag] = cs523(text)
    assert f"the standard module `{required}`, which module `app` does not use" in diag.message
    assert diag.fixes[0].title == f"Add `use {required}`"
    fixed = apply(text, diag)
    assert f"use identity\nuse {required}\n\n" in fixed
    assert analyse(fixed).diagnostics == []
    assert format_text(fixed) == fixed


def test_fix_after_the_header_when_the_file_has_no_use() -> None:
    text = "module app\n\nflag beta {\n  default off\n}\n"
    [diag] = cs523(text)
    fixed = apply(text, diag)
    assert fixed.startswith("module app\n\nuse flags\n\nflag beta")
    assert codes(fixed) == []


def test_one_report_per_missing_module_with_the_other_constructs_related() -> None:
    text = HEAD + CONSTRUCTS["jobs"] + "\njob other {\n  timeout 1m\n}\n\n" \
        "schedule hourly every 1h run other\n" + "\n" + CONSTRUCTS["flags"]
    found = cs523(text)
    assert [d.message.split(" needs")[0] for d in found] == ["job `work`", "flag `beta`"]
    jobs = found[0]
    assert [r.message for r in jobs.related] == [
        "schedule `nightly` needs it too", "job `other` needs it too",
        "schedule `hourly` needs it too"]


def test_a_use_in_another_file_of_the_module_counts() -> None:
    files = {"a.cspec": "module app\n\nuse jobs\n",
             "b.cspec": "module app\n\n" + CONSTRUCTS["jobs"]}
    assert cs523(files) == []


def test_the_required_module_itself_and_modules_it_is_built_on_are_exempt() -> None:
    # A workspace module named like the std one provides the construct to itself.
    assert cs523("module jobs\n\n" + CONSTRUCTS["jobs"]) == []
    # `identity` marks its events `audit`, but `audit` uses `identity`: no cycle is asked for.
    identity = module(alone("identity"), "identity")
    assert any(e.audit for e in identity.events) and not identity.uses


def test_every_construct_kind_is_covered() -> None:
    analysis = analyse({"app.cspec": APP})
    required = {r for r, _, _ in constructs(module(analysis, "app"))}
    assert required == set(CONSTRUCTS)


# ---- semantics the generators rely on ----------------------------------------------------


def fields(decl: ir.EntityDecl) -> dict[str, ir.FieldDecl]:
    return {f.name: f for f in decl.fields}


def entity(mod: ir.Module, name: str) -> ir.EntityDecl:
    return next(e for e in mod.entities if e.name == name)


def operation(mod: ir.Module, name: str, version: str = "v1") -> ir.OperationDecl:
    return next(o for o in mod.operations if o.name == name and o.version == version)


def granted(mod: ir.Module, role: str) -> set[str]:
    return {p.name for g in mod.grants if role in {r.name for r in g.roles}
            for p in g.permissions}


def test_identity_keeps_what_the_generators_use() -> None:
    identity = module(alone("identity"), "identity")
    assert [r.name for r in identity.roles][:3] == ["owner", "admin", "member"]
    org_role = next(e for e in identity.enums if e.name == "OrgRole")
    assert [v.name for v in org_role.values] == ["owner", "admin", "member"]
    assert list(fields(entity(identity, "User"))) == ["id", "email", "name", "createdAt"]
    assert list(fields(entity(identity, "Org"))) == ["id", "name", "createdAt"]
    membership = entity(identity, "OrgMembership")
    assert list(fields(membership)) == ["id", "org", "user", "role"]
    assert fields(membership)["org"].attribute("tenant") is not None
    assert [(c.name, len(c.args)) for c in membership.constraints] == [("unique", 2)]
    assert {"create_orgs", "invite_members", "manage_members", "view_billing"} <= {
        p.name for p in identity.permissions}
    for name in ("createOrg", "inviteMember", "listMembers"):
        operation(identity, name)


def test_the_last_owner_is_protected_by_the_operations_errors() -> None:
    identity = module(alone("identity"), "identity")
    for name in ("changeRole", "removeMember", "leaveOrg"):
        errors = {e.name: e.status for e in operation(identity, name).errors}
        assert errors["LastOwner"] == 409, name
    assert granted(identity, "member") == {"create_orgs"}
    assert "manage_members" in granted(identity, "admin")
    assert "delete_org" not in granted(identity, "admin")


def test_invitations_are_accepted_once_by_the_invitee_before_they_expire() -> None:
    identity = module(alone("identity"), "identity")
    [flow] = identity.workflows
    assert flow.subject.name == "Invitation.status" and flow.initial is not None
    assert flow.initial.name == "pending"
    assert {f.name for f in flow.finals} == {"accepted", "revoked", "expired"}
    accept = next(t for t in flow.transitions if t.name == "accept")
    assert [s.name for s in accept.sources] == ["pending"] and accept.target.name == "accepted"
    assert accept.emits is not None and accept.emits.name == "member.joined"
    assert accept.by is not None and accept.when is not None


def test_audit_entries_can_be_written_with_the_original_fields_only() -> None:
    audit = module(alone("audit"), "audit")
    entry = fields(entity(audit, "AuditEntry"))
    original = ["id", "org", "actorKind", "actorId", "event", "targetType", "targetId", "diff",
                "at"]
    assert list(entry)[:len(original)] == original
    for name in list(entry)[len(original):]:
        f = entry[name]
        assert f.type.optional or f.default is not None, name
    kinds = next(e for e in audit.enums if e.name == "ActorKind")
    assert [v.name for v in kinds.values] == ["user", "agent", "system"]


def test_job_runs_go_queued_running_succeeded_or_failed_then_dead() -> None:
    jobs = module(alone("jobs"), "jobs")
    [flow] = jobs.workflows
    edges = {(s.name, t.target.name): t for t in flow.transitions for s in t.sources}
    assert {("queued", "running"), ("running", "succeeded"), ("running", "failed"),
            ("failed", "queued"), ("failed", "dead")} <= set(edges)
    dead = edges[("failed", "dead")].emits
    assert dead is not None and dead.name == "job.dead_lettered"
    assert granted(jobs, "worker") == {"run_jobs"}


def test_steps_complete_only_through_the_worker() -> None:
    learning = module(alone("learning"), "learning")
    writes = [o for o in learning.operations
              if o.output is not None and o.output.name == "StepCompletion"
              and o.kind == "command"]
    assert [o.name for o in writes] == ["recordStepCompletion"]
    policy = writes[0].policy
    assert isinstance(policy, ir.PathExpr) and policy.parts == ("record_progress",)
    holders = {r.name for g in learning.grants for r in g.roles
               if "record_progress" in {p.name for p in g.permissions}}
    assert holders == {"worker"}


def test_notifications_channels_match_the_language() -> None:
    from contractspec.check.rules.notifications import CHANNELS

    notifications = module(alone("notifications"), "notifications")
    channel = next(e for e in notifications.enums if e.name == "Channel")
    assert tuple(v.name for v in channel.values) == CHANNELS


def test_flags_and_metering_name_what_the_language_names() -> None:
    from contractspec.check.rules.flags import METRIC_PERIODS, TARGET_DIMENSIONS

    flags = module(alone("flags"), "flags")
    target = next(e for e in flags.enums if e.name == "TargetKind")
    assert {v.name for v in target.values} == set(TARGET_DIMENSIONS)
    metering = module(alone("metering"), "metering")
    period = next(e for e in metering.enums if e.name == "UsagePeriod")
    assert tuple(v.name for v in period.values) == METRIC_PERIODS
    assert any(e.name == "usage.threshold_reached" for e in metering.events)
