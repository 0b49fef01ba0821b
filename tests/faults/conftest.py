"""Fixtures of the fault tests (marker `faults`): one private deployment per module.

The stack is a PostgreSQL cluster and a Redis server of its own (free ports,
temporary folders), the app under gunicorn, a Celery worker and beat. The tests
kill, stop and restart those processes: never the machine's shared services.
They are skipped, with the reason, only where the services cannot be started
(no PostgreSQL server binaries or redis-server).

Each test records what it measured in `reliability_figures`; with
RAPPORT_RELIABILITY_REPORT=path the figures are written there as JSON at the end
(docs/reliability.json quotes a CI run).
"""

from __future__ import annotations

import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.faults.stack import Stack, StackUnavailable

MANAGERS = 10
STAKEHOLDERS = 40

_figures: dict = {}


@pytest.fixture(scope="session")
def reliability_figures() -> dict:
    return _figures


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("RAPPORT_RELIABILITY_REPORT")
    if not path or not _figures:
        return
    from hypothesis import settings as hypothesis_settings

    properties = [item for item in session.items if item.get_closest_marker("hypothesis")]
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}",
        "all_passed": exitstatus == 0,
        **dict(sorted(_figures.items())),
        "property_tests": {
            "profile": os.environ.get("HYPOTHESIS_PROFILE", "dev"),
            "properties": len(properties),
            "examples_budget_each": hypothesis_settings.default.max_examples,
            "fixed_seed": bool(hypothesis_settings.default.derandomize),
        },
    }
    Path(path).write_text(json.dumps(report, indent=2) + "\n")


@pytest.fixture(scope="module")
def stack():
    """Up for the fault test module only: the rest of a full run does not share the
    machine with an idle deployment."""
    started = time.monotonic()
    try:
        deployment = Stack()
    except StackUnavailable as exc:
        pytest.skip(f"private PostgreSQL/Redis for the fault tests cannot be started: {exc}")
    try:
        deployment.start()
        deployment.seeded = deployment.probe("seed", managers=MANAGERS, stakeholders=STAKEHOLDERS)
        # Stored scores for every stakeholder, so that no test depends on running
        # after one that recomputed everything (pytest-randomly shuffles them).
        deployment.probe("recompute_all")
        deployment.startup_seconds = round(time.monotonic() - started, 1)
        yield deployment
    except Exception:
        for service in (
            deployment.web,
            deployment.worker,
            deployment.graph_worker,
            deployment.beat,
        ):
            print(f"--- {service.name} log ---\n{service.log_tail()}")
        print(f"--- postgres log ---\n{deployment.postgres.log_tail()}")
        raise
    finally:
        deployment.close()
        _figures["fault_suite"] = {
            "seconds_with_setup": round(time.monotonic() - started, 1),
            "seconds_to_start_the_private_deployment": getattr(deployment, "startup_seconds", None),
        }


@pytest.fixture
def healthy(stack):
    """Each test starts (and leaves the next one) with every service up."""
    _heal(stack)
    yield stack
    _heal(stack)


def _heal(stack: Stack) -> None:
    if not stack.postgres.running():
        stack.postgres.start()
    if not stack.redis.ping():
        stack.redis.start()
    if not stack.worker.alive():
        stack.restart_worker()
    if not stack.graph_worker.alive():
        stack.graph_worker.start()
    if not stack.beat.alive():
        stack.beat.start()
    stack.wait_web()
