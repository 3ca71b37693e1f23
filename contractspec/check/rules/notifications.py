"""Notifications (CS507-CS511): template variables and recipients are paths into the payload
of the event the notification is `on`; channels and recipients must be deliverable."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from contractspec.check.context import CheckContext
from contractspec.check.payload import PathEnd, PathError, find_event, resolve_type, walk_path
from contractspec.check.registry import rule
from contractspec.check.rules.events import EVENT, SHOP, replace_with
from contractspec.check.rules.stdlib import using
from contractspec.check.symbols import Symbol
from contractspec.diagnostics import Severity
from contractspec.ir import nodes as ir
from contractspec.source import Span

E = Severity.ERROR
CHANNELS = ("email", "in_app", "webhook")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_FILTER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\(.*\))?", re.DOTALL)
_ESCAPED = frozenset('"\\\n')  # characters a one-line string can only hold as escapes
_SHOP = using(SHOP, "notifications")
_NOTE = ("\nnotification orderPlaced {{\n  on order.placed\n  to role admin\n  via {}\n"
         "  template \"{}\"\n}}\n")


@dataclass(frozen=True)
class Variable:
    """`{{ deal.title | upper }}`: the path's segments with their offsets in the text."""

    parts: tuple[str, ...]
    starts: tuple[int, ...]

    def segment(self, index: int) -> tuple[int, int]:
        return self.starts[index], self.starts[index] + len(self.parts[index])

    @property
    def extent(self) -> tuple[int, int]:
        return self.starts[0], self.segment(len(self.parts) - 1)[1]


@dataclass(frozen=True)
class TemplateError:
    start: int
    end: int
    message: str


def parse_template(text: str) -> tuple[list[Variable], list[TemplateError]]:
    """The `{{ … }}` variables of a template (Jinja-like: a dotted path, then `| filter`s)."""
    variables: list[Variable] = []
    errors: list[TemplateError] = []
    pos = text.find("{{")
    while pos != -1:
        close = text.find("}}", pos + 2)
        if close == -1:
            errors.append(TemplateError(pos, pos + 2, "`{{` is never closed with `}}`"))
            break
        inner_start = pos + 2
        expr, *filters = text[inner_start:close].split("|")
        path = expr.strip()
        start = inner_start + len(expr) - len(expr.lstrip())
        if not _PATH.fullmatch(path):
            errors.append(TemplateError(pos, close + 2, f"`{text[pos:close + 2]}` is not a "
                                        "path into the event payload such as `{{ deal.title }}`"))
        elif not all(_FILTER.fullmatch(f.strip()) for f in filters):
            errors.append(TemplateError(pos, close + 2, f"`{text[pos:close + 2]}` has an empty "
                                        "or malformed filter: write `{{ path | filter }}`"))
        else:
            parts = path.split(".")
            starts = [start + sum(len(p) + 1 for p in parts[:i]) for i in range(len(parts))]
            variables.append(Variable(tuple(parts), tuple(starts)))
        pos = text.find("{{", close + 2)
    return variables, errors


def _string_offsets(value: str, span: Span) -> list[int] | None:
    """Where each character of `value` (and its end) sits inside its one-line string token,
    or None when that cannot be known (a `\"\"\"` block, unusual escapes)."""
    if span.start_line != span.end_line:
        return None
    offsets, pos = [], 1
    for char in value:
        offsets.append(pos)
        pos += 2 if char in _ESCAPED else 1
    offsets.append(pos)
    return offsets if pos + 1 == span.end_offset - span.start_offset else None


class _Text:
    """A template or subject, with a way to turn text offsets into spans."""

    def __init__(self, value: str, span: Span, what: str, exact: bool) -> None:
        self.value, self.span, self.what = value, span, what
        self.offsets = _string_offsets(value, span) if exact else None

    def span_of(self, start: int, end: int) -> Span | None:
        """The exact span of `value[start:end]`, when it can be computed."""
        if self.offsets is None:
            return None
        first, last = self.offsets[start], self.offsets[end]
        return self.span.model_copy(update={
            "start_col": self.span.start_col + first, "end_col": self.span.start_col + last,
            "start_offset": self.span.start_offset + first,
            "end_offset": self.span.start_offset + last, "end_line": self.span.start_line,
        })


def _texts(note: ir.NotificationDecl) -> list[_Text]:
    texts = []
    if note.template is not None:
        texts.append(_Text(note.template, note.template_span or note.span, "template",
                           exact=note.template_span is not None))
    if note.subject is not None:  # the IR keeps no span for the subject
        texts.append(_Text(note.subject, note.name_span, "subject", exact=False))
    return texts


@rule(
    "CS507", "unknown-payload-path", E,
    "A template variable or recipient is not in the event's payload.",
    "A notification renders its `template` and `subject` from the payload of the event it is "
    "`on`, and sends to recipients found there. In `{{ deal.title }}` the first segment must "
    "be a payload field; the following ones walk into the fields of a `ref`ed entity or an "
    "embedded `type`. Filters are allowed: `{{ deal.title | upper }}`. The same holds for a "
    "path recipient such as `to deal.owner`.",
    bad=_SHOP + EVENT + "\nnotification orderPlaced {\n  on order.placed\n  to role admin\n"
        "  via in_app\n  template \"New order of {{ order.amount }}\"\n}\n",
    good=_SHOP + EVENT + "\nnotification orderPlaced {\n  on order.placed\n  to role admin\n"
         "  via in_app\n  template \"New order of {{ order.total }}\"\n}\n",
    fix="Replace the segment with the closest field name.",
    per_module=True,
)
def check_payload_paths(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for note in module.notifications:
            event = find_event(ctx.symbols, module.name, note.on)
            if event is None:
                continue
            for text in _texts(note):
                for var in parse_template(text.value)[0]:
                    _check_variable(ctx, text, event, var)
            for recipient in note.recipients:
                found = walk_path(ctx.symbols, event, recipient.name.split(".")) if (
                    recipient.kind == "path") else None
                if isinstance(found, PathError):
                    ctx.report("CS507", f"recipient `{recipient.name}`: {found.message}",
                               recipient.span, help=f"did you mean `{found.suggestion}`?"
                               if found.suggestion else None)


def _check_variable(ctx: CheckContext, text: _Text, event: Symbol, var: Variable) -> None:
    found = walk_path(ctx.symbols, event, list(var.parts))
    if not isinstance(found, PathError):
        return
    exact = text.span_of(*var.segment(found.index))
    shown = "{{ " + ".".join(var.parts) + " }}"
    ctx.report("CS507", f"`{shown}` in the {text.what}: {found.message}", exact or text.span,
               help=f"did you mean `{found.suggestion}`?" if found.suggestion else None,
               fixes=replace_with(exact, found.suggestion)
               if exact is not None and found.suggestion else ())


@rule(
    "CS508", "malformed-template", E, "A notification template has a broken `{{ … }}`.",
    "Template variables are written `{{ path }}` or `{{ path | filter }}`, where the path "
    "is a dotted name into the event payload; other expressions are not supported, and every "
    "`{{` needs its `}}`.",
    bad=_SHOP + EVENT + _NOTE.format("in_app", "New order of {{ order.total"),
    good=_SHOP + EVENT + _NOTE.format("in_app", "New order of {{ order.total }}"),
    per_module=True,
)
def check_templates(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for note in module.notifications:
            for text in _texts(note):
                for error in parse_template(text.value)[1]:
                    ctx.report("CS508", f"in the {text.what}: {error.message}",
                               text.span_of(error.start, error.end) or text.span)


@rule(
    "CS509", "incomplete-notification", E,
    "A notification lacks its event, its recipients or its channels.",
    "A notification is sent `on` an event, `to` at least one recipient, `via` at least one "
    "channel; without any of them nothing can be sent.",
    bad=_SHOP + EVENT + "\nnotification orderPlaced {\n  to role admin\n"
        "  template \"New order\"\n}\n",
    good=_SHOP + EVENT + _NOTE.format("in_app", "New order"),
    per_module=True,
)
def check_complete(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for note in module.notifications:
            missing = [part for part, present in (
                ("`on` event", note.on is not None), ("recipient (`to`)", bool(note.recipients)),
                ("channel (`via`)", bool(note.channels))) if not present]
            if missing:
                ctx.report("CS509", f"notification `{note.name}` has no "
                           + " and no ".join(missing), note.name_span)


@rule(
    "CS510", "unknown-channel", E, "A notification names an unknown channel.",
    "Notifications are delivered `via` " + ", ".join(f"`{c}`" for c in CHANNELS) + ".",
    bad=_SHOP + EVENT + _NOTE.format("emial", "New order"),
    good=_SHOP + EVENT + _NOTE.format("email", "New order"),
    fix="Replace with the closest channel.",
    per_module=True,
)
def check_channels(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for note in module.notifications:
            for channel in note.channels:
                if channel.name not in CHANNELS:
                    close = difflib.get_close_matches(channel.name, CHANNELS, n=1, cutoff=0.5)
                    ctx.report("CS510", f"unknown channel `{channel.name}`", channel.span,
                               help="channels are " + ", ".join(f"`{c}`" for c in CHANNELS)
                               + (f": did you mean `{close[0]}`?" if close else ""),
                               fixes=replace_with(channel.span, close[0]) if close else ())


@rule(
    "CS511", "recipient-not-addressable", E, "A notification recipient cannot be reached.",
    "A recipient is a `role` (every member holding it; an unknown role is CS201) or a path "
    "into the event payload that ends at an `email` field or at a `ref` to an entity with an "
    "`email` field, such as `identity.User`.",
    bad=_SHOP + EVENT + "\nnotification orderPlaced {\n  on order.placed\n  to order.total\n"
        "  via email\n  template \"Thank you\"\n}\n",
    good=_SHOP + EVENT + "\nnotification orderPlaced {\n  on order.placed\n  to order.buyer\n"
         "  via email\n  template \"Thank you\"\n}\n",
    per_module=True,
)
def check_recipients(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for note in module.notifications:
            event = find_event(ctx.symbols, module.name, note.on)
            for recipient in note.recipients:
                if recipient.kind == "role":
                    ctx.resolve(module.name, _role_name(recipient), "access", "role",
                                frozenset({"role"}))
                    continue
                found = walk_path(ctx.symbols, event, recipient.name.split(".")) if (
                    event is not None) else None
                if isinstance(found, PathEnd) and not _addressable(ctx, found):
                    ctx.report("CS511", f"recipient `{recipient.name}` is neither a person nor "
                               "an email address", recipient.span,
                               help="name a payload path to an `email` field or to a `ref` of "
                                    "an entity with an `email` field, or a `role`")


def _role_name(recipient: ir.Recipient) -> ir.NameRef:
    """`admin` in `role admin`, with its own span (so a fix replaces the name only)."""
    span = recipient.span
    if span.start_line == span.end_line:
        width = len(recipient.name)
        span = span.model_copy(update={"start_col": span.end_col - width,
                                       "start_offset": span.end_offset - width})
    return ir.NameRef(name=recipient.name, span=span)


def _addressable(ctx: CheckContext, end: PathEnd) -> bool:
    type_ = end.field.type
    if not type_.is_ref:
        return type_.name == "email"
    target = resolve_type(ctx.symbols, end.module, type_)
    return target is None or any(
        f.type.name == "email" and not f.type.is_ref for f in target.decl.fields)
