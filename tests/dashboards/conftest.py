"""A small network whose dashboard figures are known, built through the real services.

Maria owns Alba, Bram, Eve and Finn; Otto owns Cleo. Acme employs Alba and Bram.

- Alba (key: importance 5, influence 5, interest 5): three meetings with Maria,
  1–3 days ago, value 2 given / 2 received → trust = reciprocity = 1; one thread
  (Maria), strength 1 − e^(−E/3) ≈ 0.63 → covered, single-threaded.
- Bram (key: importance 4, influence 5, interest 2): two meetings each with Maria
  and Otto, value 5 given / 0 received → reciprocity = trust = 0, at risk; two
  threads (each relationship E ≈ 2 → 0.49 ≥ 0.3); stakeholder strength ≈ 0.74 → covered.
- Cleo (key: importance 5, influence 2, interest 5): nobody knows her → unthreaded.
- Eve (not key, importance 3, cadence 60): one meeting with Maria 100 days ago →
  overdue by 40 days (losing touch).
- Finn (not key, importance 2): never contacted.

Key stakeholders 3: coverage 2/3, single-threaded 1/3, unthreaded 1/3, mean
trust 0.5, mean reciprocity 0.5 → health index 100 × (2/3 + 1/3 + 0.5 + 0.5) / 4 = 50.
Investment: 8 meetings of an hour, one colleague each, at 100/hour = 800; return:
one 5,000 deal with Alba → RoR = (5000 − 800) / 800 = 5.25. At risk: 1 (Bram).
The goal "Energy transition" (owner: the director) links Alba and Bram.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from metrics.recompute import scores_recompute_all
from networks import services as network_services
from relations.models import GoalStakeholder
from relations.services import interaction_log
from tests.factories import GoalFactory, OrganizationFactory, OutcomeFactory, StakeholderFactory


@pytest.fixture(autouse=True)
def _tasks_in_process():
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def _fresh_graph_cache():
    # The restored graph is cached per run id; a flushed database reuses ids.
    network_services._graph_cache.clear()
    yield
    network_services._graph_cache.clear()


def meet(user, stakeholder, days_ago: float, given: int = 2, received: int = 2) -> None:
    interaction_log(
        by=user,
        participants=[user],
        stakeholders=[stakeholder],
        subject=f"Meeting with {stakeholder.name}",
        kind="meeting",
        occurred_at=timezone.now() - timedelta(days=days_ago),
        value_given=given,
        value_received=received,
        duration_minutes=60,
    )


def build_known(manager, other_manager, director) -> dict:
    acme = OrganizationFactory(name="Acme")
    alba = StakeholderFactory(
        name="Alba", organization=acme, owner=manager, importance=5, influence=5, interest=5
    )
    bram = StakeholderFactory(
        name="Bram", organization=acme, owner=manager, importance=4, influence=5, interest=2
    )
    cleo = StakeholderFactory(
        name="Cleo", owner=other_manager, importance=5, influence=2, interest=5
    )
    eve = StakeholderFactory(name="Eve", owner=manager, importance=3, influence=2, interest=2)
    finn = StakeholderFactory(name="Finn", owner=manager, importance=2, influence=1, interest=1)
    for days in (1, 2, 3):
        meet(manager, alba, days)
    for user in (manager, other_manager):
        for days in (1, 2):
            meet(user, bram, days, given=5, received=0)
    meet(manager, eve, 100)
    goal = GoalFactory(title="Energy transition", owner=director)
    GoalStakeholder.objects.create(goal=goal, stakeholder=alba, role="Champion")
    GoalStakeholder.objects.create(goal=goal, stakeholder=bram, role="Funder")
    OutcomeFactory(
        stakeholder=alba,
        credited_to=manager,
        goal=goal,
        value=5000,
        occurred_on=timezone.localdate() - timedelta(days=5),
    )
    scores_recompute_all()
    network_services.network_recompute()
    return {
        "acme": acme,
        "alba": alba,
        "bram": bram,
        "cleo": cleo,
        "eve": eve,
        "finn": finn,
        "goal": goal,
    }


@pytest.fixture
def known(manager, other_manager, director):
    return build_known(manager, other_manager, director)
