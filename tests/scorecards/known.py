"""A portfolio whose scorecard is known, for the default period (the last 90 days).

Maria (manager) made these promises (direction "us"), by due date:
- this period (today − 89 … today): kept 3, broken 1, overdue 2 (still open, due
  5 and 15 days ago), 1 open due today (not yet due: not counted), 1 cancelled and
  1 promise *they* made (neither counted) → kept share 3/6 = 0.5;
- the previous period (today − 179 … today − 90): kept 4 → share 1.0; change −0.5.

Maria owns four stakeholders:
- Alba (importance 5, cadence 30): met 10 days ago (and 100 days ago) → within;
- Bram (cadence 30): met 40 days ago → overdue;
- Cleo (cadence 60): never contacted;
- Dirk (cadence 60): met 59 days ago → within.
Adherence 2/4 = 0.5. As of the end of the previous period only the meeting 100 days
ago had happened: Alba within, the rest never → 1/4 = 0.25 (change +0.25).

Stored stakeholder scores: Alba trust 0.8, strength 0.6, return 1,000, investment
200; Bram trust 0.3, strength 0.2, at risk, investment 100; Dirk trust 0.4,
strength 0.4; Cleo none → mean trust 0.5, mean strength 0.4, 1 at risk,
RoR (1000 − 300) / 300 = 7/3.

Maria's relationships: Alba (active, given 2 / received 2), Bram (active, 1 / 4:
mostly taking), Erik (Otto's, dormant, 1 / 0), Fay (ended: left out) → 3
relationships, 2 active, balance (4 − 6) / 10 = −0.2, 1 taking.

Threads: Maria is the only thread of Alba and of Gina (key, Otto's); Bram has two.
Snapshots: Alba 0.7 then 0.8 trust, Bram 0.5 then 0.3 → mean trust 0.6 then 0.55.
"""

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from metrics.models import (
    RelationshipScore,
    StakeholderScore,
    StakeholderScoreSnapshot,
)
from networks.models import StakeholderThreads
from relations.models import Commitment, Relationship
from tests.factories import (
    CommitmentFactory,
    InteractionFactory,
    StakeholderFactory,
    TeamFactory,
    UserFactory,
)


def days_ago(n: int):
    return timezone.localdate() - timedelta(days=n)


def promise(user, stakeholder, due_days_ago: int, status: str = "open", **extra):
    return CommitmentFactory(
        responsible=user,
        stakeholder=stakeholder,
        due_date=days_ago(due_days_ago),
        status=status,
        direction=extra.pop("direction", Commitment.Direction.US),
        **extra,
    )


def met(user, stakeholder, n_days_ago: float):
    return InteractionFactory(
        participants=[user],
        with_stakeholders=[stakeholder],
        occurred_at=timezone.now() - timedelta(days=n_days_ago),
    )


def store_score(stakeholder, **figures):
    return StakeholderScore.objects.update_or_create(
        stakeholder=stakeholder, defaults={"computed_at": timezone.now(), **figures}
    )[0]


def relate(user, stakeholder, status="active", **figures):
    # update_or_create throughout: in a transactional (browser) test the worker runs
    # after each commit and may already have stored rows for these objects.
    relationship, _created = Relationship.objects.update_or_create(
        user=user, stakeholder=stakeholder, defaults={"status": status}
    )
    if figures:
        given, received = figures["given"], figures["received"]
        total = given + received
        RelationshipScore.objects.update_or_create(
            relationship=relationship,
            defaults={
                "computed_at": timezone.now(),
                "given": given,
                "received": received,
                "reciprocity_balance": (given - received) / total if total else None,
            },
        )
    return relationship


def thread(stakeholder, count, sole=None, key=True):
    return StakeholderThreads.objects.update_or_create(
        stakeholder=stakeholder,
        defaults={
            "is_key": key,
            "thread_count": count,
            "thread_user_ids": [sole.pk] if sole else [],
            "sole_thread_user": sole,
            "computed_at": datetime.now(UTC),
        },
    )[0]


def build_world(manager, other_manager, director) -> dict:
    alba = StakeholderFactory(name="Alba", owner=manager, importance=5, cadence_days=30)
    bram = StakeholderFactory(name="Bram", owner=manager, importance=4, cadence_days=30)
    cleo = StakeholderFactory(name="Cleo", owner=manager, importance=3, cadence_days=60)
    dirk = StakeholderFactory(name="Dirk", owner=manager, importance=3, cadence_days=60)
    erik = StakeholderFactory(name="Erik", owner=other_manager, importance=2)
    fay = StakeholderFactory(name="Fay", owner=other_manager, importance=2)
    gina = StakeholderFactory(name="Gina", owner=other_manager, importance=5)

    for n in (10, 20, 30):
        promise(manager, alba, n, "kept", description=f"Kept {n}")
    promise(manager, bram, 40, "broken", description="Broken 40")
    promise(manager, bram, 5, description="Overdue 5")
    promise(manager, cleo, 15, description="Overdue 15")
    promise(manager, alba, 0, description="Due today")
    promise(manager, alba, 12, "cancelled", description="Cancelled 12")
    promise(manager, alba, 25, "kept", direction="them", description="Theirs 25")
    for n in (100, 110, 120, 130):
        promise(manager, dirk, n, "kept", description=f"Kept before {n}")
    promise(other_manager, erik, 10, "broken", description="Otto's broken")

    met(manager, alba, 10)
    met(manager, alba, 100)
    met(manager, bram, 40)
    met(other_manager, dirk, 59)

    store_score(alba, trust=0.8, strength=0.6, return_value=1000.0, investment=200.0)
    store_score(bram, trust=0.3, strength=0.2, at_risk=True, investment=100.0, return_value=0.0)
    store_score(dirk, trust=0.4, strength=0.4, investment=0.0, return_value=0.0)
    store_score(erik, trust=0.9, strength=0.9, at_risk=True)

    relate(manager, alba, given=2.0, received=2.0)
    relate(manager, bram, given=1.0, received=4.0)
    relate(manager, erik, status="dormant", given=1.0, received=0.0)
    relate(manager, fay, status="ended", given=0.0, received=9.0)

    thread(alba, 1, manager)
    thread(gina, 1, manager)
    thread(bram, 2)
    thread(fay, 1, other_manager)

    for stakeholder, values in ((alba, (0.7, 0.8)), (bram, (0.5, 0.3))):
        for n, trust in zip((30, 1), values, strict=True):
            StakeholderScoreSnapshot.objects.update_or_create(
                stakeholder=stakeholder,
                date=days_ago(n),
                defaults={"trust": trust, "strength": 0.5},
            )
    return {
        "alba": alba,
        "bram": bram,
        "cleo": cleo,
        "dirk": dirk,
        "erik": erik,
        "fay": fay,
        "gina": gina,
        "team": _team(manager, other_manager),
    }


def _team(*members):
    team = TeamFactory(name="Energy")
    team.members.set(members)
    return team


def make_people(n: int, prefix: str):
    """n managers, each with one owned stakeholder, a promise and a relationship."""
    people = []
    for i in range(n):
        person = UserFactory(username=f"{prefix}{i}", role="manager")
        owned = StakeholderFactory(owner=person, importance=4)
        promise(person, owned, 3, "kept")
        promise(person, owned, 2)
        met(person, owned, 5)
        relate(person, owned, given=1.0, received=1.0)
        store_score(owned, trust=0.5, strength=0.5)
        thread(owned, 1, person)
        StakeholderScoreSnapshot.objects.create(stakeholder=owned, date=days_ago(1), trust=0.5)
        people.append(person)
    return people
