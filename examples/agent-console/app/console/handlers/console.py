"""Hand-written behaviour for the spec module `console`.

`cspec gen` created this file once and never overwrites or deletes it: it is yours.
Generated routes call the handlers defined here for operations that need custom behaviour;
plain create/read/update/delete needs none. A handler is named `<operation>_<version>` in
snake case and takes the request's context and the input model, for example:

    def archive_project_v1(ctx: Context, data: schemas.ArchiveProjectV1Input) -> schemas.Project:
        row = ctx.get(models.Project, data.id)      # 404 unless the actor may read it
        row.archived = True
        ctx.commit()                                # then the emitted events are dispatched
        return schemas.Project.from_row(row)

(`from <app>.api.context import Context`; `ctx.emit(events.X, events.XPayload(...))` writes
an event to the outbox in the same transaction.)
"""
