"""The static parts of the generated notification runtime (`<app>/notifications/`).

Placeholders: `{app}`, and `<<rows>>` (after the imports) where `notifications.py` defines
the aliases of the ORM classes used (`DeliveryRow = models.Delivery`, ...).
"""

from __future__ import annotations

INIT = '''"""Notifications: rules that turn events into deliveries, templates and transports.

- `catalog.py`: the spec's `notification` rules and the fields templates may read;
- `render.py`: templates rendered in Jinja2's sandbox from the event's payload;
- `rules.py`: the outbox subscribers creating one delivery per recipient and channel;
- `delivery.py`: sending one delivery (email, webhook) and recording its attempts;
- `transports.py`: SMTP / file / console email and signed webhooks, configured by env vars.
"""
'''

RENDER = '''"""Templates rendered in Jinja2's sandbox from an event's payload: a `ref` field of the
payload is the record it points to (loaded when the template reads it), seen through the
spec's field names; `@secret` fields are not readable."""

from __future__ import annotations

import re
import uuid
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy.orm import Session

from {app}.db import models
from {app}.notifications.catalog import FIELDS, PAYLOADS, Field

TEXT = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)
HTML = SandboxedEnvironment(autoescape=True)
_LAYOUT = HTML.from_string(
    "<!doctype html>\\n<html><body>\\n<h1>{{ subject }}</h1>\\n"
    "<div style=\\"white-space: pre-line\\">{{ body }}</div>\\n</body></html>\\n")
_VARIABLE = re.compile(r"{{-?\\s*([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*)")


class Record:
    """A row seen through the spec's field names: `record["title"]`, `{{ deal.title }}`."""

    def __init__(self, session: Session, entity: str, row: Any) -> None:
        self._session, self._entity, self._row = session, entity, row

    def __getitem__(self, name: str) -> Any:
        found = FIELDS[self._entity].get(name)
        if found is None:
            raise KeyError(name)
        return load(self._session, found, getattr(self._row, found.attr))

    def __contains__(self, name: object) -> bool:
        return name in FIELDS[self._entity]

    def entity(self) -> str:
        return self._entity

    def key(self) -> Any:
        return self._row.id


def load(session: Session, found: Field, value: Any) -> Any:
    """A field's value: the record a `ref` points to, else the value itself."""
    if found.target is None or value is None:
        return value
    if isinstance(value, str):
        try:
            value = uuid.UUID(value)
        except ValueError:
            pass
    row = session.get(getattr(models, found.target), value)
    return Record(session, found.target, row) if row is not None else None


def payload_context(session: Session, event: tuple[str, str],
                    payload: dict[str, Any]) -> dict[str, Any]:
    """What templates see: the payload's fields, `ref`s as records."""
    fields = PAYLOADS.get(event, {})
    return {name: load(session, fields[name], value) if name in fields else value
            for name, value in payload.items()}


def render(text: str, context: dict[str, Any]) -> str:
    """Render a template (plain text: nothing escaped)."""
    return TEXT.from_string(text).render(context)


def html_email(subject: str, body: str) -> str:
    """The HTML part of an email: the rendered text, HTML-escaped, in a small layout."""
    return _LAYOUT.render(subject=subject, body=body)


def variables(event: tuple[str, str], text: str) -> list[dict[str, Any]]:
    """The `{{ path }}` variables of a template, with their types (`TemplateVariable`s);
    paths not in the payload are left out (see `template_problem`)."""
    found: dict[str, dict[str, Any]] = {}
    for match in _VARIABLE.finditer(text):
        path = match.group(1)
        fields: dict[str, Field] | None = PAYLOADS.get(event, {})
        kind: str | None = None
        for part in path.split("."):
            if fields is None or part not in fields:
                kind = None
                break
            kind = fields[part].type
            target = fields[part].target
            fields = FIELDS.get(target) if target is not None else None
        if kind is not None:
            found.setdefault(path, {"name": path, "type": kind, "required": True})
    return list(found.values())


def template_problem(event: tuple[str, str], text: str) -> str | None:
    """Why a template cannot be rendered from the event's payload, or None: a syntax error
    or a `{{ path }}` that is not in the payload."""
    try:
        TEXT.parse(text)
    except TemplateError as error:
        return f"the template does not parse: {error}"
    for match in _VARIABLE.finditer(text):
        path = match.group(1)
        fields: dict[str, Field] | None = PAYLOADS.get(event, {})
        for part in path.split("."):
            if fields is None or part not in fields:
                return f"`{path}` is not in the payload of the event"
            target = fields[part].target
            fields = FIELDS.get(target) if target is not None else None
    return None
'''

TRANSPORTS = '''"""Where messages go, configured by environment variables (read on each send):

- `NOTIFICATIONS_EMAIL_TRANSPORT`: `console` (default: written to standard error), `file`
  (one `.eml` file per message in `NOTIFICATIONS_EMAIL_DIR`, default `./mail`) or `smtp`
  (`SMTP_HOST`, `SMTP_PORT` = 25, `SMTP_USER`, `SMTP_PASSWORD`, `SMTP_STARTTLS` = `1`/`0`);
- `NOTIFICATIONS_EMAIL_FROM`: the sender (default `no-reply@localhost`);
- webhooks: a JSON `POST` with `X-Signature: sha256=<hex HMAC-SHA256 of the body>`, keyed
  by the organisation's webhook secret or `NOTIFICATIONS_WEBHOOK_SECRET`;
  `NOTIFICATIONS_WEBHOOK_TIMEOUT` seconds (default 10).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import smtplib
import sys
import urllib.parse
import uuid
from email.message import EmailMessage
from pathlib import Path


class TransportError(RuntimeError):
    """A message could not be handed over."""


def email_message(to: str, subject: str, text: str, html: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = os.environ.get("NOTIFICATIONS_EMAIL_FROM", "no-reply@localhost")
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4()}@notifications>"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_email(message: EmailMessage) -> None:
    """Hand an email to the configured transport."""
    transport = os.environ.get("NOTIFICATIONS_EMAIL_TRANSPORT", "console")
    if transport == "console":
        sys.stderr.write(message.as_string() + "\\n")
    elif transport == "file":
        folder = Path(os.environ.get("NOTIFICATIONS_EMAIL_DIR", "mail"))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{uuid.uuid4()}.eml").write_bytes(message.as_bytes())
    elif transport == "smtp":
        host = os.environ.get("SMTP_HOST", "localhost")
        with smtplib.SMTP(host, int(os.environ.get("SMTP_PORT", "25")), timeout=30) as smtp:
            if os.environ.get("SMTP_STARTTLS", "0") == "1":
                smtp.starttls()
            user = os.environ.get("SMTP_USER")
            if user:
                smtp.login(user, os.environ.get("SMTP_PASSWORD", ""))
            smtp.send_message(message)
    else:
        raise TransportError(f"unknown NOTIFICATIONS_EMAIL_TRANSPORT {transport!r}: "
                             "use console, file or smtp")


def signature(secret: str, body: bytes) -> str:
    """The `X-Signature` header: `sha256=` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(url: str, secret: str, body: bytes) -> None:
    """POST a JSON body, signed; a status other than 2xx (redirects included) is an error."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("https", "http") or not parts.hostname or port == -1:
        raise TransportError(f"the webhook URL {url!r} is not an http(s) URL")
    timeout = float(os.environ.get("NOTIFICATIONS_WEBHOOK_TIMEOUT", "10"))
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers={
            "Content-Type": "application/json", "X-Signature": signature(secret, body)})
        status = connection.getresponse().status
    finally:
        connection.close()
    if not 200 <= status < 300:
        raise TransportError(f"the webhook answered {status}")
'''

RULES = '''"""The spec's `notification` rules as outbox subscribers: for each event a rule is `on`,
one delivery per recipient and channel (in the event's organisation only), rendered from
the payload (or the organisation's `Template` override), honouring the organisation's channel
switches and each user's preferences (opted out: `suppressed`). In-app deliveries are sent
at once (they are the inbox); email and webhook deliveries are queued for the
`deliverNotification` job, which the worker runs with retries."""

from __future__ import annotations

import datetime
import os
import uuid
from functools import partial
from typing import Any

import sqlalchemy as sa
from jinja2 import TemplateError
from sqlalchemy.orm import Session

from {app}.db import models
from {app}.enums import Channel, DeliveryStatus, JobTrigger
from {app}.events import outbox
from {app}.jobs.queue import enqueue
from {app}.notifications.catalog import RULES, USER, Rule
from {app}.notifications.render import Record, payload_context, render

<<rows>>

SUBJECT_MAX = 200


def on_event(rule: Rule, session: Session, event: dict[str, Any]) -> None:
    """Create the deliveries of `rule` for one event of the outbox."""
    if event.get("version") != rule.version or not event.get("orgId"):
        return
    org_id = uuid.UUID(str(event["orgId"]))
    context = payload_context(session, (rule.event, rule.version), dict(event["payload"]))
    users, addresses = recipients(session, rule, org_id, context)
    emails = {user: email for user, email in session.execute(
        sa.select(UserRow.id, UserRow.email).where(
            UserRow.id.in_(list(users))))} if users else {}
    for name in rule.channels:
        channel = Channel(name)
        targets: list[tuple[uuid.UUID | None, str | None]]
        if channel == Channel.in_app:
            targets = [(user, None) for user in users]
        elif channel == Channel.email:
            targets = [(user, emails.get(user)) for user in users if emails.get(user)]
            targets += [(None, address) for address in addresses]
        else:
            url = webhook_url(session, org_id)
            targets = [(None, url)] if url else []
        for user, address in targets:
            _deliver(session, rule, event, org_id, channel, context, user, address)


def recipients(session: Session, rule: Rule, org_id: uuid.UUID,
               context: dict[str, Any]) -> tuple[list[uuid.UUID], list[str]]:
    """The members of the organisation the rule names (by payload path or by role) and the
    plain email addresses its paths lead to; a user outside the organisation never."""
    users: list[uuid.UUID] = []
    addresses: list[str] = []
    for path in rule.paths:
        value: Any = context.get(path.split(".")[0])
        for part in path.split(".")[1:]:
            value = value[part] if isinstance(value, Record) and part in value else None
        if isinstance(value, Record) and value.entity() == USER:
            users.append(value.key())
        elif isinstance(value, Record) and "email" in value and value["email"]:
            addresses.append(str(value["email"]))
        elif isinstance(value, str) and value:
            addresses.append(value)
    members = set(session.scalars(sa.select(MembershipRow.user_id).where(
        MembershipRow.org_id == org_id)))
    for role in rule.roles:
        users += session.scalars(sa.select(MembershipRow.user_id).where(
            MembershipRow.org_id == org_id,
            sa.cast(MembershipRow.role, sa.String) == role)).all()
    return (list(dict.fromkeys(u for u in users if u in members)),
            list(dict.fromkeys(addresses)))


def webhook_url(session: Session, org_id: uuid.UUID) -> str | None:
    """The organisation's webhook URL, else `NOTIFICATIONS_WEBHOOK_URL`."""
    setting = session.scalar(sa.select(OrgSettingRow).where(
        OrgSettingRow.org_id == org_id, OrgSettingRow.channel == Channel.webhook))
    url = setting.webhook_url if setting is not None else None
    return url or os.environ.get("NOTIFICATIONS_WEBHOOK_URL") or None


def allowed(session: Session, org_id: uuid.UUID, user: uuid.UUID | None, channel: Channel,
            notification: str) -> bool:
    """Whether the organisation has the channel on and the user has not opted out of it (a
    preference for this notification wins over one for the whole channel)."""
    setting = session.scalar(sa.select(OrgSettingRow).where(
        OrgSettingRow.org_id == org_id, OrgSettingRow.channel == channel))
    if setting is not None and not setting.enabled:
        return False
    if user is None:
        return True
    choices = {row.notification: row.enabled for row in session.scalars(
        sa.select(PreferenceRow).where(
            PreferenceRow.org_id == org_id, PreferenceRow.user_id == user,
            PreferenceRow.channel == channel))}
    return choices.get(notification, choices.get(None, True))


def texts(session: Session, rule: Rule, org_id: uuid.UUID,
          channel: Channel) -> tuple[str | None, str]:
    """The subject and body templates: the organisation's override, else the spec's."""
    override = session.scalar(sa.select(TemplateRow).where(
        TemplateRow.org_id == org_id, TemplateRow.notification == rule.name,
        TemplateRow.channel == channel, TemplateRow.locale == "en"))
    if override is not None:
        return override.subject, override.body
    return rule.subject, rule.template


def _deliver(session: Session, rule: Rule, event: dict[str, Any], org_id: uuid.UUID,
             channel: Channel, context: dict[str, Any], user: uuid.UUID | None,
             address: str | None) -> None:
    subject_text, body_text = texts(session, rule, org_id, channel)
    status, error = DeliveryStatus.queued, None
    try:
        subject = render(subject_text, context).strip()[:SUBJECT_MAX] if subject_text else None
        body = render(body_text, context)
    except TemplateError as problem:
        subject, body = None, body_text
        status, error = DeliveryStatus.failed, f"the template cannot be rendered: {problem}"
    if not allowed(session, org_id, user, channel, rule.name):
        status = DeliveryStatus.suppressed
    now = datetime.datetime.now(datetime.UTC)
    row = DeliveryRow(
        org_id=org_id, notification=rule.name, channel=channel,
        event=f"{rule.event} {rule.version}", event_id=uuid.UUID(str(event["id"])),
        recipient_id=user, address=address, subject=subject or None, body=body,
        status=status, attempts=0, last_error=error)
    if status == DeliveryStatus.queued and channel == Channel.in_app:
        row.status, row.attempts, row.sent_at = DeliveryStatus.sent, 1, now
    session.add(row)
    session.flush()
    if row.status == DeliveryStatus.queued:
        enqueue(session, "deliverNotification", {"delivery": str(row.id)}, org_id=org_id,
                trigger=JobTrigger.event)


for _rule in RULES:
    outbox.subscribe(_rule.event)(partial(on_event, _rule))
'''

DELIVERY = '''"""Sending one queued delivery through its channel, and recording each attempt:
`sent`, or `failed` (retried by the worker after the job's backoff) and `bounced` after the last
attempt. A failure is recorded in a transaction of its own, so it survives the rollback of
the job's."""

from __future__ import annotations

import datetime
import json
import os
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from {app}.db import models
from {app}.enums import Channel, DeliveryStatus
from {app}.events import models as events
from {app}.events import outbox
from {app}.notifications import transports
from {app}.notifications.render import html_email

<<rows>>

RETRYABLE = (DeliveryStatus.queued, DeliveryStatus.failed)


def send(session: Session, row: DeliveryRow) -> None:
    """Hand the delivery to its transport (raises when it could not)."""
    if row.channel == Channel.email:
        subject = row.subject or row.notification
        transports.send_email(transports.email_message(
            row.address or "", subject, row.body, html_email(subject, row.body)))
    elif row.channel == Channel.webhook:
        body = json.dumps({
            "notification": row.notification, "event": row.event, "eventId": str(row.event_id),
            "delivery": str(row.id), "org": str(row.org_id), "subject": row.subject,
            "body": row.body}, sort_keys=True).encode()
        transports.post_webhook(row.address or "", webhook_secret(session, row.org_id), body)


def webhook_secret(session: Session, org_id: uuid.UUID) -> str:
    """The organisation's webhook secret, else `NOTIFICATIONS_WEBHOOK_SECRET`."""
    secret = session.scalar(sa.select(OrgSettingRow.webhook_secret).where(
        OrgSettingRow.org_id == org_id, OrgSettingRow.channel == Channel.webhook))
    secret = secret or os.environ.get("NOTIFICATIONS_WEBHOOK_SECRET")
    if not secret:
        raise transports.TransportError(
            "no webhook secret: set the organisation's or NOTIFICATIONS_WEBHOOK_SECRET")
    return secret


def attempt(session: Session, delivery: uuid.UUID, last: bool) -> None:
    """One attempt at a queued or failed delivery; raises after recording a failure."""
    row = session.get(DeliveryRow, delivery)
    if row is None or row.status not in RETRYABLE:
        return
    try:
        send(session, row)
    except Exception as error:
        session.rollback()  # the failure is recorded by a transaction of its own
        record_failure(session, delivery, f"{type(error).__name__}: {error}", last)
        raise
    row.status, row.attempts = DeliveryStatus.sent, row.attempts + 1
    row.sent_at, row.last_error = datetime.datetime.now(datetime.UTC), None
    outbox.emit(session, None, events.NotificationSentV1, events.NotificationSentV1Payload(
        delivery=row.id, channel=row.channel), org_id=row.org_id)


def record_failure(session: Session, delivery: uuid.UUID, error: str, last: bool) -> None:
    """Count a failed attempt in its own transaction: `failed`, or `bounced` when `last`."""
    with Session(session.get_bind()) as own:
        row = own.get_one(DeliveryRow, delivery)
        row.attempts += 1
        row.last_error = error
        row.status = DeliveryStatus.bounced if last else DeliveryStatus.failed
        event, payload = ((events.NotificationBouncedV1, events.NotificationBouncedV1Payload)
                          if last else
                          (events.NotificationFailedV1, events.NotificationFailedV1Payload))
        outbox.emit(own, None, event, payload(delivery=row.id, error=error), org_id=row.org_id)
        own.commit()
'''
