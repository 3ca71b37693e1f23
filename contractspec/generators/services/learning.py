"""The `learning` service provider: tracks from the spec, enrolment, and progress recorded
from product events for the learner they happened to.

Generates `<app>/services/learning.py`: `TRACKS` (every `track` declaration with its units
and steps), `STEPS` (each step's event and `when` condition compiled over the payload), the
operations `listTracks`, `enroll`, `myEnrollments`, `myProgress` and `setNudges`, and one
outbox subscriber per event a step `completes on`. The learner of an event is its actor
(the envelope's `actor`, a user), in the event's organisation: a step completes for that
learner only, when they are enrolled and active in its track. No route completes a step
(`recordStepCompletion` is not served).
"""

from __future__ import annotations

from typing import ClassVar

from contractspec.check.symbols import SymbolTable
from contractspec.generators.base import GeneratorError
from contractspec.generators.db.naming import py_str
from contractspec.generators.events.shapes import EventVersion, build_catalog
from contractspec.generators.services import learning_static as static
from contractspec.generators.services.base import ServiceInput, ServiceProvider
from contractspec.generators.services.common import job_names
from contractspec.ir import nodes as ir
from contractspec.ir.text import expr_text

MODULE = "learning"
OPERATIONS = ("listTracks", "enroll", "myEnrollments", "myProgress", "setNudges")
ERRORS = ("UnknownTrack", "AlreadyEnrolled", "EnrollmentNotFound")
EVENTS = {"EnrolledEvent": "learning.enrolled", "StepEvent": "learning.step_completed",
          "TrackEvent": "learning.track_completed", "NudgedEvent": "learning.nudged"}
_COMPARE = frozenset({"==", "!=", "<", "<=", ">", ">=", "in"})


class LearningProvider(ServiceProvider):
    module: ClassVar[str] = MODULE
    operations: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        (name, "v1") for name in OPERATIONS)

    def files(self, given: ServiceInput) -> dict[str, str]:
        ops = {name: given.operation(MODULE, name) for name in OPERATIONS}
        names = {
            "app": given.app, "Learner": given.orm(MODULE, "Learner"),
            "Enrollment": given.orm(MODULE, "Enrollment"),
            "StepCompletion": given.orm(MODULE, "StepCompletion"),
            "EnrollmentStatus": given.enum(MODULE, "EnrollmentStatus"),
            "TracksOut": ops["listTracks"].output.py.replace("[", "[schemas."),
            "EnrollmentRead": ops["enroll"].output.py,
            "LearnerRead": ops["setNudges"].output.py,
            "EnrollmentPage": ops["myEnrollments"].output.py,
            "CompletionPage": ops["myProgress"].output.py,
            "CompletionRead": ops["myProgress"].output.py.removesuffix("Page"),
            **{f"{name}Input": op.input.name for name, op in ops.items()},
            **{name: op.function for name, op in ops.items()},
        }
        names["NudgeInput"], names["nudge_job"] = job_names(given, MODULE, "sendLearningNudges")
        classes = {e.code: e.class_name for op in ops.values() for e in op.errors}
        for code in ERRORS:
            if code not in classes:
                raise GeneratorError(f"the `learning` operations lack the error `{code}`")
            names[code] = f"errors.{classes[code]}"
        catalog = build_catalog(given.program)
        for placeholder, event in EVENTS.items():
            names[placeholder] = next(e.class_name for e in catalog.events
                                      if e.module == MODULE and e.decl.name == event)
        text = static.SERVICE
        for key, value in names.items():
            text = text.replace("{" + key + "}", value)
        tracks, steps = _tracks(given.program, given.symbols, catalog.events)
        return {"services/learning.py": given.top + text.replace("{tracks}", tracks)
                .replace("{steps}", steps)}


def _tracks(program: ir.Program, symbols: SymbolTable,
            events: list[EventVersion]) -> tuple[str, str]:
    """`TRACKS` and `STEPS` as Python source."""
    tracks: list[str] = []
    steps: list[str] = []
    for module in program.modules:
        for track in module.tracks:
            units: list[str] = []
            total = 0
            for unit in track.units:
                outlines: list[str] = []
                for step in unit.steps:
                    if step.completes_on is None:
                        continue
                    event = _event(module.name, step.completes_on, symbols, events)
                    label = f"{event.type} {event.version}"
                    content = f", content={py_str(step.content)}" if step.content else ""
                    outlines.append(
                        f"            schemas.StepOutline(name={py_str(step.name)}, "
                        f"title={_opt(step.title)},\n"
                        f"                                completesOn={py_str(label)}"
                        f"{content}),")
                    fields = frozenset(f.name for f in event.decl.payload)
                    when = f"lambda p: {_cond(step.when, fields)}" if step.when is not None \
                        else "None"
                    steps.append(f"    Step({py_str(track.name)}, {py_str(unit.name)}, "
                                 f"{py_str(step.name)}, {py_str(event.type)}, "
                                 f"{py_str(event.version)},\n         {when}),")
                    total += 1
                units.append(f"        schemas.UnitOutline(name={py_str(unit.name)}, "
                             f"title={_opt(unit.title)}, steps=[\n" + "\n".join(outlines)
                             + "\n        ]),")
            tracks.append(f"    schemas.TrackOutline(name={py_str(track.name)}, "
                          f"title={_opt(track.title)}, totalSteps={total}, units=[\n"
                          + "\n".join(units) + "\n    ]),")
    return ("(\n" + "\n".join(tracks) + "\n)" if tracks else "()",
            "(\n" + "\n".join(steps) + "\n)" if steps else "()")


def _opt(text: str | None) -> str:
    return "None" if text is None else py_str(text)


def _event(module: str, ref: ir.EventRef, symbols: SymbolTable,
           events: list[EventVersion]) -> EventVersion:
    sym = symbols.event(module, ref).symbol
    found = next((e for e in events if sym is not None and e.module == sym.module
                  and e.decl is sym.decl), None)
    if found is None:
        raise GeneratorError(f"a step completes on `{ref.name}`, which is not declared")
    return found


def _cond(expr: ir.Expr, fields: frozenset[str]) -> str:
    """A step's `when` as Python over the event's payload `p` (JSON); `fields` are the
    payload's field names (another bare name is an enum value, compared as a string)."""
    if isinstance(expr, ir.BinaryExpr) and expr.op in ("and", "or"):
        return f"({_cond(expr.left, fields)} {expr.op} {_cond(expr.right, fields)})"
    if isinstance(expr, ir.UnaryExpr) and expr.op == "not":
        return f"not {_cond(expr.operand, fields)}"
    if isinstance(expr, ir.BinaryExpr) and expr.op in _COMPARE:
        left, right = _value(expr.left, fields), _value(expr.right, fields)
        return f"_compare({left}, {py_str(expr.op)}, {right})"
    if isinstance(expr, ir.PathExpr):
        return f"bool({_value(expr, fields)})"
    raise GeneratorError(f"a step's `when {expr_text(expr)}` cannot be evaluated")


def _value(expr: ir.Expr, fields: frozenset[str]) -> str:
    if isinstance(expr, ir.PathExpr):
        if len(expr.parts) == 1 and expr.parts[0] not in fields:
            return py_str(expr.parts[0])
        return f"_field(p, {', '.join(py_str(part) for part in expr.parts)})"
    if isinstance(expr, ir.ListExpr):
        return "[" + ", ".join(_value(item, fields) for item in expr.items) + "]"
    if isinstance(expr, ir.LiteralExpr):
        if expr.type in ("int", "decimal"):
            return f"decimal.Decimal({py_str(expr.text)})"
        if expr.type in ("string", "bool", "null"):
            return repr(expr.value)
    raise GeneratorError(f"a step's condition cannot use `{expr_text(expr)}`")
