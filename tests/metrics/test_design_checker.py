"""The scores the API serves equal an independent re-implementation of DESIGN §3.

Randomised histories (a few fixed seeds) are written through the product's own
paths: `interaction_log` and the REST API for interactions, commitments and
outcomes, each change in its own transaction so that the after-commit hooks
recompute incrementally (in process, as without a broker). Every score of every
stakeholder and relationship is then read through the API as a director and
compared, field by field and nulls included, with tests/metrics/design_checker.py:
after the history is built, after edits and deletes (incremental path), after
`manage.py recompute_scores` (full path, now) and after `recompute_scores --at T`
with T a few days back (items between T and now must not count), with items placed
on the boundaries of T (the RoR window's ends, due dates on T's own date).
"""

from __future__ import annotations

import io
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from metrics.models import RelationshipScoreSnapshot, StakeholderScoreSnapshot
from relations.models import (
    Commitment,
    GoalStakeholder,
    Interaction,
    Outcome,
    Relationship,
    Stakeholder,
)
from relations.services import (
    commitment_set_status,
    interaction_delete,
    interaction_log,
    interaction_update,
    relationships_ensure,
)
from tests.clients import token_client
from tests.factories import (
    CommitmentFactory,
    GoalFactory,
    OrganizationFactory,
    OutcomeFactory,
    StakeholderFactory,
    UserFactory,
)
from tests.metrics import design_checker as checker

pytestmark = pytest.mark.django_db

TOLERANCE = 1e-3
NUMBERS = [
    "given",
    "received",
    "reciprocity_balance",
    "reciprocity",
    "strength",
    "sentiment",
    "reliability",
    "trust",
    "investment",
    "return",
    "ror",
]
# The checker's names of the at-risk reasons, and the codes the API gives them.
RISK_CODES = {
    checker.LOW_TRUST: "low_trust",
    checker.TRUST_FELL: "trust_falling",
    checker.KEY_OVERDUE: "key_overdue",
    checker.LOW_RECIPROCITY: "low_reciprocity",
}
KINDS = list(checker.KIND_WEIGHTS)
STATUSES = ["open", "kept", "broken", "cancelled"]
# The seed, and the clock time of the full recomputation's T: midnight UTC (dates weigh
# exact powers of 2 and the window's ends are sharp), 23:30 UTC (already the next day in
# Europe/Amsterdam, the installation's time zone) and noon.
CASES = [(11, time(0, 0)), (23, time(23, 30)), (47, time(12, 0))]


class World:
    """A randomised history, written through the product's services and API."""

    def __init__(self, rng: random.Random, director, api: APIClient, commit, t_full: datetime):
        self.rng, self.api, self.commit, self.t_full = rng, api, commit, t_full
        self.now = timezone.now()
        self.director = director
        self.users = [director] + [UserFactory(username=f"m{n}") for n in range(4)]
        organization = OrganizationFactory()
        self.stakeholders = [
            StakeholderFactory(
                organization=organization,
                importance=rng.randint(1, 5),
                # None: the default by importance; 5 and 20 make key stakeholders overdue.
                cadence_days=rng.choice([None, None, 5, 20]),
                owner=rng.choice(self.users),
            )
            for _ in range(7)
        ]
        # One who only takes, and sours: low trust and low reciprocity at stakeholder level.
        self.taker = StakeholderFactory(organization=organization, importance=2)
        # Key by goal: linked to an active goal (counts) and to an achieved one (does not).
        active, achieved = GoalFactory(status="active"), GoalFactory(status="achieved")
        for goal, stakeholder in zip(
            (active, achieved, active), rng.sample(self.stakeholders, 3), strict=True
        ):
            GoalStakeholder.objects.create(goal=goal, stakeholder=stakeholder)
        # Pairs that share no interaction (yet): commitments and outcomes only.
        with self.commit():
            relationships_ensure(rng.sample(self.users, 2), rng.sample(self.stakeholders, 2))
        self.trust_snapshots()

    def some(self, population: list, most: int) -> list:
        return self.rng.sample(population, self.rng.randint(1, most))

    def trust_snapshots(self) -> None:
        """Snapshots 90 days before each T, for the "trust fell by ≥ 0.15" rule: of most
        stakeholders, and of the relationships that exist before any score is computed."""
        relationships = list(Relationship.objects.all())
        for day in {self.now.date() - timedelta(days=90), self.t_full.date() - timedelta(days=90)}:
            for stakeholder in [*self.stakeholders, self.taker]:
                if self.rng.random() < 0.8:
                    StakeholderScoreSnapshot.objects.create(
                        stakeholder=stakeholder, date=day, trust=self.trust_then()
                    )
            for relationship in relationships:
                RelationshipScoreSnapshot.objects.create(
                    relationship=relationship, date=day, trust=self.trust_then()
                )

    def trust_then(self) -> float | None:
        return self.rng.choice([None, 0.3, 0.6, 0.75, 0.9, 1.0])

    # --- writes -----------------------------------------------------------------------

    def interaction(self, occurred_at: datetime, *, via_api: bool, taker: bool = False) -> None:
        rng = self.rng
        fields = {
            "occurred_at": occurred_at,
            "kind": rng.choice(KINDS),
            "value_given": rng.randint(0, 5),
            "value_received": rng.randint(0, 5),
            "sentiment": rng.choice([None, None, -2, -1, 0, 0, 1, 2]),
            "duration_minutes": rng.choice([0, 15, 30, 45, 60, 90, 240]),
            "cost": Decimal(rng.choice(["0", "0", "12.50", "99.99", "250"])),
        }
        users = self.some(self.users, 3)
        stakeholders = self.some(self.stakeholders, 3)
        if taker:
            fields.update(value_given=rng.randint(3, 5), value_received=0, sentiment=-2)
            stakeholders = [self.taker]
        if via_api:
            body = {
                **fields,
                "occurred_at": occurred_at.isoformat(),
                "cost": str(fields["cost"]),
                "subject": "Via the API",
                "internal_participants": [u.pk for u in users],
                "stakeholders": [s.pk for s in stakeholders],
            }
            response = self.api.post("/api/v1/interactions/", body, format="json")
            assert response.status_code == 201, response.content
        else:
            interaction_log(
                by=self.director,
                participants=users,
                stakeholders=stakeholders,
                subject="Logged",
                **fields,
            )

    def commitment(
        self, due_date: date, status: str, *, via_api: bool = False, taker: bool = False
    ) -> None:
        stakeholder = self.taker if taker else self.rng.choice(self.stakeholders)
        responsible = self.rng.choice(self.users)
        direction = self.rng.choice(["us", "them"])
        if via_api:
            body = {
                "stakeholder": stakeholder.pk,
                "responsible": responsible.pk,
                "direction": direction,
                "description": "Promise",
                "due_date": due_date.isoformat(),
                "status": status,
            }
            response = self.api.post("/api/v1/commitments/", body, format="json")
            assert response.status_code == 201, response.content
        else:
            CommitmentFactory(
                stakeholder=stakeholder,
                responsible=responsible,
                direction=direction,
                due_date=due_date,
                status=status,
            )

    def outcome(self, occurred_on: date, *, via_api: bool) -> None:
        stakeholder = self.rng.choice(self.stakeholders)
        credited_to = self.rng.choice([None, *self.users])
        value = Decimal(self.rng.choice(["0", "150", "1000", "2500.50", "40000"]))
        if via_api:
            body = {
                "stakeholder": stakeholder.pk,
                "credited_to": credited_to and credited_to.pk,
                "kind": "deal",
                "value": str(value),
                "occurred_on": occurred_on.isoformat(),
            }
            response = self.api.post("/api/v1/outcomes/", body, format="json")
            assert response.status_code == 201, response.content
        else:
            OutcomeFactory(
                stakeholder=stakeholder,
                credited_to=credited_to,
                value=value,
                occurred_on=occurred_on,
            )

    def build(self) -> None:
        rng, now, t_full = self.rng, self.now, self.t_full
        t_date, today = t_full.date(), now.date()
        window = timedelta(days=checker.ROR_WINDOW_DAYS)
        moments = [now - timedelta(days=rng.uniform(-15, 730)) for _ in range(40)]
        # The ends of T: on T (counts), a second after (does not), exactly T − window (out of
        # the RoR window), a second later (in it); and a few after now (never count here).
        moments += [t_full, t_full + timedelta(seconds=1), t_full - window]
        moments += [t_full - window + timedelta(seconds=1), now + timedelta(hours=2)]
        moments += [now - window + timedelta(minutes=5), now - window - timedelta(minutes=5)]
        writes = [
            partial(self.interaction, moment, via_api=n % 3 == 0)
            for n, moment in enumerate(moments)
        ]
        for days in (3, 40, 90):
            writes.append(
                partial(self.interaction, now - timedelta(days=days), via_api=False, taker=True)
            )
            writes.append(
                partial(self.commitment, today - timedelta(days=days), "broken", taker=True)
            )

        due_dates = [t_date + timedelta(days=rng.randint(-500, 40)) for _ in range(30)]
        for n, due in enumerate(due_dates):
            writes.append(partial(self.commitment, due, rng.choice(STATUSES), via_api=n % 3 == 0))
        # Open promises due the day before T's date (overdue), on it and after it (not yet).
        for n, due in enumerate([t_date - timedelta(days=1), t_date, t_date + timedelta(days=1)]):
            writes.append(partial(self.commitment, due, "open", via_api=n % 2 == 0))
            closed = rng.choice(["kept", "broken"])
            writes.append(partial(self.commitment, due, closed, via_api=n % 2 == 1))
        for due in (today - timedelta(days=1), today, today + timedelta(days=1)):
            writes.append(partial(self.commitment, due, "open"))

        on = [t_date - timedelta(days=rng.randint(-20, 500)) for _ in range(20)]
        # The RoR window: 00:00 UTC of T's date − 365 is not after T − 365 days when T is
        # midnight; the next day is. T's date counts; the next day not yet.
        on += [t_date - timedelta(days=365), t_date - timedelta(days=364), t_date]
        on += [t_date + timedelta(days=1), today - timedelta(days=365), today + timedelta(days=1)]
        writes += [partial(self.outcome, day, via_api=n % 2 == 0) for n, day in enumerate(on)]

        # In transactions of one to four changes, in random order: each commit recomputes
        # what it touched (the incremental path).
        rng.shuffle(writes)
        while writes:
            with self.commit():
                for _ in range(rng.randint(1, 4)):
                    if writes:
                        writes.pop()()

    def edit_and_delete(self) -> None:
        """Changes that move items between sets, out of T and out of the window."""
        rng = self.rng
        interactions = list(Interaction.objects.order_by("pk"))
        shared = [i for i in interactions if i.internal_participants.count() >= 2]
        first, second, third, fourth = rng.sample(interactions, 4)
        with self.commit():
            target = rng.choice(shared) if shared else first
            kept = list(target.internal_participants.all())[1:]
            interaction_update(
                target,
                by=self.director,
                participants=kept + [u for u in self.users if u not in kept][:1],
                stakeholders=self.some(self.stakeholders, 2),
                value_given=5,
                sentiment=0,
                kind="meeting",
                duration_minutes=120,
                cost=Decimal("75"),
            )
        with self.commit():
            body = {
                "occurred_at": (self.now - timedelta(days=3)).isoformat(),
                "sentiment": None,
                "stakeholders": [s.pk for s in self.some(self.stakeholders, 3)],
            }
            response = self.api.patch(f"/api/v1/interactions/{second.pk}/", body, format="json")
            assert response.status_code == 200, response.content
        with self.commit():
            interaction_delete(third, by=self.director)
        with self.commit():
            assert self.api.delete(f"/api/v1/interactions/{fourth.pk}/").status_code == 204

        commitments = list(Commitment.objects.order_by("pk"))
        opened, closed, moved, gone = rng.sample(commitments, 4)
        with self.commit():
            commitment_set_status(opened, by=self.director, status="kept")
        with self.commit():
            url = f"/api/v1/commitments/{closed.pk}/"
            response = self.api.patch(url, {"status": "open"}, format="json")
            assert response.status_code == 200, response.content
        with self.commit():
            due = (self.now - timedelta(days=30)).date().isoformat()
            response = self.api.patch(
                f"/api/v1/commitments/{moved.pk}/",
                {"due_date": due, "responsible": rng.choice(self.users).pk},
                format="json",
            )
            assert response.status_code == 200, response.content
        with self.commit():
            assert self.api.delete(f"/api/v1/commitments/{gone.pk}/").status_code == 204

        outcomes = list(Outcome.objects.order_by("pk"))
        uncredited, recredited, gone = rng.sample(outcomes, 3)
        with self.commit():
            response = self.api.patch(
                f"/api/v1/outcomes/{uncredited.pk}/", {"credited_to": None}, format="json"
            )
            assert response.status_code == 200, response.content
        with self.commit():
            response = self.api.patch(
                f"/api/v1/outcomes/{recredited.pk}/",
                {
                    "credited_to": rng.choice(self.users).pk,
                    "value": "777.77",
                    "occurred_on": (self.now.date() - timedelta(days=400)).isoformat(),
                },
                format="json",
            )
            assert response.status_code == 200, response.content
        with self.commit():
            assert self.api.delete(f"/api/v1/outcomes/{gone.pk}/").status_code == 204


# --- reading the database back, for the checker ---------------------------------------


def history_from_database() -> checker.History:
    interactions = [
        checker.InteractionRecord(
            occurred_at=i.occurred_at,
            kind=i.kind,
            value_given=i.value_given,
            value_received=i.value_received,
            sentiment=i.sentiment,
            duration_minutes=i.duration_minutes,
            cost=float(i.cost),
            users=frozenset(u.pk for u in i.internal_participants.all()),
            stakeholders=frozenset(s.pk for s in i.stakeholders.all()),
        )
        for i in Interaction.objects.prefetch_related("internal_participants", "stakeholders")
    ]
    commitments = [
        checker.CommitmentRecord(
            stakeholder=c.stakeholder_id,
            responsible=c.responsible_id,
            due_date=c.due_date,
            status=c.status,
        )
        for c in Commitment.objects.all()
    ]
    outcomes = [
        checker.OutcomeRecord(
            stakeholder=o.stakeholder_id,
            credited_to=o.credited_to_id,
            value=float(o.value),
            occurred_on=o.occurred_on,
        )
        for o in Outcome.objects.all()
    ]
    return checker.History(interactions, commitments, outcomes)


def is_key(stakeholder: Stakeholder) -> bool:
    """DESIGN §2: importance ≥ 4, or linked to an active strategic goal."""
    return (
        stakeholder.importance >= 4 or stakeholder.goal_links.filter(goal__status="active").exists()
    )


def trust_before(scored: Stakeholder | Relationship, at: datetime) -> float | None:
    """The trust of "the snapshot 90 days earlier": the one dated T's UTC date − 90.

    The product also accepts the latest snapshot with a trust within the week before that
    day (metrics.scored_objects.SNAPSHOT_SLACK_DAYS: a missed nightly run must not switch the
    rule off). The histories here give each T at most one snapshot in that week, so both
    readings agree."""
    day = at.astimezone(UTC).date() - timedelta(days=90)
    if isinstance(scored, Stakeholder):
        snapshots = StakeholderScoreSnapshot.objects.filter(stakeholder=scored)
    else:
        snapshots = RelationshipScoreSnapshot.objects.filter(relationship=scored)
    snapshot = snapshots.filter(date=day).first()
    return snapshot.trust if snapshot else None


# --- the comparison ---------------------------------------------------------------------


class Comparison:
    def __init__(self, api: APIClient):
        self.api = api
        self.compared = 0
        self.objects = 0
        self.differences: list[str] = []

    def differ(self, label: str, name: str, served, expected) -> None:
        self.differences.append(f"{label} {name}: API {served!r}, DESIGN {expected!r}")

    def fetch(self, url: str, label: str) -> tuple[dict | None, datetime, datetime]:
        before = timezone.now()
        response = self.api.get(url)
        after = timezone.now()
        if response.status_code != 200:
            self.differences.append(f"{label}: {response.status_code} {response.content!r}")
            return None, before, after
        return response.json(), before, after

    def check(self, label: str, body: dict, expected: dict, before, after) -> None:
        self.objects += 1
        for name in NUMBERS:
            self.compared += 1
            served, wanted = body[name], expected[name]
            if served is None or wanted is None:
                if served is not wanted:
                    self.differ(label, name, served, wanted)
            elif abs(served - wanted) > TOLERANCE:
                self.differ(label, name, served, wanted)
        self.compared += 1
        served = parse_datetime(body["last_contact"]) if body["last_contact"] else None
        if served != expected["last_contact"]:
            self.differ(label, "last_contact", served, expected["last_contact"])
        # The API gives these as of the request (they move with the clock), from the
        # stored last contact as of T.
        for name in ("days_since_contact", "overdue"):
            self.compared += 1
            wanted = {self.contact(expected, now)[name] for now in (before, after)}
            if body[name] not in wanted:
                self.differ(label, name, body[name], sorted(wanted, key=str))

    @staticmethod
    def contact(expected: dict, now: datetime) -> dict:
        last = expected["last_contact"]
        days = None if last is None else checker.days_since(last, now)
        return {
            "days_since_contact": days,
            "overdue": checker.is_overdue(days, expected["cadence_days"]),
        }

    def everything(self, stage: str, at: datetime | None = None) -> None:
        """Every stakeholder's and relationship's served scores against the checker, as of
        `at`, or as of each row's `computed_at` (the incremental path's T is the moment
        of its recomputation)."""
        history = history_from_database()
        for stakeholder in Stakeholder.objects.order_by("pk"):
            label = f"[{stage}] stakeholder {stakeholder.pk}"
            url = f"/api/v1/stakeholders/{stakeholder.pk}/scores/"
            body, before, after = self.fetch(url, label)
            if body is None:
                continue
            when = at or parse_datetime(body["computed_at"])
            expected = checker.stakeholder_scores(
                stakeholder.pk,
                history,
                at=when,
                cadence_days=stakeholder.cadence_days,
                is_key=is_key(stakeholder),
                trust_90_days_ago=trust_before(stakeholder, when),
            )
            expected["cadence_days"] = stakeholder.cadence_days
            self.check(label, body, expected, before, after)
            self.check_risk(label, body, expected)
        for relationship in Relationship.objects.select_related("stakeholder").order_by("pk"):
            label = (
                f"[{stage}] relationship {relationship.pk} "
                f"(user {relationship.user_id}, stakeholder {relationship.stakeholder_id})"
            )
            body, before, after = self.fetch(
                f"/api/v1/relationships/{relationship.pk}/scores/", label
            )
            if body is None:
                continue
            when = at or parse_datetime(body["computed_at"])
            cadence = relationship.stakeholder.cadence_days
            expected = checker.relationship_scores(
                relationship.user_id,
                relationship.stakeholder_id,
                history,
                at=when,
                cadence_days=cadence,
                is_key=is_key(relationship.stakeholder),
                trust_90_days_ago=trust_before(relationship, when),
            )
            expected["cadence_days"] = cadence
            self.check(label, body, expected, before, after)
            self.check_risk(label, body, expected)

    def check_risk(self, label: str, body: dict, expected: dict) -> None:
        self.compared += 2
        if body["at_risk"] is not expected["at_risk"]:
            self.differ(label, "at_risk", body["at_risk"], expected["at_risk"])
        served = sorted(reason["code"] for reason in body["risk_reasons"])
        wanted = sorted(RISK_CODES[reason] for reason in expected["risk_reasons"])
        if served != wanted:
            self.differ(label, "risk_reasons", served, wanted)

    def assert_agrees(self) -> None:
        shown = "\n".join(self.differences[:60])
        more = len(self.differences) - 60
        assert not self.differences, f"{len(self.differences)} differences:\n{shown}" + (
            f"\n… and {more} more" if more > 0 else ""
        )


@pytest.mark.parametrize(("seed", "clock"), CASES)
def test_served_scores_equal_the_design_checker(
    seed, clock, director, django_capture_on_commit_callbacks
):
    rng = random.Random(seed)
    today = timezone.now().astimezone(UTC).date()
    # T of the full recomputation "as of": some days back, at the case's clock time. More
    # than a week back, so that the snapshots 90 days before it and 90 days before now
    # are not within a week of each other (see `trust_before`).
    t_full = datetime.combine(today - timedelta(days=rng.randint(10, 20)), clock, tzinfo=UTC)
    api = token_client(director)

    def commit():
        return django_capture_on_commit_callbacks(execute=True)

    world = World(rng, director, api, commit, t_full)
    comparison = Comparison(api)

    world.build()
    comparison.everything("built, incremental")
    world.edit_and_delete()
    comparison.everything("edited, incremental")
    call_command("recompute_scores", stdout=io.StringIO())
    comparison.everything("full, now")
    call_command("recompute_scores", at=t_full.isoformat(), stdout=io.StringIO())
    comparison.everything(f"full, at {t_full.isoformat()}", at=t_full)

    print(f"seed {seed}: {comparison.objects} score sets, {comparison.compared} fields compared")
    comparison.assert_agrees()
