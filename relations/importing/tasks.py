"""Worker tasks for imports: thin wrappers that take ids (services do the work).

Acknowledged late, so a killed worker's import is redelivered; `import_run`
then removes what the interrupted run wrote and starts again. A task lost
altogether is queued again by the periodic `import_sweep_stale`.
"""

from celery import shared_task

from relations.importing import services


@shared_task(acks_late=True)
def import_run(job_id: int, attempt: int | None = None) -> str:
    return services.import_run(job_id, attempt)


@shared_task(acks_late=True)
def import_sweep_stale() -> dict[str, int]:
    return services.import_sweep_stale()


@shared_task(acks_late=True)
def import_undo(job_id: int, by_id: int | None = None) -> str:
    return services.import_undo(job_id, by_id)


@shared_task(acks_late=True)
def import_files_expire() -> dict[str, int]:
    return services.import_files_expire()
