"""Hand-written job handlers: one function per `job` of the spec, named `<job>_job` in
snake case. The worker (`python -m console.jobs.worker`) calls it with a context and the
job's input, for example:

    from console.db import models
    from console.jobs.definitions import JobContext, SendReminderInput

    def send_reminder_job(ctx: JobContext, data: SendReminderInput) -> None:
        task = ctx.session.get_one(models.Task, data.task)
        ...                                 # the worker commits ctx.session afterwards

Raise to fail the attempt: it is retried after the job's backoff, then dead-lettered.
Until a job's handler is defined its runs fail with a message naming the function.
`cspec gen` created this file once and never overwrites or deletes it: it is yours.

Job types when this file was created:
- `checkThresholds`: `check_thresholds_job`
- `deliverNotification`: `deliver_notification_job`
- `purgeAuditEntries`: `purge_audit_entries_job`
- `purgeDeliveries`: `purge_deliveries_job`
- `purgeFinishedJobs`: `purge_finished_jobs_job`
- `runAuditExport`: `run_audit_export_job`
- `summarizeUsage`: `summarize_usage_job`
"""
