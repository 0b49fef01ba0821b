"""Scorecard pages: a person's own, and a team's for directors.

- `/people/<id>/scorecard/`: the person themselves or a director; anyone else 404.
- `/team/` (everyone, or `?team=`) and `/teams/<id>/`: directors only (others 404).
Figures come from `dashboards.scorecards`, a fixed number of queries for any team size.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dashboards import figures as dashboards
from dashboards import scorecards
from dashboards.scorecards import Period
from relations.models import Team
from relations.pages import DateInput, staff_required
from relations.querysets import parse_id
from relations.roles import Action, figures_of_person_visible_to, may, staff_users


def _preset_label(days: int) -> str:
    return _("Last %(days)d days") % {"days": days}


class PeriodForm(forms.Form):
    """A preset (the last 30, 90 or 365 days) or a custom range from/to (both included)."""

    period = forms.TypedChoiceField(
        label=gettext_lazy("Period"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [
            *[(d, _preset_label(d)) for d in scorecards.PERIOD_PRESETS],
            ("", _("Custom")),
        ]
        self.fields["from"] = forms.DateField(
            label=_("From"), required=False, widget=DateInput(attrs={"class": "form-control"})
        )
        self.fields["to"] = forms.DateField(
            label=_("To"), required=False, widget=DateInput(attrs={"class": "form-control"})
        )
        self.fields["period"].widget.attrs["class"] = "form-select"

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        # A preset wins over dates left in the form; "Custom" (no preset) uses them.
        custom = not self.data.get("period") and bool(self.data.get("from") or self.data.get("to"))
        if not custom:
            cleaned["from"] = cleaned["to"] = None
            self.errors.pop("from", None)
            self.errors.pop("to", None)
            return cleaned
        if start is None and "from" not in self.errors:
            self.add_error("from", _("Give the first day of the period."))
        if end is None and "to" not in self.errors:
            self.add_error("to", _("Give the last day of the period."))
        for name, day in (("from", start), ("to", end)):
            if day is not None and not scorecards.EARLIEST_DATE <= day <= scorecards.LATEST_DATE:
                self.add_error(
                    name,
                    _("Choose a date between %(first)s and %(last)s.")
                    % {"first": scorecards.EARLIEST_DATE, "last": scorecards.LATEST_DATE},
                )
        if start and end and not self.errors:
            if start > end:
                self.add_error("to", _("The last day must not be before the first."))
            elif (end - start).days + 1 > scorecards.MAX_PERIOD_DAYS:
                self.add_error(
                    "to",
                    _("A period spans at most %(days)d days.")
                    % {"days": scorecards.MAX_PERIOD_DAYS},
                )
        return cleaned

    def chosen(self, today: date | None = None) -> Period:
        """The chosen period; the default (the last 90 days) when the input is invalid."""
        default = Period.last(scorecards.DEFAULT_PERIOD_DAYS, today)
        if not self.is_bound or not self.is_valid():
            return default
        if self.cleaned_data.get("from") and self.cleaned_data.get("to"):
            return Period(self.cleaned_data["from"], self.cleaned_data["to"])
        days = self.cleaned_data.get("period")
        if days in scorecards.PERIOD_PRESETS:
            return Period.last(days, today)
        return default


def period_form(request: HttpRequest) -> PeriodForm:
    params = {k: request.GET.get(k) for k in ("period", "from", "to") if k in request.GET}
    return PeriodForm(params or None, initial={"period": scorecards.DEFAULT_PERIOD_DAYS})


def scorecard_person(user: User, pk: Any) -> User:
    """The staff member whose scorecard `user` asks for: themselves, or anyone for a
    director. Everything else is a 404 (DESIGN §7)."""
    wanted = parse_id(str(pk))
    if wanted is None:
        raise Http404
    if not figures_of_person_visible_to(user, wanted):
        raise Http404
    person = staff_users().filter(pk=wanted).first()
    if person is None:
        raise Http404
    return person


def _trend_chart(card: scorecards.Scorecard) -> dict:
    return dashboards.line_chart(
        [p.date.isoformat() for p in card.trend],
        {
            _("Mean trust"): [p.mean_trust for p in card.trend],
            _("Mean strength"): [p.mean_strength for p in card.trend],
        },
        y_min=0,
        y_max=1,
        percent=True,
        y_title=_("score, 0–100"),
    )


@staff_required
def person_scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    person = scorecard_person(request.user, pk)
    form = period_form(request)
    period = form.chosen()
    (card,) = scorecards.scorecards_for([person], period)
    context = {
        "form": form,
        "person": person,
        "card": card,
        "links": card.links(),
        "period": period,
        "previous": period.previous(),
        "is_self": person.pk == request.user.pk,
        "show_signals": may(request.user, Action.SEE_TEAM_FIGURES),
        "trend_chart": _trend_chart(card),
        "today": timezone.localdate(),
    }
    return render(request, "dashboards/scorecard.html", context)


class TeamChoiceForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        required=False,
        label=gettext_lazy("Team"),
        empty_label=gettext_lazy("Everyone"),
    )


def team_members(team: Team | None) -> QuerySet[User]:
    people = staff_users()
    if team is not None:
        people = people.filter(teams=team)
    return people


SORT_COLUMNS = [
    # (sort key, column title): RoR is shown but deliberately not sortable.
    ("name", gettext_lazy("Person")),
    ("kept_share", gettext_lazy("Kept")),
    ("overdue", gettext_lazy("Overdue promises")),
    ("adherence", gettext_lazy("Within cadence")),
    ("balance", gettext_lazy("Reciprocity balance")),
    ("trust", gettext_lazy("Mean trust")),
    ("strength", gettext_lazy("Mean strength")),
    ("at_risk", gettext_lazy("At risk")),
    ("active", gettext_lazy("Active relationships")),
    ("single_threaded", gettext_lazy("Only thread")),
    ("signals", gettext_lazy("Signals")),
]


def _team_page(request: HttpRequest, team: Team | None, team_form: TeamChoiceForm) -> HttpResponse:
    form = period_form(request)
    period = form.chosen()
    sort = request.GET.get("sort", "name")
    if sort.lstrip("-") not in scorecards.TEAM_SORTS:
        sort = "name"
    people = list(team_members(team))
    cards = scorecards.scorecards_for(people, period)
    total = scorecards.team_total(cards, period)
    rows = [
        {"card": card, "links": card.links(), "trust_series": card.trust_series}
        for card in scorecards.sort_cards(cards, sort)
    ]
    signals = [
        {"person": card.user, "signal": signal, "scorecard": card.links()["scorecard"]}
        for card in cards
        for signal in card.signals
    ]
    columns = [
        {
            "key": key,
            "title": title,
            "active": sort.lstrip("-") == key,
            "descending": sort.startswith("-"),
            "next": f"-{key}" if sort == key else key,
        }
        for key, title in SORT_COLUMNS
    ]
    context = {
        "teams": teams_side_by_side(cards, period) if team is None else [],
        "form": form,
        "team_form": team_form,
        "team": team,
        "period": period,
        "previous": period.previous(),
        "rows": rows,
        "total": total,
        "signals": signals,
        "columns": columns,
        "sort": sort,
    }
    return render(request, "dashboards/team_scorecard.html", context)


def teams_side_by_side(cards: list[scorecards.Scorecard], period: Period) -> list[dict]:
    """Each team's totals from its members' scorecards (already computed): one query."""
    by_user = {card.user.pk: card for card in cards}
    members: dict[int, list[scorecards.Scorecard]] = {}
    for team_id, user_id in Team.members.through.objects.values_list("team_id", "user_id"):
        if user_id in by_user:
            members.setdefault(team_id, []).append(by_user[user_id])
    return [
        {"team": team, "total": scorecards.team_total(members.get(team.pk, []), period)}
        for team in Team.objects.order_by("name")
    ]


@staff_required
def team_scorecard(request: HttpRequest) -> HttpResponse:
    """Every staff member side by side, or one team's (`?team=`): directors only."""
    if not may(request.user, Action.SEE_TEAM_FIGURES):
        raise Http404
    team_form = TeamChoiceForm(request.GET or None)
    team = team_form.cleaned_data.get("team") if team_form.is_valid() else None
    return _team_page(request, team, team_form)


@staff_required
def team_detail_scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    if not may(request.user, Action.SEE_TEAM_FIGURES):
        raise Http404
    team = get_object_or_404(Team, pk=pk)
    return _team_page(request, team, TeamChoiceForm(initial={"team": team.pk}))
