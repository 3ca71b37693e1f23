"""The `audit` provider: listing and searching the trail, exports, settings, and the jobs.

`<app>/services/audit.py` implements `listAuditEntries`, `searchAuditEntries` (newest
first, filters, `BadRange`), `exportAuditEntries` (an `AuditExport` row and
`audit.export_requested`, whose trigger queues `runAuditExport`), `getAuditSettings` and
`updateAuditSettings` (`RetentionTooShort`); `getAuditEntry` and `getAuditExport` are plain
CRUD. The jobs: `runAuditExport` writes the export file (CSV or JSON lines, the settings'
privacy applied to the `@pii` `ip`) under `AUDIT_EXPORT_DIR` and emits
`audit.export_ready`; `purgeAuditEntries` deletes the entries older than each
organisation's retention and expires exports older than `EXPORT_KEPT`.
"""

from __future__ import annotations

from typing import ClassVar

from contractspec.generators.services.base import ServiceInput, ServiceProvider
from contractspec.generators.services.common import fill, names

OPERATIONS = frozenset({
    ("listAuditEntries", "v1"), ("searchAuditEntries", "v1"), ("exportAuditEntries", "v1"),
    ("getAuditSettings", "v1"), ("updateAuditSettings", "v1"),
})


class AuditProvider(ServiceProvider):
    module: ClassVar[str] = "audit"
    operations: ClassVar[frozenset[tuple[str, str]]] = OPERATIONS

    def files(self, given: ServiceInput) -> dict[str, str]:
        return {"services/audit.py": fill(TEMPLATE, names(given, self.module, self.operations))}


TEMPLATE = '''${top}"""The standard `audit` module's operations and jobs (docs/std/audit.md): the
trail listed and searched newest first, exports written in the background by `runAuditExport`
(into `AUDIT_EXPORT_DIR`, default `./audit-exports`), the retention and privacy settings,
and `purgeAuditEntries` enforcing the retention."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse
from urllib.request import url2pathname

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ${app} import enums
from ${app}.api import errors, schemas
from ${app}.api.context import Context
from ${app}.db import models
from ${app}.events import models as events
from ${app}.events import outbox
from ${app}.jobs import definitions
from ${app}.jobs.definitions import JobContext

MIN_RETENTION = datetime.timedelta(days=30)
DEFAULT_RETENTION = datetime.timedelta(days=365)
MAX_EXPORT_RANGE = datetime.timedelta(days=366)
EXPORT_KEPT = datetime.timedelta(days=7)  # a ready export then expires; its file is deleted
EXPORT_COLUMNS = ("id", "at", "actorKind", "actorId", "event", "targetType", "targetId",
                  "diff", "requestId", "ip", "personal")
R = TypeVar("R")
P = TypeVar("P")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _page(session: Session, query: sa.Select[Any], page: int, size: int,
          read: Callable[[Any], R], model: Callable[..., P]) -> P:
    """One page of the query's entries, newest first, as the output's page model."""
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    entry = models.${m_AuditEntry}
    rows = session.scalars(query.order_by(entry.at.desc(), entry.id)
                           .limit(size).offset((page - 1) * size)).all()
    return model(items=[read(r) for r in rows], total=total or 0, page=page, size=size)


def _where(query: sa.Select[Any], **equal: Any) -> sa.Select[Any]:
    entry = models.${m_AuditEntry}
    for column, value in equal.items():
        if value is not None:
            query = query.where(getattr(entry, column) == value)
    return query


def ${f_listAuditEntries_v1}(ctx: Context,
                             data: ${in_listAuditEntries_v1}) -> ${out_listAuditEntries_v1}:
    query = _where(ctx.select(models.${m_AuditEntry}), target_type=data.targetType,
                   target_id=data.targetId)
    return _page(ctx.session, query, data.page, data.size, schemas.${r_AuditEntry}.from_row,
                 ${out_listAuditEntries_v1})


def ${f_searchAuditEntries_v1}(
        ctx: Context, data: ${in_searchAuditEntries_v1}) -> ${out_searchAuditEntries_v1}:
    if data.from_ is not None and data.to is not None and data.from_ >= data.to:
        raise errors.${e_searchAuditEntries_v1_BadRange}()
    entry = models.${m_AuditEntry}
    query = _where(ctx.select(entry), actor_kind=data.actorKind, actor_id=data.actorId,
                   event=data.event, target_type=data.targetType, target_id=data.targetId)
    if data.from_ is not None:
        query = query.where(entry.at >= data.from_)
    if data.to is not None:
        query = query.where(entry.at < data.to)
    return _page(ctx.session, query, data.page, data.size, schemas.${r_AuditEntry}.from_row,
                 ${out_searchAuditEntries_v1})


def ${f_exportAuditEntries_v1}(
        ctx: Context, data: ${in_exportAuditEntries_v1}) -> ${out_exportAuditEntries_v1}:
    """Record the export; `audit.export_requested` queues `runAuditExport`, which writes it."""
    if data.from_ >= data.to:
        raise errors.${e_exportAuditEntries_v1_BadRange}()
    if data.to - data.from_ > MAX_EXPORT_RANGE:
        raise errors.${e_exportAuditEntries_v1_RangeTooLarge}()
    export = models.${m_AuditExport}(
        org_id=ctx.actor.org_id, requested_by_id=ctx.actor.user_id,
        format=data.format or enums.${enum_AuditExportFormat}.csv, from_=data.from_,
        to=data.to, event=data.event, status=enums.${enum_AuditExportStatus}.requested)
    ctx.session.add(export)
    ctx.session.flush()
    ctx.emit(events.${ev_audit_export_requested_v1},
             events.${ev_audit_export_requested_v1}Payload(export=export.id))
    result = schemas.${r_AuditExport}.from_row(export)
    ctx.commit()
    return result


def _settings(ctx: Context) -> models.${m_AuditSettings}:
    """The organisation's settings, created with the defaults when it has none."""
    settings: models.${m_AuditSettings} | None = ctx.session.scalar(
        ctx.select(models.${m_AuditSettings}))
    if settings is None:
        settings = models.${m_AuditSettings}(
            org_id=ctx.actor.org_id, retention=DEFAULT_RETENTION,
            privacy=enums.${enum_AuditPrivacy}.masked)
        ctx.session.add(settings)
        ctx.session.flush()
    return settings


def ${f_getAuditSettings_v1}(ctx: Context,
                             data: ${in_getAuditSettings_v1}) -> ${out_getAuditSettings_v1}:
    result = schemas.${r_AuditSettings}.from_row(_settings(ctx))
    ctx.commit()
    return result


def ${f_updateAuditSettings_v1}(
        ctx: Context, data: ${in_updateAuditSettings_v1}) -> ${out_updateAuditSettings_v1}:
    if data.retention < MIN_RETENTION:
        raise errors.${e_updateAuditSettings_v1_RetentionTooShort}()
    settings = _settings(ctx)
    settings.retention, settings.privacy = data.retention, data.privacy
    settings.updated_at = _now()
    ctx.session.flush()
    ctx.emit(events.${ev_audit_settings_changed_v1},
             events.${ev_audit_settings_changed_v1}Payload(settings=settings.id,
                                                          by=ctx.actor.user_id))
    result = schemas.${r_AuditSettings}.from_row(settings)
    ctx.commit()
    return result


# ---- jobs -------------------------------------------------------------------------------------


def export_folder() -> Path:
    """Where export files are written: `AUDIT_EXPORT_DIR`, default `./audit-exports`."""
    return Path(os.environ.get("AUDIT_EXPORT_DIR", "audit-exports")).resolve()


def _row(entry: models.${m_AuditEntry}, privacy: enums.${enum_AuditPrivacy}) -> dict[str, Any]:
    ip = entry.ip
    if ip is not None and privacy == enums.${enum_AuditPrivacy}.masked:
        ip = hashlib.sha256(ip.encode("utf-8")).hexdigest()[:16]
    row: dict[str, Any] = {
        "id": str(entry.id), "at": entry.at.isoformat(), "actorKind": str(entry.actor_kind),
        "actorId": entry.actor_id, "event": entry.event, "targetType": entry.target_type,
        "targetId": entry.target_id, "diff": entry.diff, "requestId": entry.request_id,
        "ip": ip, "personal": entry.personal}
    if privacy == enums.${enum_AuditPrivacy}.omitted:
        del row["ip"]
    return row


def _render(rows: list[dict[str, Any]], kind: enums.${enum_AuditExportFormat}) -> str:
    if kind == enums.${enum_AuditExportFormat}.jsonl:
        return "".join(json.dumps(row, sort_keys=True) + "\\n" for row in rows)
    out = io.StringIO()
    columns = [c for c in EXPORT_COLUMNS if not rows or c in rows[0]]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "diff": json.dumps(row["diff"], sort_keys=True)})
    return out.getvalue()


def ${job_runAuditExport}(ctx: JobContext, data: definitions.${jobin_runAuditExport}) -> None:
    """Write the export's entries to its file; the export is then `ready` with its location."""
    session = ctx.session
    export = session.get_one(models.${m_AuditExport}, data.export)
    if export.status not in (enums.${enum_AuditExportStatus}.requested,
                             enums.${enum_AuditExportStatus}.running):
        return
    export.status = enums.${enum_AuditExportStatus}.running
    entry = models.${m_AuditEntry}
    query = sa.select(entry).where(entry.org_id == export.org_id, entry.at >= export.from_,
                                   entry.at < export.to).order_by(entry.at, entry.id)
    if export.event is not None:
        query = query.where(entry.event == export.event)
    settings = session.scalar(sa.select(models.${m_AuditSettings}).where(
        models.${m_AuditSettings}.org_id == export.org_id))
    privacy = settings.privacy if settings is not None else enums.${enum_AuditPrivacy}.masked
    rows = [_row(e, privacy) for e in session.scalars(query)]
    folder = export_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"audit-{export.id}.{export.format}"
    path.write_text(_render(rows, export.format), encoding="utf-8")
    export.status = enums.${enum_AuditExportStatus}.ready
    export.location = path.as_uri()
    export.entries = len(rows)
    session.flush()
    outbox.emit(session, None, events.${ev_audit_export_ready_v1},
                events.${ev_audit_export_ready_v1}Payload(export=export.id,
                                                         location=path.as_uri()),
                org_id=export.org_id)


def ${job_purgeAuditEntries}(ctx: JobContext, data: definitions.${jobin_purgeAuditEntries}) -> None:
    """Delete entries older than each organisation's retention (365 days without
    settings); expire ready exports older than `EXPORT_KEPT` and delete their files."""
    session, now = ctx.session, _now()
    entry, settings = models.${m_AuditEntry}, models.${m_AuditSettings}
    kept: list[uuid.UUID] = []
    for org_id, retention in session.execute(sa.select(settings.org_id, settings.retention)):
        kept.append(org_id)
        session.execute(sa.delete(entry).where(entry.org_id == org_id,
                                               entry.at < now - retention))
    session.execute(sa.delete(entry).where(entry.org_id.not_in(kept),
                                           entry.at < now - DEFAULT_RETENTION))
    export = models.${m_AuditExport}
    old = session.scalars(sa.select(export).where(
        export.status == enums.${enum_AuditExportStatus}.ready,
        export.created_at < now - EXPORT_KEPT)).all()
    for row in old:
        if row.location is not None and row.location.startswith("file://"):
            Path(url2pathname(urlparse(row.location).path)).unlink(missing_ok=True)
        row.status = enums.${enum_AuditExportStatus}.expired
'''
