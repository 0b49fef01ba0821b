"""Professional scorecards: each staff member's follow-through and portfolio.

The maths are pure functions over plain numbers (`CommitmentFigures`, `CadenceFigures`,
…, `coaching_signals`); `scorecards_for` gathers the numbers for any set of people
with a fixed number of grouped queries (no per-person loop), so a team of 3 and a
team of 300 cost the same number of round trips.

What each figure counts:
- commitments: the promises a person made (direction "us", they are responsible)
  whose due date falls in the period; kept, broken, and overdue (still open past
  their due date today, counted as broken as reliability does, DESIGN §3); open
  ones not yet due and cancelled ones are not counted;
- cadence adherence: of the stakeholders they own, the share whose last contact by
  anyone, as of the end of the period, is within their cadence; never-contacted
  ones count as outside it;
- reciprocity, portfolio health and RoR: the scores of their relationships
  (reciprocity) and of the stakeholders they own (trust, strength, at risk, return
  and investment over ROR_WINDOW_DAYS) as of the end of the period: the stored,
  current scores for a period ending today or later, else each one's latest daily
  snapshot dated on or before the period's last day (none before: no figure);
- breadth: their active relationships (as of the end of the period: with given or
  received value in their scores then) and the key stakeholders for which they are
  the only thread. The latter exists only for now (the latest network computation):
  for a period that ended before today it is not shown (None), never today's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Max, OuterRef, Q, Subquery, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboards.figures import rollup_aggregates, rollup_ror
from metrics import scoring
from metrics.models import (
    RelationshipScoreSnapshot,
    StakeholderScore,
    StakeholderScoreSnapshot,
)
from networks.models import StakeholderThreads
from relations.models import Commitment, Interaction, Relationship, Stakeholder

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Period presets (days, ending today); a custom period spans at most MAX_PERIOD_DAYS.
PERIOD_PRESETS = (30, 90, 365)
DEFAULT_PERIOD_DAYS = 90
MAX_PERIOD_DAYS = 3 * 366
# Custom dates outside these bounds are refused (and the previous period stays a date).
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2100, 12, 31)
# A follow-through signal names at most this many stakeholders (the rest: its link).
SLIPPED_ROWS = 5
# A relationship is "mostly taking" when we receive at least twice what we give:
# balance (G − R) / (G + R) ≤ −1/3.
TAKING_BALANCE = -1 / 3

# Coaching signals: the thresholds live here, overridable per installation with the
# setting SCORECARD_COACHING (a dict with some of these keys).
COACHING_DEFAULTS: dict[str, float] = {
    # The kept share fell by at least this much (0.15 = 15 points) against the
    # previous period of the same length ...
    "kept_share_drop": 0.15,
    # ... with at least this many commitments counted in each of the two periods.
    "kept_share_min_commitments": 3,
    # Promises of the period still open past their due date.
    "overdue_commitments": 3,
    # Owned stakeholders outside their contact cadence (or never contacted).
    "overdue_contacts": 5,
    # Key stakeholders for whom the person is the only thread.
    "single_threaded_key": 5,
}


def coaching_thresholds() -> dict[str, float]:
    return {**COACHING_DEFAULTS, **getattr(settings, "SCORECARD_COACHING", {})}


# --- The period ------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both included; `preset` is the number of days of a preset."""

    start: date
    end: date
    preset: int | None = None

    @classmethod
    def last(cls, days: int, today: date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(today - timedelta(days=days - 1), today, days)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def as_of(self, now: datetime) -> datetime:
        """The moment figures "as of the end of the period" are taken: now for a period
        ending today or later, else the end of its last day (UTC, DESIGN §6)."""
        end = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)
        return min(now, end)

    def scores_day(self, today: date) -> date | None:
        """The day whose snapshots give the scores of this period: None for a period
        ending today or later (the stored, current scores), else its last day."""
        return self.end if self.end < today else None

    def query(self) -> dict[str, str]:
        if self.preset:
            return {"period": str(self.preset)}
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


# --- The figures of one person (pure) -----------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class CommitmentFigures:
    kept: int = 0
    broken: int = 0
    overdue: int = 0
    pending: int = 0  # open, not yet due: not counted

    @property
    def counted(self) -> int:
        return self.kept + self.broken + self.overdue

    @property
    def missed(self) -> int:
        return self.broken + self.overdue

    @property
    def kept_share(self) -> float | None:
        return _share(self.kept, self.counted)

    @property
    def broken_share(self) -> float | None:
        return _share(self.broken, self.counted)

    @property
    def overdue_share(self) -> float | None:
        return _share(self.overdue, self.counted)

    def __add__(self, other: CommitmentFigures) -> CommitmentFigures:
        return CommitmentFigures(
            self.kept + other.kept,
            self.broken + other.broken,
            self.overdue + other.overdue,
            self.pending + other.pending,
        )


def contact_state(last_contact: datetime | None, cadence_days: int, as_of: datetime) -> str:
    """ "within", "overdue" (days since last contact > cadence, DESIGN §3) or "never"."""
    if last_contact is None:
        return "never"
    days = scoring.days_since(last_contact.timestamp(), as_of.timestamp())
    return "overdue" if scoring.is_overdue(days, cadence_days) else "within"


@dataclass(frozen=True)
class CadenceFigures:
    owned: int = 0
    within: int = 0
    overdue: int = 0
    never: int = 0

    @property
    def outside(self) -> int:
        return self.overdue + self.never

    @property
    def adherence(self) -> float | None:
        return _share(self.within, self.owned)

    def __add__(self, other: CadenceFigures) -> CadenceFigures:
        return CadenceFigures(
            self.owned + other.owned,
            self.within + other.within,
            self.overdue + other.overdue,
            self.never + other.never,
        )


@dataclass(frozen=True)
class ReciprocityFigures:
    relationships: int = 0  # not ended
    active: int = 0
    given: float = 0.0
    received: float = 0.0
    taking: int = 0  # relationships with balance ≤ TAKING_BALANCE

    @property
    def balance(self) -> float | None:
        """(G − R) / (G + R) over their relationships: negative means mostly taking."""
        total = self.given + self.received
        return (self.given - self.received) / total if total > 0 else None

    def __add__(self, other: ReciprocityFigures) -> ReciprocityFigures:
        return ReciprocityFigures(
            self.relationships + other.relationships,
            self.active + other.active,
            self.given + other.given,
            self.received + other.received,
            self.taking + other.taking,
        )


@dataclass(frozen=True)
class PortfolioFigures:
    """Sums and counts, so that a team's means are over its stakeholders, not its people."""

    trust_sum: float = 0.0
    trust_n: int = 0
    strength_sum: float = 0.0
    strength_n: int = 0
    at_risk: int = 0
    return_value: float = 0.0
    investment: float = 0.0

    @property
    def mean_trust(self) -> float | None:
        return self.trust_sum / self.trust_n if self.trust_n else None

    @property
    def mean_strength(self) -> float | None:
        return self.strength_sum / self.strength_n if self.strength_n else None

    @property
    def ror(self) -> float | None:
        return rollup_ror(self.return_value, self.investment)

    def __add__(self, other: PortfolioFigures) -> PortfolioFigures:
        return PortfolioFigures(
            self.trust_sum + other.trust_sum,
            self.trust_n + other.trust_n,
            self.strength_sum + other.strength_sum,
            self.strength_n + other.strength_n,
            self.at_risk + other.at_risk,
            self.return_value + other.return_value,
            self.investment + other.investment,
        )


@dataclass(frozen=True)
class TrendPoint:
    date: date
    mean_trust: float | None
    mean_strength: float | None
    at_risk: int


@dataclass(frozen=True)
class Signal:
    code: str
    reason: str
    url: str
    # The relationships behind a follow-through signal: the stakeholders whose promises
    # slipped, most first, so the team view answers "on which relationships?".
    stakeholders: tuple[SlippedPromises, ...] = ()


@dataclass(frozen=True)
class SlippedPromises:
    stakeholder_id: int
    name: str
    missed: int  # broken or overdue promises of the period

    @property
    def url(self) -> str:
        return reverse("stakeholder-detail", args=[self.stakeholder_id])


@dataclass
class Scorecard:
    """One person's (or, summed, one team's) figures over a period."""

    period: Period
    user: User | None = None
    commitments: CommitmentFigures = field(default_factory=CommitmentFigures)
    previous_commitments: CommitmentFigures = field(default_factory=CommitmentFigures)
    cadence: CadenceFigures = field(default_factory=CadenceFigures)
    previous_cadence: CadenceFigures = field(default_factory=CadenceFigures)
    reciprocity: ReciprocityFigures = field(default_factory=ReciprocityFigures)
    portfolio: PortfolioFigures = field(default_factory=PortfolioFigures)
    # None: not known as of the end of the period (the network exists for now only).
    single_threaded_key: int | None = 0
    # The day the scores are taken from snapshots, or None for the current scores.
    scores_as_of: date | None = None
    trend: list[TrendPoint] = field(default_factory=list)
    slipped: tuple[SlippedPromises, ...] = ()
    signals: list[Signal] = field(default_factory=list)

    @property
    def kept_share_change(self) -> float | None:
        now, before = self.commitments.kept_share, self.previous_commitments.kept_share
        return None if now is None or before is None else now - before

    @property
    def adherence_change(self) -> float | None:
        now, before = self.cadence.adherence, self.previous_cadence.adherence
        return None if now is None or before is None else now - before

    @property
    def trust_series(self) -> list[float]:
        return [p.mean_trust for p in self.trend if p.mean_trust is not None]

    @property
    def trust_change(self) -> float | None:
        series = self.trust_series
        return series[-1] - series[0] if len(series) >= 2 else None

    def links(self) -> dict[str, str]:
        return figure_links(self.user, self.period) if self.user is not None else {}


def team_total(cards: Sequence[Scorecard], period: Period) -> Scorecard:
    """A team's figures: the sums of its members' (each stakeholder has one owner)."""
    total = Scorecard(period=period)
    if cards:
        total.scores_as_of = cards[0].scores_as_of
        if all(card.single_threaded_key is None for card in cards):
            total.single_threaded_key = None
    for card in cards:
        total.commitments += card.commitments
        total.previous_commitments += card.previous_commitments
        total.cadence += card.cadence
        total.previous_cadence += card.previous_cadence
        total.reciprocity += card.reciprocity
        total.portfolio += card.portfolio
        if card.single_threaded_key is not None:
            total.single_threaded_key = (total.single_threaded_key or 0) + card.single_threaded_key
    return total


# --- Links to the items behind each figure ------------------------------------------------


def _url(name: str, query: dict[str, Any], args: Iterable[Any] = ()) -> str:
    return f"{reverse(name, args=list(args))}?{urlencode(query)}"


def figure_links(user: User, period: Period, today: date | None = None) -> dict[str, str]:
    """Each figure → the filtered list that shows exactly the items it counts."""
    today = today or timezone.localdate()
    due = {
        "responsible": user.pk,
        "direction": Commitment.Direction.US.value,
        "due_from": period.start,
        "due_to": period.end,
    }
    owned = {"owner": user.pk}
    owned_as_of = {**owned, "as_of": period.end.isoformat()} if period.end < today else owned
    return {
        "commitments": _url("commitment-list", {**due, "outcome": "counted"}),
        "kept": _url("commitment-list", {**due, "outcome": "kept"}),
        "broken": _url("commitment-list", {**due, "outcome": "broken"}),
        "overdue": _url("commitment-list", {**due, "outcome": "overdue"}),
        "missed": _url("commitment-list", {**due, "outcome": "missed"}),
        "owned": _url("stakeholder-list", owned),
        "within_cadence": _url("stakeholder-list", {**owned_as_of, "contact": "within"}),
        "outside_cadence": _url("stakeholder-list", {**owned_as_of, "contact": "outside"}),
        "at_risk": _url("stakeholder-list", {**owned, "at_risk": "yes"}),
        "relationships": _url("portfolio", {"user": user.pk}),
        "active": _url("portfolio", {"user": user.pk, "status": "active"}),
        "taking": _url("portfolio", {"user": user.pk, "balance": "taking"}),
        "single_threaded": _url("stakeholder-list", {"sole_thread": user.pk}),
        "scorecard": _url("person-scorecard", period.query(), args=[user.pk]),
    }


# --- Coaching signals (pure) -----------------------------------------------------------------


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def coaching_signals(card: Scorecard, thresholds: dict[str, float] | None = None) -> list[Signal]:
    """Supportive prompts for a director, each with its reason and the items behind it."""
    t = thresholds or coaching_thresholds()
    user = card.user
    if user is None:
        return []
    links = card.links()
    name = _name(user)
    now, before = card.commitments, card.previous_commitments
    signals = []
    minimum = t["kept_share_min_commitments"]
    change = card.kept_share_change
    if (
        change is not None
        and now.counted >= minimum
        and before.counted >= minimum
        and -change >= t["kept_share_drop"] - 1e-9
    ):
        signals.append(
            Signal(
                "kept_share_fell",
                _(
                    "%(name)s kept %(kept)d of %(counted)d promises due in this period, "
                    "against %(before_kept)d of %(before_counted)d in the one before. "
                    "A check-in on workload or blockers may help; these are the promises "
                    "that slipped."
                )
                % {
                    "name": name,
                    "kept": now.kept,
                    "counted": now.counted,
                    "before_kept": before.kept,
                    "before_counted": before.counted,
                },
                links["missed"],
                card.slipped,
            )
        )
    if now.overdue >= t["overdue_commitments"]:
        signals.append(
            Signal(
                "overdue_commitments",
                ngettext(
                    "%(name)s has %(count)d promise of this period past its due date. "
                    "Renegotiating a date with the stakeholder, or handing it over, "
                    "can relieve the pressure.",
                    "%(name)s has %(count)d promises of this period past their due date. "
                    "Renegotiating dates with the stakeholders, or handing some over, "
                    "can relieve the pressure.",
                    now.overdue,
                )
                % {"name": name, "count": now.overdue},
                links["overdue"],
                card.slipped,
            )
        )
    if card.cadence.outside >= t["overdue_contacts"]:
        signals.append(
            Signal(
                "overdue_contacts",
                _(
                    "%(count)d of the %(owned)d stakeholders %(name)s owns are outside their "
                    "contact cadence. Reviewing priorities together, or sharing some "
                    "contacts with colleagues, may help."
                )
                % {"name": name, "count": card.cadence.outside, "owned": card.cadence.owned},
                links["outside_cadence"],
            )
        )
    if (card.single_threaded_key or 0) >= t["single_threaded_key"]:
        signals.append(
            Signal(
                "single_threaded",
                _(
                    "%(name)s is the only thread to %(count)d key stakeholders. "
                    "Introducing a colleague to some of them spreads both the load "
                    "and the risk."
                )
                % {"name": name, "count": card.single_threaded_key},
                links["single_threaded"],
            )
        )
    return signals


# --- Gathering the figures: a fixed number of grouped queries ---------------------------


def _window(period: Period) -> Q:
    return Q(due_date__gte=period.start, due_date__lte=period.end)


def _commitment_counts(window: Q, today: date) -> dict[str, Count]:
    status = Commitment.Status
    return {
        "kept": Count("pk", filter=window & Q(status=status.KEPT)),
        "broken": Count("pk", filter=window & Q(status=status.BROKEN)),
        "overdue": Count("pk", filter=window & Q(status=status.OPEN, due_date__lt=today)),
        "pending": Count("pk", filter=window & Q(status=status.OPEN, due_date__gte=today)),
    }


def commitments_by_person(
    ids: list[int], period: Period, today: date
) -> dict[int, tuple[CommitmentFigures, CommitmentFigures]]:
    """(this period, the previous one) per responsible person: one query."""
    previous = period.previous()
    current = {f"c_{k}": v for k, v in _commitment_counts(_window(period), today).items()}
    before = {f"p_{k}": v for k, v in _commitment_counts(_window(previous), today).items()}
    rows = (
        Commitment.objects.filter(
            responsible__in=ids,
            direction=Commitment.Direction.US,
            due_date__gte=previous.start,
            due_date__lte=period.end,
        )
        .values("responsible")
        .annotate(**current, **before)
        .order_by()
    )
    out = {}
    for row in rows:
        out[row["responsible"]] = (
            CommitmentFigures(row["c_kept"], row["c_broken"], row["c_overdue"], row["c_pending"]),
            CommitmentFigures(row["p_kept"], row["p_broken"], row["p_overdue"], row["p_pending"]),
        )
    return out


def slipped_by_person(
    ids: list[int], period: Period, today: date, limit: int = SLIPPED_ROWS
) -> dict[int, tuple[SlippedPromises, ...]]:
    """Per person, the stakeholders whose promises of the period were broken or are
    overdue, most first: one grouped query (rows: the pairs with a slip)."""
    missed = Q(status=Commitment.Status.BROKEN) | Q(
        status=Commitment.Status.OPEN, due_date__lt=today
    )
    rows = (
        Commitment.objects.filter(
            _window(period),
            missed,
            responsible__in=ids,
            direction=Commitment.Direction.US,
        )
        .values("responsible", "stakeholder", "stakeholder__name")
        .annotate(n=Count("pk"))
        .order_by("responsible", "-n", "stakeholder__name", "stakeholder")
    )
    out: dict[int, list[SlippedPromises]] = defaultdict(list)
    for row in rows:
        if len(out[row["responsible"]]) < limit:
            out[row["responsible"]].append(
                SlippedPromises(row["stakeholder"], row["stakeholder__name"], row["n"])
            )
    return {person: tuple(items) for person, items in out.items()}


def last_contacts(stakeholders: Any, before: datetime) -> dict[int, datetime]:
    """The last interaction (by anyone) of each stakeholder, dated at or before `before`."""
    through = Interaction.stakeholders.through.objects
    return dict(
        through.filter(stakeholder__in=stakeholders, interaction__occurred_at__lte=before)
        .values("stakeholder")
        .annotate(last=Max("interaction__occurred_at"))
        .order_by()
        .values_list("stakeholder", "last")
    )


def cadence_by_person(
    ids: list[int], period: Period, now: datetime
) -> dict[int, tuple[CadenceFigures, CadenceFigures]]:
    """(as of the end of the period, as of the end of the previous one) per owner: three queries."""
    owned = list(
        Stakeholder.objects.filter(owner__in=ids).values_list("pk", "owner", "cadence_days")
    )
    moments = (period.as_of(now), period.previous().as_of(now))
    contacts = [
        last_contacts(Stakeholder.objects.filter(owner__in=ids), moment) for moment in moments
    ]
    counts: dict[int, list[dict[str, int]]] = defaultdict(
        lambda: [defaultdict(int), defaultdict(int)]
    )
    for pk, owner, cadence in owned:
        for i, moment in enumerate(moments):
            counts[owner][i][contact_state(contacts[i].get(pk), cadence, moment)] += 1
    out = {}
    for owner, pair in counts.items():
        out[owner] = tuple(
            CadenceFigures(
                owned=sum(c.values()), within=c["within"], overdue=c["overdue"], never=c["never"]
            )
            for c in pair
        )
    return out


def contact_as_of(day: date | None, now: datetime | None = None) -> datetime:
    """The moment a contact filter is taken: now, or the end of a past day."""
    now = now or timezone.now()
    return now if day is None else Period(day, day).as_of(now)


def stakeholders_in_contact_state(stakeholders: Any, state: str, as_of: datetime) -> list[int]:
    """The stakeholders of a (filtered) set in a contact state as of a moment: two queries.

    The stakeholder list uses this behind the scorecard's cadence links, so the list
    shows exactly the people the figure counted."""
    rows = list(stakeholders.values_list("pk", "cadence_days"))
    contacts = last_contacts(stakeholders.filter(pk__in=[pk for pk, _c in rows]), as_of)
    wanted = {"outside": {"overdue", "never"}}.get(state, {state})
    return [pk for pk, cadence in rows if contact_state(contacts.get(pk), cadence, as_of) in wanted]


def _latest_snapshots(model, key: str, day: date):
    """Each row's latest snapshot dated on or before `day` (one per `key`)."""
    latest = (
        model.objects.filter(**{key: OuterRef(key)}, date__lte=day)
        .order_by("-date")
        .values("date")[:1]
    )
    return model.objects.filter(date__lte=day, date=Subquery(latest))


def reciprocity_by_person(ids: list[int], day: date | None = None) -> dict[int, ReciprocityFigures]:
    """Their relationships' scores: the stored ones, or as of `day` from snapshots."""
    if day is not None:
        return _reciprocity_as_of(ids, day)
    rows = (
        Relationship.objects.filter(user__in=ids)
        .exclude(status=Relationship.Status.ENDED)
        .values("user")
        .annotate(
            n=Count("pk"),
            active=Count("pk", filter=Q(status=Relationship.Status.ACTIVE)),
            given=Sum("score__given"),
            received=Sum("score__received"),
            taking=Count("pk", filter=Q(score__reciprocity_balance__lte=TAKING_BALANCE + 1e-9)),
        )
        .order_by()
    )
    return {
        row["user"]: ReciprocityFigures(
            row["n"], row["active"], row["given"] or 0.0, row["received"] or 0.0, row["taking"]
        )
        for row in rows
    }


def _reciprocity_as_of(ids: list[int], day: date) -> dict[int, ReciprocityFigures]:
    rows = (
        _latest_snapshots(RelationshipScoreSnapshot, "relationship", day)
        .filter(relationship__user__in=ids)
        .values("relationship__user")
        .annotate(
            n=Count("pk"),
            active=Count("pk", filter=Q(given__gt=0) | Q(received__gt=0)),
            given=Sum("given"),
            received=Sum("received"),
            taking=Count("pk", filter=Q(reciprocity_balance__lte=TAKING_BALANCE + 1e-9)),
        )
        .order_by()
    )
    return {
        row["relationship__user"]: ReciprocityFigures(
            row["n"], row["active"], row["given"] or 0.0, row["received"] or 0.0, row["taking"]
        )
        for row in rows
    }


def portfolio_by_person(ids: list[int], day: date | None = None) -> dict[int, PortfolioFigures]:
    """Stakeholder scores of what each person owns, stored (or as of `day`, from each
    one's latest snapshot): one grouped query, the same aggregates as the dashboards'
    `score_rollup`."""
    scores = (
        StakeholderScore.objects.all()
        if day is None
        else _latest_snapshots(StakeholderScoreSnapshot, "stakeholder", day)
    )
    rows = (
        scores.filter(stakeholder__owner__in=ids)
        .values("stakeholder__owner")
        .annotate(**rollup_aggregates(), trust_n=Count("trust"), strength_n=Count("strength"))
        .order_by()
    )
    out = {}
    for row in rows:
        out[row["stakeholder__owner"]] = PortfolioFigures(
            trust_sum=(row["mean_trust"] or 0.0) * row["trust_n"],
            trust_n=row["trust_n"],
            strength_sum=(row["mean_strength"] or 0.0) * row["strength_n"],
            strength_n=row["strength_n"],
            at_risk=row["at_risk"],
            return_value=row["total_return"] or 0.0,
            investment=row["total_investment"] or 0.0,
        )
    return out


def single_threaded_by_person(ids: list[int]) -> dict[int, int]:
    return dict(
        StakeholderThreads.objects.filter(is_key=True, thread_count=1, sole_thread_user__in=ids)
        .values("sole_thread_user")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("sole_thread_user", "n")
    )


def trend_by_person(ids: list[int], period: Period) -> dict[int, list[TrendPoint]]:
    """Mean trust and strength, and the at-risk count, of what each person owns, per
    daily snapshot of the period: one grouped query."""
    rows = (
        StakeholderScoreSnapshot.objects.filter(
            stakeholder__owner__in=ids, date__gte=period.start, date__lte=period.end
        )
        .values("stakeholder__owner", "date")
        .annotate(
            **{
                k: v
                for k, v in rollup_aggregates().items()
                if k in ("mean_trust", "mean_strength", "at_risk")
            }
        )
        .order_by("stakeholder__owner", "date")
    )
    out: dict[int, list[TrendPoint]] = defaultdict(list)
    for row in rows:
        out[row["stakeholder__owner"]].append(
            TrendPoint(row["date"], row["mean_trust"], row["mean_strength"], row["at_risk"])
        )
    return out


def scorecards_for(
    people: Sequence[User],
    period: Period,
    *,
    now: datetime | None = None,
    with_trend: bool = True,
) -> list[Scorecard]:
    """The scorecards of several people, in their order: nine queries whatever their number."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ids = [p.pk for p in people]
    commitments = commitments_by_person(ids, period, today)
    cadence = cadence_by_person(ids, period, now)
    day = period.scores_day(today)
    reciprocity = reciprocity_by_person(ids, day)
    portfolio = portfolio_by_person(ids, day)
    single = single_threaded_by_person(ids) if day is None else None
    slipped = slipped_by_person(ids, period, today)
    trend = trend_by_person(ids, period) if with_trend else {}
    thresholds = coaching_thresholds()
    cards = []
    empty_commitments = (CommitmentFigures(), CommitmentFigures())
    empty_cadence = (CadenceFigures(), CadenceFigures())
    for person in people:
        current, previous = commitments.get(person.pk, empty_commitments)
        cadence_now, cadence_before = cadence.get(person.pk, empty_cadence)
        card = Scorecard(
            period=period,
            user=person,
            commitments=current,
            previous_commitments=previous,
            cadence=cadence_now,
            previous_cadence=cadence_before,
            reciprocity=reciprocity.get(person.pk, ReciprocityFigures()),
            portfolio=portfolio.get(person.pk, PortfolioFigures()),
            single_threaded_key=None if single is None else single.get(person.pk, 0),
            scores_as_of=day,
            trend=trend.get(person.pk, []),
            slipped=slipped.get(person.pk, ()),
        )
        card.signals = coaching_signals(card, thresholds)
        cards.append(card)
    return cards


# --- Sorting the team view ---------------------------------------------------------------

# Column → the figure it sorts by, and whether the natural order is descending. There
# is deliberately no sort by RoR: the team view is for coaching, not a leaderboard.
TEAM_SORTS: dict[str, tuple[Any, bool]] = {
    "name": (lambda c: _name(c.user).lower(), False),
    "kept_share": (lambda c: c.commitments.kept_share, False),
    "kept_change": (lambda c: c.kept_share_change, False),
    "overdue": (lambda c: c.commitments.overdue, True),
    "adherence": (lambda c: c.cadence.adherence, False),
    "outside": (lambda c: c.cadence.outside, True),
    "balance": (lambda c: c.reciprocity.balance, False),
    "trust": (lambda c: c.portfolio.mean_trust, False),
    "strength": (lambda c: c.portfolio.mean_strength, False),
    "at_risk": (lambda c: c.portfolio.at_risk, True),
    "active": (lambda c: c.reciprocity.active, True),
    "single_threaded": (lambda c: c.single_threaded_key, True),
    "signals": (lambda c: len(c.signals), True),
}


def sort_cards(cards: list[Scorecard], sort: str) -> list[Scorecard]:
    """Sorted by a column; "-name" reverses. Missing figures ("no data") go last."""
    descending = sort.startswith("-")
    key, natural_desc = TEAM_SORTS.get(sort.lstrip("-"), TEAM_SORTS["name"])
    reverse = natural_desc != descending
    with_value = [c for c in cards if key(c) is not None]
    without = [c for c in cards if key(c) is None]
    with_value.sort(key=lambda c: _name(c.user).lower())
    with_value.sort(key=key, reverse=reverse)
    return with_value + sorted(without, key=lambda c: _name(c.user).lower())
