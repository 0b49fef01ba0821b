import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("rapport")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# A worker keeps its database connections from task to task, as a web process keeps
# them from request to request: CONN_MAX_AGE, and health checks before a connection
# is used again. Celery's own Django fix-up closes them after every task (unless
# CELERY_DB_REUSE_MAX, set in the settings), so that each task paid for a new
# PostgreSQL session: the fork, the authentication and the catalogue warm-up cost
# more than the scores of a logged interaction (602 sessions for 600 tasks; issue #22).
# Celery closes after every task because a task interrupted in the middle of a query
# (its time limit) may leave a connection Django believes usable: a task that did not
# succeed therefore closes its connections here.
@task_prerun.connect
def _database_connections_checked(task=None, **kwargs) -> None:  # noqa: ANN001 (Celery's)
    if not getattr(task.request, "is_eager", False):  # in process: the caller's connection
        from django.db import close_old_connections

        close_old_connections()


@task_postrun.connect
def _database_connections_kept_if_sound(task=None, state=None, **kwargs) -> None:  # noqa: ANN001
    if getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections, connections

    if state == "SUCCESS":
        close_old_connections()
        return
    for connection in connections.all(initialized_only=True):
        connection.close()
