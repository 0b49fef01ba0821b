"""A designed network whose answers are known, built through the real services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from metrics.recompute import scores_recompute_all
from networks import services
from relations.models import StakeholderLink
from relations.services import interaction_log
from tests.factories import StakeholderFactory


def log(user, stakeholder, *, kind="meeting", ago=timedelta(days=1)):
    interaction_log(
        by=user,
        participants=[user],
        stakeholders=[stakeholder],
        subject=f"{kind} with {stakeholder}",
        kind=kind,
        occurred_at=timezone.now() - ago,
        value_given=2,
        value_received=2,
        duration_minutes=60,
    )


def meetings(user, stakeholder, count):
    for i in range(count):
        log(user, stakeholder, ago=timedelta(days=1 + i))


@pytest.fixture
def designed(manager, other_manager, director):
    """Maria alone knows Alba (key); Maria and Otto both know Bram (key); nobody knows
    Cleo (key); Otto alone knows Daan (not key), who is a colleague of Alba."""
    alba = StakeholderFactory(name="Alba", importance=5, owner=manager)
    bram = StakeholderFactory(name="Bram", importance=4, owner=manager)
    cleo = StakeholderFactory(name="Cleo", importance=5, owner=other_manager)
    daan = StakeholderFactory(name="Daan", importance=2, owner=other_manager)
    meetings(manager, alba, 3)  # E ≈ 3 → strength ≈ 0.63
    meetings(manager, bram, 2)
    meetings(other_manager, bram, 2)
    # One e-mail: E = 0.3 → strength 1 − e^−0.1 ≈ 0.095, a weak but present edge.
    log(other_manager, daan, kind="email", ago=timedelta(hours=1))
    StakeholderLink.objects.create(from_stakeholder=alba, to_stakeholder=daan, strength=0.9)
    scores_recompute_all()
    run = services.network_recompute()
    return {"alba": alba, "bram": bram, "cleo": cleo, "daan": daan, "run": run}


@pytest.fixture
def api(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user
