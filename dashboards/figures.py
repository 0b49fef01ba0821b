"""The read side of the dashboards: stored scores and network health,
aggregated in SQL with a fixed number of queries whatever the size of the network.

Nothing here computes a score: every figure comes from the rows the worker
stored (`StakeholderScore`, `RelationshipScore`, their snapshots, `NetworkHealth`,
`StakeholderThreads`). Views call these functions and render what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Cast, Floor, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrics.formatting import score_band
from metrics.models import RelationshipScoreSnapshot, StakeholderScore, StakeholderScoreSnapshot
from networks.graph import COVERAGE_STRENGTH
from networks.models import NetworkHealth
from relations.models import (
    Interaction,
    Relationship,
    Stakeholder,
    StrategicGoal,
    Team,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Influence and interest are 1–5; 4 and 5 count as high. The middle (3) counts as
# low, so "Manage closely" holds only the people who clearly stand out.
GRID_HIGH = 4
# Selectable trend periods (days); the default shows a quarter.
PERIODS = (30, 90, 180, 365, 730)
DEFAULT_PERIOD = 90
# Names shown per quadrant of the power/interest grid; the rest behind a link.
GRID_NAMES_PER_QUADRANT = 24
# Rows of the at-risk list on the dashboard; the full list is the drill-down.
AT_RISK_ROWS = 15
# Ten buckets of 0.1 for the trust and strength distributions.
DISTRIBUTION_BUCKETS = 10
# The manager home's queues are short: what to do next, not everything.
QUEUE_ROWS = 10
# Commitments due within this many days show on the home page.
COMMITMENT_HORIZON_DAYS = 14
# Relationship plans whose next review falls within this many days are due.
REVIEW_HORIZON_DAYS = 14
# Sparklines on the portfolio show the last quarter of snapshots.
SPARKLINE_DAYS = 90

QUADRANTS = {
    # name: (label, high influence?, high interest?)
    "manage_closely": (_("Manage closely"), True, True),
    "keep_satisfied": (_("Keep satisfied"), True, False),
    "keep_informed": (_("Keep informed"), False, True),
    "monitor": (_("Monitor"), False, False),
}


def trust_class(trust: float | None) -> str:
    """The colour band of a score: the one scale of DESIGN §5b (metrics.formatting)."""
    return f"score-{score_band(trust) or 'none'}"


# --- Scope: the organisation, a team or a strategic goal -------------------------------


@dataclass(frozen=True)
class Scope:
    kind: str  # a NetworkHealth.Scope value
    id: int = 0
    label: str = ""

    @property
    def query(self) -> str:
        """The query-string parameter that selects this scope ('' for the organisation)."""
        if self.kind == NetworkHealth.Scope.TEAM:
            return f"team={self.id}"
        if self.kind == NetworkHealth.Scope.GOAL:
            return f"goal={self.id}"
        return ""


ORGANISATION = Scope(NetworkHealth.Scope.ORGANISATION, 0, "")


def scope_stakeholders(scope: Scope) -> QuerySet[Stakeholder]:
    """The stakeholders of a scope, as the network health counts them (networks.services)."""
    return Stakeholder.objects.of_scope(
        team=scope.id if scope.kind == NetworkHealth.Scope.TEAM else None,
        goal=scope.id if scope.kind == NetworkHealth.Scope.GOAL else None,
    )


def key_stakeholders(scope: Scope) -> QuerySet[Stakeholder]:
    """Key stakeholders as of the latest network computation, so that the lists behind
    a figure hold exactly the people the stored figure counted."""
    return scope_stakeholders(scope).filter(threads__is_key=True)


# Each dashboard figure → the stakeholders behind it, and their order.
FIGURES: dict[str, tuple[Any, str]] = {
    "key": (_("Key stakeholders"), "name"),
    "covered": (_("Covered key stakeholders (strength 50 or more)"), "name"),
    "not_covered": (_("Key stakeholders not covered (strength below 50)"), "score__strength"),
    "single_threaded": (_("Single-threaded key stakeholders"), "name"),
    "unthreaded": (_("Unthreaded key stakeholders"), "name"),
    "trust": (_("Key stakeholders by trust, lowest first"), "score__trust"),
    "reciprocity": (_("Key stakeholders by reciprocity, lowest first"), "score__reciprocity"),
    "at_risk": (_("Stakeholders at risk"), "score__trust"),
    "return": (_("Stakeholders by return, highest first"), "-score__return_value"),
    "investment": (_("Stakeholders by investment, highest first"), "-score__investment"),
    "ror": (_("Stakeholders by return on relationship, lowest first"), "score__ror"),
    **{name: (label, "name") for name, (label, _high, _int) in QUADRANTS.items()},
}


def _quadrant_filter(name: str) -> Q:
    _label, high_influence, high_interest = QUADRANTS[name]
    influence = Q(influence__gte=GRID_HIGH) if high_influence else Q(influence__lt=GRID_HIGH)
    interest = Q(interest__gte=GRID_HIGH) if high_interest else Q(interest__lt=GRID_HIGH)
    return influence & interest


def figure_stakeholders(scope: Scope, figure: str) -> QuerySet[Stakeholder]:
    """The stakeholders behind one figure of the dashboard, in a meaningful order."""
    key = key_stakeholders(scope)
    everyone = scope_stakeholders(scope)
    covered = Q(score__strength__gte=COVERAGE_STRENGTH)
    chosen = {
        "key": key,
        "covered": key.filter(covered),
        "not_covered": key.exclude(covered),
        "single_threaded": key.filter(threads__thread_count=1),
        "unthreaded": key.filter(threads__thread_count=0),
        "trust": key.filter(score__trust__isnull=False),
        "reciprocity": key.filter(score__reciprocity__isnull=False),
        "at_risk": everyone.filter(score__at_risk=True),
        "return": everyone.filter(score__return_value__gt=0),
        "investment": everyone.filter(score__investment__gt=0),
        "ror": everyone.filter(score__investment__gt=0),
    }
    queryset = key.filter(_quadrant_filter(figure)) if figure in QUADRANTS else chosen[figure]
    order = FIGURES[figure][1]
    field = order.lstrip("-")
    expression = (
        F(field).desc(nulls_last=True) if order.startswith("-") else F(field).asc(nulls_first=True)
    )
    return queryset.select_related("owner", "organization", "score", "threads").order_by(
        expression, "name", "pk"
    )


# --- Network health: current figures, trend, breakdowns ------------------------------


def health_trend(scope: Scope, days: int, today: date | None = None) -> list[NetworkHealth]:
    today = today or timezone.now().date()
    return list(
        NetworkHealth.objects.filter(
            scope=scope.kind, scope_id=scope.id, date__gt=today - timedelta(days=days)
        ).order_by("date")
    )


def health_change(trend: list[NetworkHealth]) -> float | None:
    """How far the health index moved over the period shown (first to last point)."""
    values = [row.health_index for row in trend if row.health_index is not None]
    if len(values) < 2:
        return None
    return values[-1] - values[0]


def health_breakdown(kind: str) -> list[dict[str, Any]]:
    """Every team (or goal) with its latest health figures: two queries."""
    if kind == NetworkHealth.Scope.TEAM:
        scopes = [(team.pk, team.name) for team in Team.objects.only("pk", "name")]
    else:
        scopes = [
            (goal.pk, goal.title)
            for goal in StrategicGoal.objects.only("pk", "title").order_by("title")
        ]
    latest = NetworkHealth.objects.filter(scope=kind).order_by("-date").values("date")[:1]
    rows = {
        row.scope_id: row
        for row in NetworkHealth.objects.filter(
            scope=kind, scope_id__in=[pk for pk, _ in scopes], date__in=latest
        )
    }
    return [{"id": pk, "name": name, "health": rows.get(pk)} for pk, name in scopes]


def at_risk_rows(scope: Scope, limit: int = AT_RISK_ROWS) -> list[StakeholderScore]:
    return list(
        StakeholderScore.objects.filter(at_risk=True, stakeholder__in=scope_stakeholders(scope))
        .select_related("stakeholder__owner", "stakeholder__organization")
        .order_by(F("trust").asc(nulls_first=True), "stakeholder__name")[:limit]
    )


def power_interest_grid(scope: Scope) -> list[dict[str, Any]]:
    """The four quadrants of key stakeholders, each with its count and first names.

    One aggregate for the counts and one bounded query per quadrant.
    """
    key = key_stakeholders(scope)
    counts = key.aggregate(
        **{name: Count("pk", filter=_quadrant_filter(name)) for name in QUADRANTS}
    )
    quadrants = []
    for name, (label, high_influence, high_interest) in QUADRANTS.items():
        people = list(
            key.filter(_quadrant_filter(name))
            .select_related("score")
            .order_by("-importance", "-influence", "-interest", "name", "pk")[
                :GRID_NAMES_PER_QUADRANT
            ]
        )
        quadrants.append(
            {
                "name": name,
                "label": label,
                "high_influence": high_influence,
                "high_interest": high_interest,
                "count": counts[name],
                "people": [
                    {
                        "stakeholder": person,
                        "trust": _score_of(person, "trust"),
                        "trust_class": trust_class(_score_of(person, "trust")),
                    }
                    for person in people
                ],
            }
        )
    return quadrants


def _score_of(stakeholder: Stakeholder, field: str) -> float | None:
    try:
        return getattr(stakeholder.score, field)
    except StakeholderScore.DoesNotExist:
        return None


def distributions(
    stakeholders: QuerySet[Stakeholder], fields: tuple[str, ...]
) -> dict[str, list[int]]:
    """Counts of 0–1 stored scores in ten buckets of 0.1 each (1.0 falls in the last),
    several scores in one pass over the stakeholders (the
    dashboard's key stakeholders are a fifth of everyone at `large`: one join and
    scan instead of one per score)."""
    last = DISTRIBUTION_BUCKETS - 1
    buckets = {
        f"{field}_bucket": Cast(Floor(F(f"score__{field}") * DISTRIBUTION_BUCKETS), IntegerField())
        for field in fields
    }
    counts = {}
    for field in fields:
        for i in range(DISTRIBUTION_BUCKETS):
            # Below 0 counts in the first bucket and 1.0 (or above) in the last; a
            # missing score in none (NULL matches no condition).
            lookup = "lte" if i == 0 else "gte" if i == last else "exact"
            condition = Q(**{f"{field}_bucket__{lookup}": i})
            counts[f"{field}_{i}"] = Count("pk", filter=condition)
    row = stakeholders.order_by().annotate(**buckets).aggregate(**counts)
    return {field: [row[f"{field}_{i}"] for i in range(DISTRIBUTION_BUCKETS)] for field in fields}


def bucket_labels() -> list[str]:
    # On the 0–100 scale every score uses (DESIGN §5b): "0–9", "10–19", …, "90–100".
    step = 100 // DISTRIBUTION_BUCKETS
    return [
        f"{i * step}–{(i + 1) * step - (1 if i < DISTRIBUTION_BUCKETS - 1 else 0)}"
        for i in range(DISTRIBUTION_BUCKETS)
    ]


# --- Chart payloads (drawn by static/js/charts.js from a json_script block) ----------


def line_chart(
    labels: list[str],
    series: dict[str, list[float | None]],
    *,
    y_min: float | None = None,
    y_max: float | None = None,
    percent: bool = False,
    y_title: str = "",
) -> dict[str, Any]:
    return {
        "type": "line",
        "labels": labels,
        "datasets": [{"label": str(name), "data": values} for name, values in series.items()],
        "yMin": y_min,
        "yMax": y_max,
        "percent": percent,
        "yTitle": str(y_title),
    }


def bar_chart(
    labels: list[str],
    series: dict[str, list[float | None]],
    *,
    line: dict | None = None,
    y_title: str = "",
) -> dict[str, Any]:
    chart = {
        "type": "bar",
        "labels": labels,
        "datasets": [{"label": str(name), "data": values} for name, values in series.items()],
        "yTitle": str(y_title),
    }
    if line:
        chart["datasets"].append({"type": "line", **line})
    return chart


def health_chart(trend: list[NetworkHealth]) -> tuple[dict, dict]:
    labels = [row.date.isoformat() for row in trend]
    index = line_chart(
        labels,
        {_("Health index"): [row.health_index for row in trend]},
        y_min=0,
        y_max=100,
        y_title=_("index, 0–100"),
    )
    shares = line_chart(
        labels,
        {
            _("Coverage"): [row.coverage for row in trend],
            _("Single-threaded"): [row.single_threaded_share for row in trend],
            _("Unthreaded"): [row.unthreaded_share for row in trend],
            _("Mean trust"): [row.mean_trust for row in trend],
            _("Mean reciprocity"): [row.mean_reciprocity for row in trend],
        },
        y_min=0,
        y_max=1,
        percent=True,
        y_title=_("share or score, 0–100"),
    )
    return index, shares


# --- Manager home ----------------------------------------------------------------------


def losing_touch(user: User, now: datetime | None = None, limit: int = QUEUE_ROWS) -> dict:
    """Stakeholders I own or know whose last contact (by anyone) is older than their
    cadence, most days overdue first (the number the row shows; issue 18), then the
    most overdue relative to the cadence; never-contacted ones last.

    Two queries: the candidates' contact dates (a manager's own portfolio, so the
    rows are bounded by what one person holds), then the shown rows in full.
    """
    now = now or timezone.now()
    candidates = (
        Stakeholder.objects.involving(user)
        .values_list("pk", "cadence_days", "score__last_contact")
        .order_by()
    )
    overdue: list[tuple[int, float, int, int]] = []
    never: list[int] = []
    contacts: dict[int, datetime] = {}
    for pk, cadence, last_contact in candidates:
        if last_contact is None:
            never.append(pk)
            continue
        days = (now - last_contact).days
        if days > cadence:
            overdue.append((-(days - cadence), -(days - cadence) / cadence, pk, days))
            contacts[pk] = last_contact
    overdue.sort()
    days_by_pk = {pk: days for _by, _ratio, pk, days in overdue}
    chosen = [pk for _by, _ratio, pk, _days in overdue[:limit]]
    chosen += sorted(never)[: max(0, limit - len(chosen))]
    people = Stakeholder.objects.in_bulk(chosen) if chosen else {}
    rows = []
    for pk in chosen:
        stakeholder = people[pk]
        days = days_by_pk.get(pk)
        rows.append(
            {
                "stakeholder": stakeholder,
                "days": days,
                "last_contact": contacts.get(pk),
                "overdue_by": None if days is None else days - stakeholder.cadence_days,
            }
        )
    return {"rows": rows, "overdue_count": len(overdue), "never_count": len(never)}


def plans_due(user: User, today: date | None = None, limit: int = QUEUE_ROWS) -> QuerySet:
    today = today or timezone.localdate()
    return (
        Relationship.objects.filter(
            user=user,
            next_review__lte=today + timedelta(days=REVIEW_HORIZON_DAYS),
        )
        .exclude(status=Relationship.Status.ENDED)
        .select_related("stakeholder", "score")
        .order_by("next_review", "pk")[:limit]
    )


def at_risk_for(user: User, limit: int = QUEUE_ROWS) -> QuerySet:
    return (
        StakeholderScore.objects.filter(
            at_risk=True, stakeholder__in=Stakeholder.objects.involving(user)
        )
        .select_related("stakeholder__organization")
        .order_by(F("trust").asc(nulls_first=True), "stakeholder__name")[:limit]
    )


# --- Portfolio -----------------------------------------------------------------------

PORTFOLIO_SORTS = {
    "name": ("stakeholder__name",),
    "trust": (F("score__trust").asc(nulls_last=True), "stakeholder__name"),
    "-trust": (F("score__trust").desc(nulls_last=True), "stakeholder__name"),
    "reciprocity": (F("score__reciprocity").asc(nulls_last=True), "stakeholder__name"),
    "-reciprocity": (F("score__reciprocity").desc(nulls_last=True), "stakeholder__name"),
    # Days past the cadence as of the last refresh (stored), most overdue first.
    "overdue": (F("overdue_by").desc(nulls_last=True), "stakeholder__name"),
    "risk": (
        F("stakeholder__score__at_risk").desc(nulls_last=True),
        F("stakeholder__score__trust").asc(nulls_last=True),
        "stakeholder__name",
    ),
}


def portfolio(user: User, sort: str) -> QuerySet[Relationship]:
    order = PORTFOLIO_SORTS.get(sort, PORTFOLIO_SORTS["risk"])
    return (
        Relationship.objects.filter(user=user)
        .exclude(status=Relationship.Status.ENDED)
        .select_related("stakeholder__organization", "stakeholder__score", "score")
        .annotate(overdue_by=F("score__days_since_contact") - F("stakeholder__cadence_days"))
        .order_by(*order, "pk")
    )


def sparklines(relationship_ids: list[int], today: date | None = None) -> dict[int, list]:
    """Trust of each relationship over the last quarter's snapshots: one query."""
    today = today or timezone.now().date()
    series: dict[int, list[float]] = {pk: [] for pk in relationship_ids}
    rows = (
        RelationshipScoreSnapshot.objects.filter(
            relationship_id__in=relationship_ids,
            date__gt=today - timedelta(days=SPARKLINE_DAYS),
            trust__isnull=False,
        )
        .order_by("relationship_id", "date")
        .values_list("relationship_id", "trust")
    )
    for pk, trust in rows:
        series[pk].append(trust)
    return series


# --- Organisation roll-up and the reciprocity ledger ----------------------------------


def rollup_aggregates() -> dict[str, Any]:
    """The aggregates of stored stakeholder scores over a set (also grouped per owner
    by the scorecards, `dashboards.scorecards`)."""
    return {
        "scored": Count("pk"),
        "mean_trust": Avg("trust"),
        "mean_reciprocity": Avg("reciprocity"),
        "mean_strength": Avg("strength"),
        "total_return": Sum("return_value"),
        "total_investment": Sum("investment"),
        "at_risk": Count("pk", filter=Q(at_risk=True)),
    }


def rollup_ror(total_return: float | None, investment: float | None) -> float | None:
    """RoR of summed return and investment (DESIGN §3): null without investment."""
    investment = investment or 0
    return ((total_return or 0) - investment) / investment if investment > 0 else None


def score_rollup(stakeholders: QuerySet[Stakeholder]) -> dict[str, Any]:
    """Stored stakeholder scores aggregated over a set: one query."""
    figures = StakeholderScore.objects.filter(stakeholder__in=stakeholders).aggregate(
        **rollup_aggregates()
    )
    figures["ror"] = rollup_ror(figures["total_return"], figures["total_investment"])
    return figures


def snapshot_trend(
    stakeholders: QuerySet[Stakeholder], days: int, today: date | None = None
) -> list[dict]:
    """Mean trust and reciprocity of a set of stakeholders per snapshot day: one query."""
    today = today or timezone.now().date()
    return list(
        StakeholderScoreSnapshot.objects.filter(
            stakeholder__in=stakeholders, date__gt=today - timedelta(days=days)
        )
        .values("date")
        .annotate(trust=Avg("trust"), reciprocity=Avg("reciprocity"), n=Count("pk"))
        .order_by("date")
    )


def ledger(interactions: QuerySet[Interaction]) -> list[dict[str, Any]]:
    """What we gave and what we received per month, with the running balance
    (positive: we have given more, so they owe us). One grouped query."""
    rows = (
        interactions.annotate(month=TruncMonth("occurred_at"))
        .values("month")
        .annotate(given=Sum("value_given"), received=Sum("value_received"), n=Count("pk"))
        .order_by("month")
    )
    # Months without an interaction are shown as empty months, not skipped: a
    # per-month chart must not join January to June as if they were neighbours.
    by_month = {_month_start(row["month"]): row for row in rows}
    balance = 0
    out = []
    for month in _months_between(min(by_month, default=None), max(by_month, default=None)):
        row = by_month.get(month) or {"month": month, "given": 0, "received": 0, "n": 0}
        balance += (row["given"] or 0) - (row["received"] or 0)
        out.append({**row, "month": month, "balance": balance})
    return out


def _month_start(value: date | datetime) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


def _months_between(first: date | None, last: date | None) -> list[date]:
    if first is None or last is None:
        return []
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def ledger_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    labels = [row["month"].strftime("%Y-%m") for row in rows]
    return bar_chart(
        labels,
        {
            _("Given"): [row["given"] for row in rows],
            _("Received"): [-(row["received"] or 0) for row in rows],
        },
        line={"label": str(_("Running balance")), "data": [row["balance"] for row in rows]},
        y_title=_("value points per month"),
    )


def stakeholder_interactions(stakeholder_id: int) -> QuerySet[Interaction]:
    return Interaction.objects.of_stakeholder(stakeholder_id)


def organization_interactions(organization_id: int, stakeholders: QuerySet) -> QuerySet:
    """Interactions with any of the given stakeholders of the organisation, each once."""
    through = Interaction.stakeholders.through.objects.filter(
        interaction=OuterRef("pk"),
        stakeholder__organization_id=organization_id,
        stakeholder__in=stakeholders,
    )
    return Interaction.objects.filter(Exists(through))
