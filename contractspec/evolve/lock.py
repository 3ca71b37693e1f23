"""The release lock `cspec.lock`: a snapshot of every public contract at the last release.

`cspec release` writes it at the workspace root; every analysis reads it back so that the
checks can compare the current specs with what was released (CS601, CS602). The file is
canonical JSON (sorted keys, two-space indent, a final newline), so it diffs well in review:

    {"lock_version": 1, "release": "1.4.0" | null,
     "modules": {"crm": {"version": "1.4.0",
                         "operations": {"createDeal": {"v1": {..., "hash": "sha256:…"}}},
                         "events": {"deal.created": {"v1": {"payload": {...}, "hash": …}}},
                         "entities": {...}, "types": {...}, "enums": {...},
                         "workflows": {...}, "permissions": {...}, "roles": {...},
                         "grants": {...}, "policies": {...}, "jobs": {...},
                         "flags": {...}, "metrics": {...},
                         "access": {"operation createDeal v1": {"identity.admin": "yes"}},
                         "dependents": {"events": {...}, "flags": {...}},
                         "http": {"createDeal v1": {"method": "POST", "path": …}}}}}

Each item's `hash` is the sha256 of its canonical JSON without the hash: two contracts are
the same exactly when their hashes are. Doc comments, spans and annotation-only attributes
(`@label`, `@deprecated`, `@pii`, `@renamedFrom`, `@allowBreaking`) are not part of a contract.
The last three sections are derived, for the change analysis (contractspec/evolve/changes.py):
who may do what per role, what listens to each event and uses each flag, and the HTTP route of
each operation version (left out when the lock is built for a program with errors).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from contractspec.check.symbols import SymbolTable
from contractspec.diagnostics import Diagnostic, Severity
from contractspec.evolve.access import Evaluator, access_rows
from contractspec.ir import nodes as ir
from contractspec.ir import text as ir_text
from contractspec.ir.text import attribute_text, expr_text
from contractspec.source import SourceFile

LOCK_NAME = "cspec.lock"
LOCK_VERSION = 1
UNVERSIONED = "unversioned"  # the version key of an operation or event declared without one
VERSIONED_SECTIONS = ("operations", "events")
_NOT_CONTRACT = frozenset({"label", "deprecated", "pii", "renamedFrom", "allowBreaking"})
ANY_VERSION = "*"  # the version key of listeners that name an event without a version

Json = dict[str, Any]


def canonical(data: Any) -> str:
    """The canonical text of a lock (or of any JSON value)."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def contract_hash(item: Json) -> str:
    """The hash of one contract: sha256 over its compact canonical JSON, `hash` left out."""
    body = {k: v for k, v in item.items() if k != "hash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hashed(item: Json) -> Json:
    return {**item, "hash": contract_hash(item)}


def type_text(ref: ir.TypeRef) -> str:
    """A type as the lock records it: optionality aside (fields record it separately)."""
    return ir_text.type_text(ref, optional=False)


def _fields(fields: tuple[ir.FieldDecl, ...]) -> Json:
    return {f.name: {
        "type": type_text(f.type),
        "optional": f.type.optional,
        "default": expr_text(f.default) if f.default is not None else None,
        "attributes": [attribute_text(a) for a in f.attributes if a.name not in _NOT_CONTRACT],
    } for f in fields}


def _event_ref(ref: ir.EventRef | None) -> str | None:
    return None if ref is None else f"{ref.name} {ref.version}" if ref.version else ref.name


def _version(version: str | None) -> str:
    return version or UNVERSIONED


# ---- building the lock ----------------------------------------------------------------------


def _operation(op: ir.OperationDecl) -> Json:
    return _hashed({
        "kind": op.kind,
        "input": _fields(op.input),
        "output": ir_text.type_text(op.output)
        if op.output is not None else None,
        "policy": expr_text(op.policy) if op.policy is not None else None,
        "errors": {e.name: {"status": e.status} for e in op.errors},
    })


def _workflow(flow: ir.WorkflowDecl) -> Json:
    states = {s.name for t in flow.transitions for s in (*t.sources, t.target)}
    states |= {f.name for f in flow.finals} | ({flow.initial.name} if flow.initial else set())
    return _hashed({
        "subject": flow.subject.name,
        "initial": flow.initial.name if flow.initial else None,
        "states": sorted(states),
        "finals": sorted(f.name for f in flow.finals),
        "transitions": {t.name: {
            "from": [s.name for s in t.sources], "to": t.target.name,
            "by": expr_text(t.by) if t.by is not None else None,
            "when": expr_text(t.when) if t.when is not None else None,
            "emits": _event_ref(t.emits),
        } for t in flow.transitions},
    })


def _job(job: ir.JobDecl) -> Json:
    backoff = job.backoff
    return _hashed({
        "input": _fields(job.input),
        "retries": job.retries,
        "backoff": f"{backoff.strategy}({', '.join(expr_text(a) for a in backoff.args)})"
        if backoff is not None else None,
        "timeout": job.timeout.text if job.timeout is not None else None,
    })


def _grants(module: ir.Module) -> Json:
    held: dict[str, set[str]] = {}
    for grant in module.grants:
        for role in grant.roles:
            held.setdefault(role.name, set()).update(p.name for p in grant.permissions)
    return {role: _hashed({"permissions": sorted(perms)}) for role, perms in held.items()}


def module_lock(module: ir.Module) -> Json:
    """The lock entry of one module."""
    versioned: dict[str, Json] = {"operations": {}, "events": {}}
    for op in module.operations:
        versioned["operations"].setdefault(op.name, {})[_version(op.version)] = _operation(op)
    for event in module.events:
        versioned["events"].setdefault(event.name, {})[_version(event.version)] = _hashed(
            {"payload": _fields(event.payload)})
    return {
        "version": module.version,
        **versioned,
        "entities": {e.name: _hashed({
            "fields": _fields(e.fields),
            "constraints": [attribute_text(c, "@@") for c in e.constraints
                            if c.name not in _NOT_CONTRACT],
        }) for e in module.entities},
        "types": {t.name: _hashed({"fields": _fields(t.fields)}) for t in module.types},
        "enums": {e.name: _hashed({"values": [v.name for v in e.values]})
                  for e in module.enums},
        "workflows": {w.name: _workflow(w) for w in module.workflows},
        "permissions": {p.name: _hashed({"description": p.description})
                        for p in module.permissions},
        "roles": {r.name: _hashed({"description": r.description}) for r in module.roles},
        "grants": _grants(module),
        "policies": {p.entity.name: _hashed({"rules": {r.action.name: expr_text(r.rule)
                                                       for r in p.rules}})
                     for p in module.policies},
        "jobs": {j.name: _job(j) for j in module.jobs},
        "flags": {f.name: _hashed({
            "default": f.default,
            "rollout": f"{f.rollout.percent:g}% by {f.rollout.by.name}" if f.rollout else None,
            "targets": [f"{t.dimension.name} {', '.join(v.name for v in t.values)}"
                        for t in f.targets],
        }) for f in module.flags},
        "metrics": {m.name: _hashed({
            "unit": m.unit.name if m.unit else None,
            "aggregate": m.aggregate.name if m.aggregate else None,
            "period": m.period.name if m.period else None,
            "source": _event_ref(m.source),
        }) for m in module.metrics},
        "dependents": _dependents(module),
    }


def _dependents(module: ir.Module) -> Json:
    """What listens to each event (by version, `*` for any) and what uses each flag."""
    events: dict[str, dict[str, list[str]]] = {}
    flags: dict[str, list[str]] = {}

    def listens(ref: ir.EventRef | None, label: str) -> None:
        if ref is not None:
            events.setdefault(ref.name, {}).setdefault(ref.version or ANY_VERSION, []).append(
                label)

    for trigger in module.triggers:
        listens(trigger.event, f"job `{trigger.job.name}`")
    for note in module.notifications:
        listens(note.on, f"notification `{note.name}`")
    for metric in module.metrics:
        listens(metric.source, f"metric `{metric.name}`")
    for experiment in module.experiments:
        listens(experiment.metric, f"experiment `{experiment.name}`")
    for track in module.tracks:
        for unit in track.units:
            for step in unit.steps:
                listens(step.completes_on, f"learning step `{track.name}.{unit.name}.{step.name}`")
    for op in module.operations:
        if op.behind is not None:
            label = f"{op.name} {op.version}" if op.version else op.name
            flags.setdefault(op.behind.name, []).append(f"operation `{label}`")
    for plan in module.plans:
        for flag in plan.flags:
            flags.setdefault(flag.name, []).append(f"plan `{plan.name}`")
    return {"events": events, "flags": flags}


def build_lock(program: ir.Program, version: str | None = None, routes: bool = True) -> Json:
    """The lock of `program`'s own (non-std) modules, labelled with a release `version`;
    `routes=False` leaves out the HTTP routes (which need a program without errors)."""
    evaluator = Evaluator(program, SymbolTable(program))
    modules = {m.name: {**module_lock(m), "access": access_rows(evaluator, m)}
               for m in sorted(program.modules, key=lambda m: m.name) if not m.std}
    if routes:
        from contractspec.generators.api.model import build_api  # imports the checks: a cycle

        for op in build_api(program).operations:
            if op.module not in modules:  # the standard modules' routes are not locked
                continue
            label = f"{op.decl.name} {op.decl.version}" if op.decl.version else op.decl.name
            modules[op.module].setdefault("http", {})[label] = {"method": op.method,
                                                                "path": op.path}
    return {"lock_version": LOCK_VERSION, "release": version, "modules": modules}


def write_lock(root: Path, program: ir.Program, version: str | None = None) -> Path:
    """Write `cspec.lock` under `root`, atomically (a reader never sees half a lock) and only
    when its text changes."""
    path = root / LOCK_NAME
    text = canonical(build_lock(program, version)).encode("utf-8")
    if path.is_file() and path.read_bytes() == text:
        return path
    partial = path.with_name(LOCK_NAME + ".tmp")
    partial.write_bytes(text)
    partial.replace(path)
    return path


# ---- reading it back ------------------------------------------------------------------------


def read_lock(root: Path) -> tuple[Json | None, list[Diagnostic]]:
    """The parsed lock of the last release under `root` (None when there is none), and a
    CS603 diagnostic when it cannot be used."""
    path = root / LOCK_NAME
    if not path.is_file():
        return None, []
    return read_lock_file(path, LOCK_NAME)


def read_lock_file(path: Path, name: str) -> tuple[Json | None, list[Diagnostic]]:
    """A lock file read from `path` (shown as `name`): its data, or None and a CS603
    diagnostic saying why it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [_problem(SourceFile(name, ""), 0, f"cannot read {LOCK_NAME}: "
                               f"{getattr(error, 'strerror', None) or error}")]
    source = SourceFile(name, text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return None, [_problem(source, error.pos, f"{LOCK_NAME} is not valid JSON: {error.msg}")]
    except RecursionError:
        return None, [_problem(source, 0, f"{LOCK_NAME} is nested too deeply")]
    problem = lock_shape_error(data)
    if problem is not None:
        return None, [_problem(source, 0, f"{LOCK_NAME} {problem}")]
    return data, []


def lock_shape_error(data: Any) -> str | None:
    """What is wrong with the structure of a parsed lock, or None."""
    if not isinstance(data, dict):
        return "must hold a JSON object"
    if data.get("lock_version") != LOCK_VERSION:
        return (f"has lock_version {data.get('lock_version')!r}; this cspec reads version "
                f"{LOCK_VERSION}")
    modules = data.get("modules")
    if not isinstance(modules, dict):
        return "has no `modules` object"
    for name, module in modules.items():
        if not isinstance(module, dict):
            return f"module `{name}` is not an object"
        for section in VERSIONED_SECTIONS:
            items = module.get(section, {})
            if not isinstance(items, dict) or not all(
                isinstance(versions, dict) and all(
                    isinstance(item, dict) and isinstance(item.get("hash"), str)
                    for item in versions.values())
                    for versions in items.values()):
                return f"module `{name}`: `{section}` must map names to versions to items " \
                       "with a `hash`"
    return None


def _problem(source: SourceFile, offset: int, message: str) -> Diagnostic:
    return Diagnostic(code="CS603", severity=Severity.ERROR, message=message,
                      span=source.span(offset, min(offset + 1, len(source.text))),
                      help=f"restore {LOCK_NAME} from version control, or write it again with "
                           "`cspec release`")
