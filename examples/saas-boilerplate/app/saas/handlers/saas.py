"""Hand-written behaviour for the spec module `saas`.

`cspec gen` created this file once and never overwrites or deletes it: it is yours.
Generated routes call the handlers defined here for operations that need custom behaviour;
plain create/read/update/delete needs none.
"""

from __future__ import annotations

from saas.api import schemas
from saas.api.context import Context
from saas.db import models

REPORT_SIZE = 500


def project_report_v1(ctx: Context, data: schemas.ProjectReportV1Input) -> schemas.ProjectPage:
    """The projects created between `from` and `to` (both optional), oldest first."""
    query = ctx.select(models.Project)
    if data.from_ is not None:
        query = query.where(models.Project.created_at >= data.from_)
    if data.to is not None:
        query = query.where(models.Project.created_at < data.to)
    rows = ctx.session.scalars(
        query.order_by(models.Project.created_at, models.Project.id).limit(REPORT_SIZE)).all()
    items = [schemas.Project.from_row(row) for row in rows]
    return schemas.ProjectPage(items=items, total=len(items), page=1, size=REPORT_SIZE)
