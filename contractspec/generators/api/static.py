"""The fixed modules of a generated application with users: authentication, dependencies,
the handler context, the outbox, the audit trail and the development command.

Placeholders: `{app}` the package, `{User}`, `{Org}`, `{Membership}`, `{Token}`,
`{Outbox}` the model classes (their names depend on the spec's names). `{Audit}` is the
audit model class, present only when the workspace uses the standard `audit` module.
"""

from __future__ import annotations

AUTH = '''"""Authentication: bearer tokens and the signed-in actor.

A token belongs to one member of one organisation (`runtime.ApiToken`); only its SHA-256 is
stored. Each request's actor carries the member's current role in that organisation and the
permissions the spec grants to that role, so a role change or a removed membership takes
effect at once. A platform operator's token (`platformOperator`) acts with the `operator`
role instead: the platform's staff, who see the job queue and manage feature flags; it
still needs its member's membership. Create a token for development with
`python -m {app}.dev create-token` (`--operator` for an operator's).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from {app}.db import models
from {app}.policies import GRANTS

TOKEN_PREFIX = "cst_"
OPERATOR = "operator"  # the platform's staff role (`identity.operator`), held by no membership


@dataclass(frozen=True)
class Actor:
    """The signed-in member: user, organisation, role there and the role's permissions."""

    user_id: uuid.UUID
    org_id: uuid.UUID
    role: str
    permissions: frozenset[str]
    token_id: uuid.UUID | None = None
    user_fields: Mapping[str, Any] = field(default_factory=dict)

    def can(self, name: str) -> bool:
        """Whether the actor holds the permission `name` or has the role `name`."""
        return name == self.role or name in self.permissions


def hash_token(token: str) -> str:
    """What is stored of a token: its SHA-256, hex-encoded."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, *, org_id: uuid.UUID, user_id: uuid.UUID,
                name: str = "token", operator: bool = False) -> str:
    """Create a token for a member (`operator`: acting as a platform operator); the plain
    token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(models.{Token}(org_id=org_id, user_id=user_id, token_hash=hash_token(token),
                               name=name, platform_operator=operator))
    session.flush()
    return token


def revoke_token(session: Session, token: str) -> bool:
    """Revoke a token; False when it is unknown or already revoked."""
    row = session.scalar(sa.select(models.{Token}).where(
        models.{Token}.token_hash == hash_token(token), models.{Token}.revoked_at.is_(None)))
    if row is None:
        return False
    row.revoked_at = datetime.datetime.now(datetime.UTC)
    session.flush()
    return True


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The actor a token stands for, or None (unknown, revoked, or no longer a member)."""
    row = session.scalar(sa.select(models.{Token}).where(
        models.{Token}.token_hash == hash_token(token), models.{Token}.revoked_at.is_(None)))
    if row is None:
        return None
    membership = session.scalar(sa.select(models.{Membership}).where(
        models.{Membership}.org_id == row.org_id, models.{Membership}.user_id == row.user_id))
    if membership is None:
        return None
    role = OPERATOR if row.platform_operator else str(membership.role)
    user = row.user
    fields = {a.key: getattr(user, a.key) for a in sa.inspect(models.{User}).column_attrs}
    return Actor(user.id, row.org_id, role, GRANTS.get(role, frozenset()), row.id, fields)
'''

DEPS = '''"""Request dependencies: a database session, and the signed-in actor (401 without one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from {app}.api import errors
from {app}.auth import Actor, actor_for_token
from {app}.db.session import SessionLocal


def get_session() -> Iterator[Session]:
    """One database session per request."""
    with SessionLocal() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
_bearer = HTTPBearer(auto_error=False, description="A token from `python -m {app}.dev "
                     "create-token`.")


def current_actor(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The actor of the request's bearer token; 401 when it is missing or not valid."""
    if credentials is None:
        raise errors.Unauthorized()
    actor = actor_for_token(session, credentials.credentials)
    if actor is None:
        raise errors.Unauthorized("The token is not valid, or it was revoked.")
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]


def allowed(policy: Callable[[Actor], bool]) -> Any:
    """A route dependency refusing (403) an actor the operation's policy refuses, before the
    input is validated: a caller without the right learns nothing from a 422. The route
    checks the policy again, for code that calls the route function directly."""

    def check(actor: ActorDep) -> None:
        if not policy(actor):
            raise errors.Forbidden()

    return Depends(check)
'''

CONTEXT = '''"""What a handler gets besides its input: the session, the actor, and ways to read
records the actor may see and to emit events (written to the outbox in the same
transaction). Commit with `ctx.commit()`; events are dispatched after it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from {app} import policies
from {app}.api import errors
from {app}.auth import Actor
from {app}.events import outbox

M = TypeVar("M")


@dataclass
class Context:
    """The request's session and actor."""

    session: Session
    actor: Actor

    def get(self, model: type[M], key: Any) -> M:
        """The record of `model` with this key that the actor may read; else 404."""
        row = self.session.scalar(sa.select(model).where(
            sa.inspect(model).primary_key[0] == key, policies.readable(model, self.actor)))
        if row is None:
            raise errors.NotFound()
        return row

    def select(self, model: type[M]) -> sa.Select[Any]:
        """A query of the `model` records the actor may read (add filters to it)."""
        return sa.select(model).where(policies.readable(model, self.actor))

    def emit(self, event: type[BaseModel], payload: BaseModel) -> None:
        """Write an event to the outbox, in this transaction."""
        outbox.emit(self.session, self.actor, event, payload)

    def commit(self) -> None:
        """Commit (409 when a constraint refuses it), then dispatch the events."""
        try:
            self.session.commit()
        except IntegrityError as error:
            self.session.rollback()
            raise errors.Conflict(details=str(error.orig)) from error
        outbox.dispatch_pending(self.session)
'''

OUTBOX = '''"""The transactional outbox: events are rows written in the same transaction as the
change that emits them, then dispatched in process to the subscribers registered with
`@subscribe("deal.created")` (in your handler modules). A subscriber that fails leaves the
event pending (its error and attempts recorded) and is tried again on the next dispatch.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from {app}.audit import record_event
from {app}.auth import Actor
from {app}.db import models

Subscriber = Callable[[Session, dict[str, Any]], None]
_subscribers: dict[str, list[Subscriber]] = {}


def subscribe(event: str) -> Callable[[Subscriber], Subscriber]:
    """Register a function called with `(session, event)` for each `event` dispatched."""
    def register(function: Subscriber) -> Subscriber:
        _subscribers.setdefault(event, []).append(function)
        return function
    return register


def emit(session: Session, actor: Actor | None, event: type[BaseModel],
         payload: BaseModel, org_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Write `event` (its class) with `payload` to the outbox; audit it if the spec says so."""
    fields = event.model_fields
    name = fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    version = fields["version"].annotation.__args__[0]  # type: ignore[union-attr]
    org = org_id if org_id is not None else actor.org_id if actor is not None else None
    envelope: dict[str, Any] = {
        "id": uuid.uuid4(), "type": name, "version": version,
        "occurredAt": datetime.datetime.now(datetime.UTC),
        "actor": ({"kind": "user", "id": str(actor.user_id)} if actor is not None
                  else {"kind": "system", "id": "system"}),
        "payload": payload,
    }
    if "orgId" in fields:  # only events whose payload holds one organisation's data
        envelope["orgId"] = org
    body = event.model_validate(envelope).model_dump(mode="json")
    session.add(models.{Outbox}(org_id=org, event=name, version=version, body=body))
    record_event(session, actor, body)
    return body


def dispatch_pending(session: Session, limit: int = 100) -> int:
    """Dispatch up to `limit` pending events, oldest first; the number dispatched."""
    rows = session.scalars(
        sa.select(models.{Outbox}).where(models.{Outbox}.dispatched_at.is_(None))
        .order_by(models.{Outbox}.created_at, models.{Outbox}.id).limit(limit)).all()
    done = 0
    for row in rows:
        try:
            with session.begin_nested():
                for subscriber in _subscribers.get(row.event, []):
                    subscriber(session, row.body)
        except Exception as error:  # noqa: BLE001 - recorded, tried again later
            row.attempts += 1
            row.last_error = repr(error)
        else:
            row.dispatched_at = datetime.datetime.now(datetime.UTC)
            done += 1
        session.commit()
    return done
'''

AUDIT_ON = '''"""The audit trail: one row of `{Audit}` per event the spec marks `audit` and per
workflow transition; `@pii` values are replaced by "[redacted]"."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from {app} import enums
from {app}.auth import Actor
from {app}.db import models

REDACTED = "[redacted]"
# Each audited event: `(name, version)` -> its `@pii` payload fields, and the payload field
# naming the record it is about with that record's entity (empty when there is none).
AUDITED: dict[tuple[str, str], tuple[frozenset[str], str, str]] = {audited}


def redact(values: dict[str, Any], pii: frozenset[str]) -> dict[str, Any]:
    return {k: REDACTED if k in pii and v is not None else v for k, v in values.items()}


def record(session: Session, actor: Actor | None, *, org_id: uuid.UUID, event: str,
           target_type: str, target_id: str, diff: dict[str, Any]) -> None:
    """Add one audit row (in the caller's transaction)."""
    kind = enums.{ActorKind}.user if actor is not None else enums.{ActorKind}.system
    session.add(models.{Audit}(
        org_id=org_id, actor_kind=kind,
        actor_id=str(actor.user_id) if actor is not None else "system", event=event,
        target_type=target_type, target_id=target_id, diff=diff))


def record_event(session: Session, actor: Actor | None, body: dict[str, Any]) -> None:
    """Audit an emitted event (its envelope as JSON) when the spec marks it `audit`."""
    audited = AUDITED.get((body["type"], body["version"]))
    if audited is None or body.get("orgId") is None:
        return
    pii, field, entity = audited
    payload = body["payload"]
    record(session, actor, org_id=uuid.UUID(body["orgId"]),
           event=f"{body['type']} {body['version']}", target_type=entity or body["type"],
           target_id=str(payload.get(field) or body["id"]), diff=redact(payload, pii))
'''

AUDIT_OFF = '''"""The audit trail: this workspace does not use the standard `audit` module, so
nothing is recorded (add `use audit` to a spec module to keep an audit trail)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from {app}.auth import Actor


def record(session: Session, actor: Actor | None, *, org_id: uuid.UUID, event: str,
           target_type: str, target_id: str, diff: dict[str, Any]) -> None:
    """Nothing to record without the `audit` module."""


def record_event(session: Session, actor: Actor | None, body: dict[str, Any]) -> None:
    """Nothing to record without the `audit` module."""
'''

DEV = '''"""Development helpers: create an organisation, a member and a bearer token.

    python -m {app}.dev create-token --org Acme --email ada@example.com --role owner
    python -m {app}.dev create-token --org Staff --email ops@example.com --operator
    python -m {app}.dev revoke-token cst_...

The organisation (by name) and the user (by e-mail) are created when missing; the token is
printed once (only its hash is stored). Uses `DATABASE_URL` like the app; run the
migrations first (`alembic -c {app}/alembic.ini upgrade head`).
"""

from __future__ import annotations

import argparse
import sys

import sqlalchemy as sa
from sqlalchemy.orm import Session

from {app} import enums
from {app}.auth import issue_token, revoke_token
from {app}.db import models
from {app}.db.session import SessionLocal


def create_token(session: Session, org: str, email: str, role: str, name: str,
                 operator: bool = False) -> str:
    """The token of `email` in `org` with `role` (all created when missing); `operator`:
    the token acts as a platform operator, whatever the role."""
    org_row = session.scalar(sa.select(models.{Org}).where(models.{Org}.name == org))
    if org_row is None:
        org_row = models.{Org}(name=org)
        session.add(org_row)
    user = session.scalar(sa.select(models.{User}).where(models.{User}.email == email))
    if user is None:
        user = models.{User}(email=email, name=name or email.split("@")[0])
        session.add(user)
    session.flush()
    membership = session.scalar(sa.select(models.{Membership}).where(
        models.{Membership}.org_id == org_row.id, models.{Membership}.user_id == user.id))
    if membership is None:
        membership = models.{Membership}(org_id=org_row.id, user_id=user.id)
        session.add(membership)
    membership.role = enums.{Role}(role)
    token = issue_token(session, org_id=org_row.id, user_id=user.id, name="dev",
                        operator=operator)
    session.commit()
    return token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m {app}.dev", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-token", help="create an org, a member and a token")
    create.add_argument("--org", required=True, help="the organisation's name")
    create.add_argument("--email", required=True, help="the member's e-mail")
    create.add_argument("--name", default="", help="the member's name (new users)")
    create.add_argument("--role", default="owner", choices=[r.value for r in enums.{Role}],
                        help="the role in the organisation (default: owner)")
    create.add_argument("--operator", action="store_true",
                        help="the token acts as a platform operator (the `operator` role: "
                             "the job queue, feature flags, plans) instead of with the role")
    revoke = commands.add_parser("revoke-token", help="revoke a token")
    revoke.add_argument("token")
    args = parser.parse_args(argv)
    with SessionLocal() as session:
        if args.command == "create-token":
            print(create_token(session, args.org, args.email, args.role, args.name,
                               args.operator))
            return 0
        revoked = revoke_token(session, args.token)
        session.commit()
        print("revoked" if revoked else "unknown or already revoked", file=sys.stderr)
        return 0 if revoked else 1


if __name__ == "__main__":
    raise SystemExit(main())
'''

DEPS_OPEN = '''"""Request dependencies: a database session. This workspace does not use the standard
`identity` module, so the API has no users: every route is open (add `use identity` for
bearer tokens, policies and tenancy)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from {app}.db.session import SessionLocal


def get_session() -> Iterator[Session]:
    """One database session per request."""
    with SessionLocal() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
'''
