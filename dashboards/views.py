"""Dashboards, the manager home, the portfolio, goals and relationship plans.

Thin: every figure is read from stored rows through `dashboards.figures`;
visibility comes from the querysets of `relations` (DESIGN §7):
- `/dashboard/` and the lists behind its figures are for directors (others: 403);
- a strategic goal's health figures and RoR show to directors and the goal's owner;
- elsewhere a manager sees scores only of the stakeholders they own or know.
"""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from config.replica import reads_from_replica
from dashboards import figures as dashboards
from dashboards.figures import Scope
from dashboards.scorecards import TAKING_BALANCE
from metrics.models import RecomputeJob
from metrics.pulse import PULSE_DUE_DAYS, pulse_due_cutoff
from metrics.tasks import recompute_job_start
from networks.models import NetworkHealth
from networks.services import health_current
from relations.models import (
    AuthenticityPulse,
    Commitment,
    GoalStakeholder,
    Interaction,
    Outcome,
    Relationship,
    Stakeholder,
    StrategicGoal,
    Team,
)
from relations.pages import action_required, paginate, staff_required
from relations.querysets import parse_id
from relations.roles import Action, figures_of_person_visible_to, staff_users

# Outcomes and plans listed on a goal's page; the page stays bounded for big goals.
GOAL_SIDE_LIST = 50


def _days_label(days: int) -> str:
    return ngettext("%(days)d day", "%(days)d days", days) % {"days": days}


# Translated when shown, not at import: `ngettext_lazy(...) % {...}` would translate
# at once, in the language active when the module was loaded.
_period_label = lazy(_days_label, str)


class ScopeForm(forms.Form):
    """The dashboard's scope (a team or a goal, not both) and trend period."""

    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, empty_label=gettext_lazy("All teams")
    )
    goal = forms.ModelChoiceField(
        queryset=StrategicGoal.objects.all(),
        required=False,
        empty_label=gettext_lazy("All goals"),
    )
    period = forms.TypedChoiceField(
        label=gettext_lazy("Period"),
        choices=[(d, _period_label(d)) for d in dashboards.PERIODS],
        coerce=int,
        required=False,
        empty_value=dashboards.DEFAULT_PERIOD,
        initial=dashboards.DEFAULT_PERIOD,
    )

    def __init__(self, data=None, *args, **kwargs) -> None:
        # The period box shows the period the headings use: the default when none
        # was asked for (it showed the first choice, 30 days, under "90 days").
        if data is not None and not data.get("period"):
            data = data.copy()
            data["period"] = str(dashboards.DEFAULT_PERIOD)
        super().__init__(data, *args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select")

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("team") and cleaned.get("goal"):
            raise forms.ValidationError(_("Choose a team or a goal, not both."))
        return cleaned

    def scope(self) -> Scope:
        if not self.is_valid():
            return dashboards.ORGANISATION
        if team := self.cleaned_data.get("team"):
            return Scope(NetworkHealth.Scope.TEAM, team.pk, team.name)
        if goal := self.cleaned_data.get("goal"):
            return Scope(NetworkHealth.Scope.GOAL, goal.pk, goal.title)
        return dashboards.ORGANISATION

    def trend_days(self) -> int:
        if self.is_valid():
            return self.cleaned_data.get("period") or dashboards.DEFAULT_PERIOD
        return dashboards.DEFAULT_PERIOD


# --- Manager home --------------------------------------------------------------------


def pulses_due(user: User, today: date, limit: int = dashboards.QUEUE_ROWS) -> QuerySet:
    """The user's key relationships (not ended) without a pulse of theirs for
    PULSE_DUE_DAYS, never-assessed first: one query."""
    last_pulse = (
        AuthenticityPulse.objects.filter(relationship=OuterRef("pk"), assessed_by=user)
        .order_by("-assessed_on")
        .values("assessed_on")[:1]
    )
    return (
        Relationship.objects.filter(user=user, stakeholder__in=Stakeholder.objects.key())
        .exclude(status=Relationship.Status.ENDED)
        .annotate(last_pulse_on=Subquery(last_pulse))
        .filter(Q(last_pulse_on__isnull=True) | Q(last_pulse_on__lte=pulse_due_cutoff(today)))
        .select_related("stakeholder")
        .order_by(F("last_pulse_on").asc(nulls_first=True), "stakeholder__name", "pk")[:limit]
    )


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    """What to do next: losing touch, promises due, risks, plan reviews, recent news."""
    user = request.user
    today = timezone.localdate()
    horizon = today + timedelta(days=dashboards.COMMITMENT_HORIZON_DAYS)
    due = (
        Commitment.objects.filter(
            responsible=user, status=Commitment.Status.OPEN, due_date__lte=horizon
        )
        .select_related("stakeholder", "responsible")
        .order_by("due_date", "pk")
    )
    counts = Commitment.objects.filter(responsible=user, status=Commitment.Status.OPEN).aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=Q(due_date__lt=today)),
    )
    through = Interaction.stakeholders.through.objects.filter(
        interaction=OuterRef("pk"), stakeholder__owner=user
    )
    context = {
        "today": today,
        "losing_touch": dashboards.losing_touch(user),
        "ours_due": due.filter(direction=Commitment.Direction.US)[: dashboards.QUEUE_ROWS],
        "theirs_due": due.filter(direction=Commitment.Direction.THEM)[: dashboards.QUEUE_ROWS],
        "open_count": counts["open"],
        "overdue_count": counts["overdue"],
        "at_risk": dashboards.at_risk_for(user),
        "plans_due": dashboards.plans_due(user, today),
        "pulses_due": pulses_due(user, today),
        "pulse_due_days": PULSE_DUE_DAYS,
        "recent_interactions": Interaction.objects.visible_to(user)
        .filter(Exists(through))
        .with_people()[: dashboards.QUEUE_ROWS],
        "health": (
            health_current()
            if NetworkHealth.scope_visible_to(user, NetworkHealth.Scope.ORGANISATION)
            else None
        ),
    }
    return render(request, "dashboards/home.html", context)


# --- Director dashboard ----------------------------------------------------------------


@action_required(Action.SEE_NETWORK_HEALTH)
@reads_from_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    form = ScopeForm(request.GET or None)
    scope, period = form.scope(), form.trend_days()
    health = health_current(scope.kind, scope.id)
    trend = dashboards.health_trend(scope, period)
    index_chart, shares_chart = dashboards.health_chart(trend)
    key = dashboards.key_stakeholders(scope)
    labels = dashboards.bucket_labels()
    counts = dashboards.distributions(key, ("trust", "strength"))
    trust_counts, strength_counts = counts["trust"], counts["strength"]
    distribution_chart = dashboards.bar_chart(
        labels,
        {_("Trust"): trust_counts, _("Strength"): strength_counts},
        y_title=_("key stakeholders"),
    )
    context = {
        "form": form,
        "scope": scope,
        "period": period,
        "health": health,
        "trend": trend,
        "change": dashboards.health_change(trend),
        "index_chart": index_chart,
        "shares_chart": shares_chart,
        "distribution_chart": distribution_chart,
        "distribution_rows": list(zip(labels, trust_counts, strength_counts, strict=True)),
        "at_risk": dashboards.at_risk_rows(scope),
        "grid": dashboards.power_interest_grid(scope),
        "teams": dashboards.health_breakdown(NetworkHealth.Scope.TEAM),
        "goals": dashboards.health_breakdown(NetworkHealth.Scope.GOAL),
    }
    return render(request, "dashboards/dashboard.html", context)


@action_required(Action.SEE_NETWORK_HEALTH)
def dashboard_reviews(request: HttpRequest) -> HttpResponse:
    """Two-sided reviews on one page: which key stakeholders were reviewed this quarter,
    the mean perception gap per team and per goal, and the largest gaps (issue 23)."""
    from reviews.figures import coverage, gap_points

    context = coverage()
    for row in context["teams"] + context["goals"]:
        row["points"] = gap_points(row["mean_gap"])
    return render(request, "dashboards/reviews.html", context)


@action_required(Action.SEE_NETWORK_HEALTH)
@reads_from_replica
def dashboard_figure(request: HttpRequest) -> HttpResponse:
    """The stakeholders behind one figure of the dashboard (directors)."""
    form = ScopeForm(request.GET or None)
    figure = request.GET.get("figure", "key")
    if figure not in dashboards.FIGURES:
        figure = "key"
    scope = form.scope()
    page = paginate(request, dashboards.figure_stakeholders(scope, figure))
    context = {
        "form": form,
        "scope": scope,
        "figure": figure,
        "figure_label": dashboards.FIGURES[figure][0],
        "figures": [(name, label) for name, (label, _order) in dashboards.FIGURES.items()],
        "page": page,
    }
    return render(request, "dashboards/figure_stakeholders.html", context)


# --- Portfolio -------------------------------------------------------------------------


def _portfolio_person(request: HttpRequest) -> User:
    """Whose portfolio: mine, or (directors, from a scorecard) a colleague's; else 404."""
    wanted = parse_id(request.GET.get("user", ""))
    if wanted is None or wanted == request.user.pk:
        return request.user
    if not figures_of_person_visible_to(request.user, wanted):
        raise Http404
    return get_object_or_404(staff_users(), pk=wanted)


@staff_required
def portfolio(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "risk")
    if sort not in dashboards.PORTFOLIO_SORTS:
        sort = "risk"
    person = _portfolio_person(request)
    relationships = dashboards.portfolio(person, sort)
    # Narrowed by a scorecard link: active relationships, or those mostly taking.
    status = request.GET.get("status", "")
    if status in (Relationship.Status.ACTIVE, Relationship.Status.DORMANT):
        relationships = relationships.filter(status=status)
    balance = request.GET.get("balance", "")
    if balance == "taking":
        relationships = relationships.filter(score__reciprocity_balance__lte=TAKING_BALANCE + 1e-9)
    page = paginate(request, relationships)
    lines = dashboards.sparklines([r.pk for r in page.object_list])
    rows = [{"relationship": r, "sparkline": lines.get(r.pk, [])} for r in page.object_list]
    sorts = [
        ("risk", _("Risk")),
        ("trust", _("Trust, lowest first")),
        ("-trust", _("Trust, highest first")),
        ("reciprocity", _("Reciprocity, lowest first")),
        ("-reciprocity", _("Reciprocity, highest first")),
        ("overdue", _("Most overdue")),
        ("name", _("Name")),
    ]
    context = {
        "page": page,
        "rows": rows,
        "sort": sort,
        "sorts": sorts,
        "person": person,
        "is_self": person.pk == request.user.pk,
        "status": status if status in Relationship.Status.values else "",
        "balance": balance if balance == "taking" else "",
    }
    return render(request, "dashboards/portfolio.html", context)


# --- Strategic goals and relationship plans ------------------------------------------------


def _latest_health(field: str) -> Subquery:
    return Subquery(
        NetworkHealth.objects.filter(scope=NetworkHealth.Scope.GOAL, scope_id=OuterRef("pk"))
        .order_by("-date")
        .values(field)[:1]
    )


@staff_required
def goal_list(request: HttpRequest) -> HttpResponse:
    goals = (
        StrategicGoal.objects.visible_to(request.user)
        .listed()
        .select_related("owner")
        .annotate(
            stakeholder_count=Count("links", distinct=True),
            health_index=_latest_health("health_index"),
            ror=_latest_health("ror"),
            return_value=_latest_health("return_value"),
            at_risk_count=_latest_health("at_risk_count"),
        )
        .order_by("status", "title", "pk")
    )
    page = paginate(request, goals)
    for goal in page.object_list:
        goal.figures_visible = goal.health_visible_to(request.user)
    context = {"page": page}
    return render(request, "dashboards/goal_list.html", context)


@staff_required
def goal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    goal = get_object_or_404(StrategicGoal.objects.visible_to(user).select_related("owner"), pk=pk)
    figures_visible = goal.health_visible_to(user)
    scope = Scope(NetworkHealth.Scope.GOAL, goal.pk, goal.title)
    links = paginate(
        request,
        GoalStakeholder.objects.filter(goal=goal)
        .select_related("stakeholder__owner", "stakeholder__organization", "stakeholder__score")
        .order_by("stakeholder__name", "pk"),
    )
    score_ids = set(
        Stakeholder.objects.scores_visible_to(user)
        .filter(pk__in=[link.stakeholder_id for link in links.object_list])
        .values_list("pk", flat=True)
    )
    outcomes = Outcome.objects.visible_to(user).filter(goal=goal)
    plans = (
        Relationship.objects.visible_to(user)
        .filter(stakeholder__goal_links__goal=goal)
        .select_related("user", "stakeholder", "score")
        .order_by("next_review", "stakeholder__name", "pk")[:GOAL_SIDE_LIST]
    )
    context = {
        "goal": goal,
        "figures_visible": figures_visible,
        "links": links,
        "score_ids": score_ids,
        "outcomes": outcomes.select_related("stakeholder", "credited_to")[:GOAL_SIDE_LIST],
        "outcome_total": outcomes.aggregate(total=Sum("value"), n=Count("pk")),
        "plans": plans,
    }
    if figures_visible:
        trend = dashboards.health_trend(scope, 365)
        index_chart, shares_chart = dashboards.health_chart(trend)
        context |= {
            "health": health_current(scope.kind, scope.id),
            "trend": trend,
            "index_chart": index_chart,
        }
    return render(request, "dashboards/goal_detail.html", context)


class PlanFilterForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=staff_users(),
        required=False,
        label=gettext_lazy("Owner of the plan"),
        empty_label=gettext_lazy("Everyone"),
    )
    goal = forms.ModelChoiceField(
        queryset=StrategicGoal.objects.all(),
        required=False,
        label=gettext_lazy("Goal"),
        empty_label=gettext_lazy("All goals"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select")


@staff_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """Relationship plans (objective, desired against actual strength, next review)."""
    form = PlanFilterForm(request.GET or None)
    plans = (
        Relationship.objects.visible_to(request.user)
        .filter(
            Q(objective__gt="") | Q(desired_strength__isnull=False) | Q(next_review__isnull=False)
        )
        .select_related("user", "stakeholder", "score")
    )
    if form.is_valid():
        if form.cleaned_data.get("user"):
            plans = plans.filter(user=form.cleaned_data["user"])
        if form.cleaned_data.get("goal"):
            plans = plans.filter(stakeholder__goal_links__goal=form.cleaned_data["goal"])
    page = paginate(
        request,
        plans.order_by(
            "user__first_name",
            "user__username",
            F("next_review").asc(nulls_last=True),
            "stakeholder__name",
            "pk",
        ),
    )
    return render(request, "dashboards/plan_list.html", {"form": form, "page": page})


@login_required
def how_scores_work(request: HttpRequest) -> HttpResponse:
    """Every formula and constant of DESIGN §3, read from the settings the maths uses."""
    from metrics import scoring
    from metrics.conf import score_settings
    from metrics.formatting import BALANCE_EVEN, BAND_FAIR, BAND_STRONG, format_money
    from metrics.formatting import localized as num
    from networks.graph import COVERAGE_STRENGTH, THREAD_STRENGTH
    from relations.querysets import KEY_IMPORTANCE

    cfg = score_settings()
    kinds = dict(Interaction.Kind.choices)

    def pct(value: float) -> str:
        return f"{num(value * 100, 0)}%"

    return render(
        request,
        "dashboards/how_scores_work.html",
        {
            "band_strong": BAND_STRONG,
            "band_fair": BAND_FAIR,
            "band_fair_top": BAND_STRONG - 1,
            "balance_even": num(BALANCE_EVEN * 100, 0),
            "half_life": num(cfg.half_life_days, 0),
            "ror_window": num(cfg.ror_window_days, 0),
            "hourly_rate": format_money(cfg.hourly_rate),
            "trust_weights": [
                (name, pct(float(cfg.trust_weights[name])))
                for name in ("reliability", "sentiment", "reciprocity")
            ],
            "kind_weights": [
                (kinds.get(kind, kind), num(float(weight), 1))
                for kind, weight in sorted(cfg.kind_weights.items(), key=lambda kw: -kw[1])
            ],
            "risk_low_trust": num(scoring.RISK_LOW_TRUST * 100, 0),
            "risk_trust_fall": num(scoring.RISK_TRUST_FALL * 100, 0),
            "risk_trust_fall_days": scoring.RISK_TRUST_FALL_DAYS,
            "risk_overdue_percent": num((scoring.RISK_OVERDUE_FACTOR - 1) * 100, 0),
            "risk_low_reciprocity": num(scoring.RISK_LOW_RECIPROCITY * 100, 0),
            "risk_min_volume": num(scoring.RISK_RECIPROCITY_MIN_VOLUME, 0),
            "thread_strength": num(THREAD_STRENGTH * 100, 0),
            "coverage_strength": num(COVERAGE_STRENGTH * 100, 0),
            "key_importance": KEY_IMPORTANCE,
            "top_k": scoring.TOP_K,
        },
    )


RECOMPUTE_JOBS_SHOWN = 10


@action_required(Action.START_RECOMPUTATION)
@require_http_methods(["GET", "POST"])
def recompute(request: HttpRequest) -> HttpResponse:
    """Start a full recomputation of the scores (then the network figures), as
    `POST /api/v1/recompute/` does, through the same task; the latest jobs below."""
    if request.method == "POST":
        with transaction.atomic():
            recompute_job_start(requested_by=request.user)
        messages.success(
            request,
            _("The recomputation was started: every score, then the network figures."),
        )
        return redirect("scores-recompute")
    jobs = RecomputeJob.objects.select_related("requested_by")[:RECOMPUTE_JOBS_SHOWN]
    return render(request, "dashboards/recompute.html", {"jobs": jobs})
