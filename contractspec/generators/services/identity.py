"""The `identity` provider: sign-up, organisations, memberships, invitations, billing.

`<app>/services/identity.py` implements every operation of the standard `identity` module
but `registerUser` (with the generated bearer tokens every signed-in actor is already a
registered user; `signUp` is the sign-up) and the plain CRUD `listInvitations`. Rules the
spec states in errors live here: the last owner is never removed or demoted (`LastOwner`),
only owners grant, take or invite the owner role (`OwnerOnly`); accepting an invitation
(by its token, shown once to the inviter) creates the membership.
"""

from __future__ import annotations

from typing import ClassVar

from contractspec.generators.services.base import ServiceInput, ServiceProvider
from contractspec.generators.services.common import fill, names

OPERATIONS = frozenset({
    ("signUp", "v1"), ("acceptInvitation", "v1"), ("acceptMyInvitation", "v1"),
    ("switchOrg", "v1"),
    ("updateProfile", "v1"), ("me", "v1"), ("createOrg", "v1"), ("renameOrg", "v1"),
    ("deleteOrg", "v1"), ("inviteMember", "v1"), ("inviteMember", "v2"),
    ("revokeInvitation", "v1"), ("changeRole", "v1"), ("removeMember", "v1"),
    ("leaveOrg", "v1"), ("listMembers", "v1"), ("listMyMemberships", "v1"),
    ("listMyInvitations", "v1"), ("updateBillingProfile", "v1"), ("getBillingProfile", "v1"),
})


class IdentityProvider(ServiceProvider):
    module: ClassVar[str] = "identity"
    operations: ClassVar[frozenset[tuple[str, str]]] = OPERATIONS

    def files(self, given: ServiceInput) -> dict[str, str]:
        return {"services/identity.py": fill(TEMPLATE, names(given, self.module,
                                                             self.operations))}


TEMPLATE = '''${top}"""The standard `identity` module's operations (docs/std/identity.md): sign-up
and invitations (each answering a bearer token for the new member), organisations,
memberships with the last-owner rule, and billing details. `signUp` and `acceptInvitation`
are served without a token (`policy not authenticated`): they take the session, not a
context."""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ${app} import enums
from ${app}.api import errors, schemas
from ${app}.api.context import Context
from ${app}.auth import Actor, actor_for_token, issue_token
from ${app}.db import models
from ${app}.db.base import Base
from ${app}.events import models as events
from ${app}.events import outbox

INVITATION_VALID = datetime.timedelta(days=7)  # when `inviteMember` gets no `validFor`
INVITATION_PREFIX = "csi_"
OWNER = enums.${enum_OrgRole}.owner
PENDING = enums.${enum_InvitationStatus}.pending
R = TypeVar("R")
P = TypeVar("P")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _aware(moment: datetime.datetime) -> datetime.datetime:
    """SQLite gives times back without their (UTC) offset."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _same_email(column: Any, email: str) -> Any:
    """The address, exactly or case-insensitively: the database's `lower` may fold only ASCII,
    and the unique index compares exactly."""
    return sa.or_(column == email, sa.func.lower(column) == email.lower())


def _user_by_email(session: Session, email: str) -> models.${m_User} | None:
    return session.scalar(sa.select(models.${m_User}).where(
        _same_email(models.${m_User}.email, email)))


def _membership(session: Session, org_id: uuid.UUID,
                user_id: uuid.UUID) -> models.${m_OrgMembership} | None:
    return session.scalar(sa.select(models.${m_OrgMembership}).where(
        models.${m_OrgMembership}.org_id == org_id,
        models.${m_OrgMembership}.user_id == user_id))


def _owners(session: Session, org_id: uuid.UUID) -> int:
    """The organisation's owners, their rows locked on PostgreSQL until the commit, so two
    concurrent demotions cannot both see a second owner."""
    rows = session.scalars(sa.select(models.${m_OrgMembership}.id).where(
        models.${m_OrgMembership}.org_id == org_id, models.${m_OrgMembership}.role == OWNER,
    ).with_for_update()).all()
    return len(rows)


def _token(session: Session,
           membership: models.${m_OrgMembership}) -> tuple[${out_signUp_v1}, Context]:
    """A new token for the member, and the context of its actor (the caller commits)."""
    token = issue_token(session, org_id=membership.org_id, user_id=membership.user_id,
                        name="sign-in")
    actor = actor_for_token(session, token)
    assert actor is not None  # the membership was just flushed
    result = ${out_signUp_v1}(token=token, user=membership.user_id, org=membership.org_id,
                              membership=membership.id, role=membership.role)
    return result, Context(session, actor)


def _org_event(ctx: Context, event: Any, org_id: uuid.UUID, payload: Any) -> None:
    """Emit an event about another organisation than the actor's."""
    outbox.emit(ctx.session, ctx.actor, event, payload, org_id=org_id)


# ---- signing up and signing in ------------------------------------------------------------


def ${f_signUp_v1}(session: Session, data: ${in_signUp_v1}) -> ${out_signUp_v1}:
    """A new user, their organisation with them as owner, and a token for it."""
    if _user_by_email(session, data.email) is not None:
        raise errors.${e_signUp_v1_EmailTaken}()
    user = models.${m_User}(email=data.email, name=data.name)
    org = models.${m_Org}(name=data.orgName)
    session.add_all([user, org])
    session.flush()
    membership = models.${m_OrgMembership}(org_id=org.id, user_id=user.id, role=OWNER)
    session.add(membership)
    session.flush()
    result, ctx = _token(session, membership)
    ctx.emit(events.${ev_user_created_v1}, events.${ev_user_created_v1}Payload(user=user.id))
    ctx.emit(events.${ev_org_created_v1},
             events.${ev_org_created_v1}Payload(org=org.id, by=user.id))
    ctx.commit()
    return result


def ${f_acceptInvitation_v1}(session: Session,
                             data: ${in_acceptInvitation_v1}) -> ${out_acceptInvitation_v1}:
    """Join the invitation's organisation as a new user for the invited email. An email
    with an account accepts signed in (`acceptMyInvitation`): whoever holds the token (the
    inviter saw it) must not get a token for an existing account."""
    invitation = session.scalar(sa.select(models.${m_Invitation}).where(
        models.${m_Invitation}.token_hash == _hash(data.token)))
    if invitation is None:
        raise errors.${e_acceptInvitation_v1_InvitationNotFound}()
    _check_open(session, invitation, errors.${e_acceptInvitation_v1_InvitationClosed},
                errors.${e_acceptInvitation_v1_InvitationExpired})
    if _user_by_email(session, invitation.email) is not None:
        raise errors.${e_acceptInvitation_v1_SignInToAccept}()
    user = models.${m_User}(email=invitation.email,
                            name=data.name or invitation.email.split("@")[0])
    session.add(user)
    session.flush()
    result, ctx = _join(session, invitation, user.id)
    ctx.emit(events.${ev_user_created_v1}, events.${ev_user_created_v1}Payload(user=user.id))
    ctx.commit()
    return result


def ${f_acceptMyInvitation_v1}(
        ctx: Context, data: ${in_acceptMyInvitation_v1}) -> ${out_acceptMyInvitation_v1}:
    """Join, signed in, the organisation of an invitation sent to the caller's email."""
    email = str(ctx.actor.user_fields.get("email", ""))
    invitation = ctx.session.scalar(sa.select(models.${m_Invitation}).where(
        models.${m_Invitation}.id == data.invitation,
        _same_email(models.${m_Invitation}.email, email)))
    if invitation is None:
        raise errors.${e_acceptMyInvitation_v1_InvitationNotFound}()
    _check_open(ctx.session, invitation, errors.${e_acceptMyInvitation_v1_InvitationClosed},
                errors.${e_acceptMyInvitation_v1_InvitationExpired})
    if _membership(ctx.session, invitation.org_id, ctx.actor.user_id) is not None:
        raise errors.${e_acceptMyInvitation_v1_AlreadyMember}()
    result, joined = _join(ctx.session, invitation, ctx.actor.user_id)
    joined.commit()
    return result


def _check_open(session: Session, invitation: models.${m_Invitation},
                closed: type[errors.ApiError], expired: type[errors.ApiError]) -> None:
    """Refuse an invitation no longer pending, or expired (then marked so)."""
    if invitation.status != PENDING:
        raise closed()
    if _aware(invitation.expires_at) <= _now():
        invitation.status = enums.${enum_InvitationStatus}.expired
        session.commit()
        raise expired()


def _join(session: Session, invitation: models.${m_Invitation},
          user_id: uuid.UUID) -> tuple[${out_signUp_v1}, Context]:
    """The membership of an accepted invitation, `member.joined`, and a token for it."""
    membership = models.${m_OrgMembership}(org_id=invitation.org_id, user_id=user_id,
                                           role=invitation.role)
    session.add(membership)
    invitation.status = enums.${enum_InvitationStatus}.accepted
    session.flush()
    result, ctx = _token(session, membership)
    ctx.emit(events.${ev_member_joined_v1}, events.${ev_member_joined_v1}Payload(
        invitation=invitation.id, user=user_id))
    return result, ctx


def ${f_switchOrg_v1}(ctx: Context, data: ${in_switchOrg_v1}) -> ${out_switchOrg_v1}:
    """A token for the signed-in user in another of their organisations."""
    membership = _membership(ctx.session, data.org, ctx.actor.user_id)
    if membership is None:
        raise errors.${e_switchOrg_v1_NotAMember}()
    result, _ = _token(ctx.session, membership)
    ctx.commit()
    return result


def ${f_me_v1}(ctx: Context, data: ${in_me_v1}) -> ${out_me_v1}:
    return schemas.${r_User}.from_row(ctx.session.get_one(models.${m_User}, ctx.actor.user_id))


def ${f_updateProfile_v1}(ctx: Context, data: ${in_updateProfile_v1}) -> ${out_updateProfile_v1}:
    user = ctx.session.get_one(models.${m_User}, ctx.actor.user_id)
    user.name = data.name
    ctx.commit()
    return schemas.${r_User}.from_row(user)


# ---- organisations --------------------------------------------------------------------------


def ${f_createOrg_v1}(ctx: Context, data: ${in_createOrg_v1}) -> ${out_createOrg_v1}:
    """A new organisation with the caller as its owner (`switchOrg` gives a token for it)."""
    org = models.${m_Org}(name=data.name)
    ctx.session.add(org)
    ctx.session.flush()
    ctx.session.add(models.${m_OrgMembership}(org_id=org.id, user_id=ctx.actor.user_id,
                                              role=OWNER))
    ctx.session.flush()
    _org_event(ctx, events.${ev_org_created_v1}, org.id,
               events.${ev_org_created_v1}Payload(org=org.id, by=ctx.actor.user_id))
    result = schemas.${r_Org}.from_row(org)
    ctx.commit()
    return result


def ${f_renameOrg_v1}(ctx: Context, data: ${in_renameOrg_v1}) -> ${out_renameOrg_v1}:
    org = ctx.session.get_one(models.${m_Org}, ctx.actor.org_id)
    org.name = data.name
    ctx.commit()
    return schemas.${r_Org}.from_row(org)


def ${f_deleteOrg_v1}(ctx: Context, data: ${in_deleteOrg_v1}) -> None:
    """Delete the organisation and every row of a table with a required organisation
    (children first); optional references to it are cleared by their foreign keys. A
    record owned only through a `ref` (no organisation field) must be deleted first, or
    the database refuses (409)."""
    session = ctx.session
    org = session.get_one(models.${m_Org}, ctx.actor.org_id)
    if data.confirmName != org.name:
        raise errors.${e_deleteOrg_v1_NameMismatch}()
    ctx.emit(events.${ev_org_deleted_v1}, events.${ev_org_deleted_v1}Payload(
        org=org.id, name=org.name, by=ctx.actor.user_id))
    session.flush()
    org_table = models.${m_Org}.__table__
    for table in reversed(Base.metadata.sorted_tables):
        column = table.columns.get("org_id")
        if column is not None and not column.nullable and any(
                key.column.table is org_table for key in column.foreign_keys):
            session.execute(sa.delete(table).where(column == org.id))
    session.execute(sa.delete(models.${m_Org}).where(models.${m_Org}.id == org.id))
    ctx.commit()


# ---- members and invitations ----------------------------------------------------------------


def ${f_listMembers_v1}(ctx: Context, data: ${in_listMembers_v1}) -> ${out_listMembers_v1}:
    query = ctx.select(models.${m_OrgMembership})
    return _page(ctx.session, query, models.${m_OrgMembership}.id, data.page, data.size,
                 schemas.${r_OrgMembership}.from_row, ${out_listMembers_v1})


def ${f_listMyMemberships_v1}(ctx: Context,
                              data: ${in_listMyMemberships_v1}) -> ${out_listMyMemberships_v1}:
    """The caller's memberships in every organisation (not only the token's)."""
    query = sa.select(models.${m_OrgMembership}).where(
        models.${m_OrgMembership}.user_id == ctx.actor.user_id)
    return _page(ctx.session, query, models.${m_OrgMembership}.id, data.page, data.size,
                 schemas.${r_OrgMembership}.from_row, ${out_listMyMemberships_v1})


def ${f_listMyInvitations_v1}(ctx: Context,
                              data: ${in_listMyInvitations_v1}) -> ${out_listMyInvitations_v1}:
    """The pending, unexpired invitations sent to the caller's email, from any organisation."""
    email = str(ctx.actor.user_fields.get("email", ""))
    query = sa.select(models.${m_Invitation}).where(
        _same_email(models.${m_Invitation}.email, email),
        models.${m_Invitation}.status == PENDING, models.${m_Invitation}.expires_at > _now())
    return _page(ctx.session, query, models.${m_Invitation}.created_at, data.page, data.size,
                 schemas.${r_Invitation}.from_row, ${out_listMyInvitations_v1})


def _page(session: Session, query: sa.Select[Any], order: Any, page: int, size: int,
          read: Callable[[Any], R], model: Callable[..., P]) -> P:
    """One page of the query's rows as the output's page model."""
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(order).limit(size).offset((page - 1) * size)).all()
    return model(items=[read(r) for r in rows], total=total or 0, page=page, size=size)


def _check_owner_role(actor: Actor, role: enums.${enum_OrgRole}, error: type[errors.ApiError]
                      ) -> None:
    if role == OWNER and actor.role != OWNER.value:
        raise error()


def ${f_inviteMember_v1}(ctx: Context, data: ${in_inviteMember_v1}) -> ${out_inviteMember_v1}:
    """Add the person (a user is created for a new email) as a member at once."""
    _check_owner_role(ctx.actor, data.role, errors.Forbidden)
    user = _user_by_email(ctx.session, data.email)
    if user is None:
        user = models.${m_User}(email=data.email, name=data.email.split("@")[0])
        ctx.session.add(user)
        ctx.session.flush()
    elif _membership(ctx.session, ctx.actor.org_id, user.id) is not None:
        raise errors.Conflict("This person is already a member")
    membership = models.${m_OrgMembership}(org_id=ctx.actor.org_id, user_id=user.id,
                                           role=data.role)
    ctx.session.add(membership)
    ctx.session.flush()
    ctx.emit(events.${ev_member_invited_v1}, events.${ev_member_invited_v1}Payload(
        membership=membership.id, email=data.email))
    result = schemas.${r_OrgMembership}.from_row(membership)
    ctx.commit()
    return result


def ${f_inviteMember_v2}(ctx: Context, data: ${in_inviteMember_v2}) -> ${out_inviteMember_v2}:
    """A pending invitation; its token is in the answer only (only its hash is stored)."""
    session, actor = ctx.session, ctx.actor
    _check_owner_role(actor, data.role, errors.${e_inviteMember_v2_OwnerOnly})
    user = _user_by_email(session, data.email)
    if user is not None and _membership(session, actor.org_id, user.id) is not None:
        raise errors.${e_inviteMember_v2_AlreadyMember}()
    now = _now()
    pending = session.scalar(sa.select(models.${m_Invitation}.id).where(
        models.${m_Invitation}.org_id == actor.org_id,
        _same_email(models.${m_Invitation}.email, data.email),
        models.${m_Invitation}.status == PENDING, models.${m_Invitation}.expires_at > now))
    if pending is not None:
        raise errors.${e_inviteMember_v2_AlreadyInvited}()
    valid = data.validFor if data.validFor and data.validFor.total_seconds() > 0 \\
        else INVITATION_VALID
    token = INVITATION_PREFIX + secrets.token_urlsafe(32)
    invitation = models.${m_Invitation}(
        org_id=actor.org_id, email=data.email, role=data.role, status=PENDING,
        invited_by_id=actor.user_id, expires_at=now + valid, token_hash=_hash(token))
    session.add(invitation)
    session.flush()
    ctx.emit(events.${ev_member_invited_v2}, events.${ev_member_invited_v2}Payload(
        invitation=invitation.id, email=data.email, role=data.role, by=actor.user_id))
    result = ${out_inviteMember_v2}(invitation=invitation.id, email=data.email, role=data.role,
                                    expiresAt=now + valid, token=token)
    ctx.commit()
    return result


def ${f_revokeInvitation_v1}(ctx: Context,
                             data: ${in_revokeInvitation_v1}) -> ${out_revokeInvitation_v1}:
    invitation = ctx.session.scalar(ctx.select(models.${m_Invitation}).where(
        models.${m_Invitation}.id == data.invitation))
    if invitation is None:
        raise errors.${e_revokeInvitation_v1_NotFound}()
    if invitation.status != PENDING:
        raise errors.${e_revokeInvitation_v1_NotPending}()
    invitation.status = enums.${enum_InvitationStatus}.revoked
    ctx.emit(events.${ev_invitation_revoked_v1},
             events.${ev_invitation_revoked_v1}Payload(invitation=invitation.id))
    result = schemas.${r_Invitation}.from_row(invitation)
    ctx.commit()
    return result


def ${f_changeRole_v1}(ctx: Context, data: ${in_changeRole_v1}) -> ${out_changeRole_v1}:
    """Only owners grant or take the owner role; the last owner keeps it."""
    membership = ctx.session.scalar(ctx.select(models.${m_OrgMembership}).where(
        models.${m_OrgMembership}.id == data.membership))
    if membership is None:
        raise errors.${e_changeRole_v1_NotFound}()
    before = membership.role
    _check_owner_role(ctx.actor, before, errors.${e_changeRole_v1_OwnerOnly})
    _check_owner_role(ctx.actor, data.role, errors.${e_changeRole_v1_OwnerOnly})
    if before == OWNER and data.role != OWNER and _owners(ctx.session, membership.org_id) <= 1:
        raise errors.${e_changeRole_v1_LastOwner}()
    membership.role = data.role
    ctx.session.flush()
    ctx.emit(events.${ev_role_changed_v1}, events.${ev_role_changed_v1}Payload.model_validate({
        "membership": membership.id, "from": before, "to": data.role,
        "by": ctx.actor.user_id}))
    result = schemas.${r_OrgMembership}.from_row(membership)
    ctx.commit()
    return result


def ${f_removeMember_v1}(ctx: Context, data: ${in_removeMember_v1}) -> None:
    """Only owners remove an owner; the last owner is never removed."""
    membership = ctx.session.scalar(ctx.select(models.${m_OrgMembership}).where(
        models.${m_OrgMembership}.id == data.membership))
    if membership is None:
        raise errors.${e_removeMember_v1_NotFound}()
    _check_owner_role(ctx.actor, membership.role, errors.${e_removeMember_v1_OwnerOnly})
    if membership.role == OWNER and _owners(ctx.session, membership.org_id) <= 1:
        raise errors.${e_removeMember_v1_LastOwner}()
    _removed(ctx, membership)


def ${f_leaveOrg_v1}(ctx: Context, data: ${in_leaveOrg_v1}) -> None:
    membership = _membership(ctx.session, data.org, ctx.actor.user_id)
    if membership is None:
        raise errors.${e_leaveOrg_v1_NotAMember}()
    if membership.role == OWNER and _owners(ctx.session, membership.org_id) <= 1:
        raise errors.${e_leaveOrg_v1_LastOwner}()
    _removed(ctx, membership)


def _removed(ctx: Context, membership: models.${m_OrgMembership}) -> None:
    """Emit `member.removed`, then delete the membership (its tokens stop working)."""
    _org_event(ctx, events.${ev_member_removed_v1}, membership.org_id,
               events.${ev_member_removed_v1}Payload(membership=membership.id,
                                                     user=membership.user_id,
                                                     by=ctx.actor.user_id))
    ctx.session.delete(membership)
    ctx.commit()


# ---- billing details ------------------------------------------------------------------------


def _billing(ctx: Context) -> models.${m_BillingProfile} | None:
    profile: models.${m_BillingProfile} | None = ctx.session.scalar(
        ctx.select(models.${m_BillingProfile}))
    return profile


def ${f_getBillingProfile_v1}(ctx: Context,
                              data: ${in_getBillingProfile_v1}) -> ${out_getBillingProfile_v1}:
    profile = _billing(ctx)
    if profile is None:
        raise errors.${e_getBillingProfile_v1_NotFound}()
    return schemas.${r_BillingProfile}.from_row(profile)


def ${f_updateBillingProfile_v1}(
        ctx: Context, data: ${in_updateBillingProfile_v1}) -> ${out_updateBillingProfile_v1}:
    """Create the organisation's billing details, or replace them."""
    profile = _billing(ctx)
    if profile is None:
        profile = models.${m_BillingProfile}(org_id=ctx.actor.org_id)
        ctx.session.add(profile)
    profile.legal_name = data.legalName
    profile.billing_email = data.billingEmail
    profile.tax_id = data.taxId
    profile.country = data.country
    profile.updated_at = _now()
    ctx.commit()
    return schemas.${r_BillingProfile}.from_row(profile)
'''
