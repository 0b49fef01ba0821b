"""Worker tasks for imports: thin wrappers that take ids (services do the work).

Acknowledged late, so a killed worker's import is redelivered; `import_run`
then removes what the interrupted run wrote and starts again.
"""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def import_run(job_id: int) -> str:
    return services.import_run(job_id)


@shared_task(acks_late=True)
def import_undo(job_id: int, by_id: int | None = None) -> str:
    return services.import_undo(job_id, by_id)
