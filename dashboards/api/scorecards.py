"""`GET /api/v1/users/{id}/scorecard/` and `/api/v1/teams/{id}/scorecard/`.

A person's scorecard: the person themselves or a director; a team's: directors.
Anyone else gets 404, as for any record they may not see (DESIGN §7).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards import scorecards
from dashboards.scorecard_views import PeriodForm, scorecard_person, team_members
from dashboards.scorecards import Period, Scorecard
from relations.models import Team
from relations.querysets import parse_id
from relations.roles import Action, may


class PeriodSerializer(serializers.Serializer):
    # `from` is a Python keyword: the field is added by name below.
    to = serializers.DateField(source="end")
    days = serializers.IntegerField()

    def get_fields(self) -> dict:
        fields = super().get_fields()
        return {"from": serializers.DateField(source="start"), **fields}


class CommitmentCountsSerializer(serializers.Serializer):
    kept = serializers.IntegerField()
    broken = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text="Still open past the due date (today).")
    pending = serializers.IntegerField(help_text="Open, not yet due: not counted.")
    counted = serializers.IntegerField(help_text="kept + broken + overdue.")
    kept_share = serializers.FloatField(allow_null=True)
    broken_share = serializers.FloatField(allow_null=True)
    overdue_share = serializers.FloatField(allow_null=True)


class CommitmentsSerializer(CommitmentCountsSerializer):
    previous = CommitmentCountsSerializer(help_text="The previous period of the same length.")
    kept_share_change = serializers.FloatField(allow_null=True)


class CadenceSerializer(serializers.Serializer):
    owned = serializers.IntegerField()
    within = serializers.IntegerField()
    overdue = serializers.IntegerField()
    never = serializers.IntegerField()
    outside = serializers.IntegerField(help_text="overdue + never contacted.")
    adherence = serializers.FloatField(allow_null=True, help_text="within / owned.")
    previous_adherence = serializers.FloatField(allow_null=True)
    adherence_change = serializers.FloatField(allow_null=True)


class ReciprocitySerializer(serializers.Serializer):
    relationships = serializers.IntegerField(help_text="Relationships not ended.")
    given = serializers.FloatField()
    received = serializers.FloatField()
    balance = serializers.FloatField(
        allow_null=True, help_text="(given − received) / (given + received); < 0: mostly taking."
    )
    taking = serializers.IntegerField(help_text="Relationships with balance ≤ −1/3.")


class PortfolioSerializer(serializers.Serializer):
    owned = serializers.IntegerField()
    mean_trust = serializers.FloatField(allow_null=True)
    mean_strength = serializers.FloatField(allow_null=True)
    at_risk = serializers.IntegerField()


class BreadthSerializer(serializers.Serializer):
    active_relationships = serializers.IntegerField()
    single_threaded_key = serializers.IntegerField(
        allow_null=True,
        help_text=(
            "Key stakeholders for whom this person is the only thread, from the latest "
            "network computation: null for a period that ended before today (the "
            "network is known for now only)."
        ),
    )


class RorSerializer(serializers.Serializer):
    investment = serializers.FloatField()
    ror = serializers.FloatField(allow_null=True)

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["return"] = serializers.FloatField()
        return fields


class TrendPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    mean_trust = serializers.FloatField(allow_null=True)
    mean_strength = serializers.FloatField(allow_null=True)
    at_risk = serializers.IntegerField()


class SlippedSerializer(serializers.Serializer):
    stakeholder = serializers.IntegerField()
    name = serializers.CharField()
    missed = serializers.IntegerField(help_text="Broken or overdue promises of the period.")


class SignalSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=["kept_share_fell", "overdue_commitments", "overdue_contacts", "single_threaded"]
    )
    reason = serializers.CharField()
    url = serializers.CharField(help_text="The browser list of the items behind the signal.")
    stakeholders = SlippedSerializer(
        many=True, help_text="Follow-through signals: the stakeholders whose promises slipped."
    )


class FiguresSerializer(serializers.Serializer):
    period = PeriodSerializer()
    previous_period = PeriodSerializer()
    commitments = CommitmentsSerializer()
    cadence = CadenceSerializer()
    reciprocity = ReciprocitySerializer()
    portfolio = PortfolioSerializer()
    breadth = BreadthSerializer()
    ror = RorSerializer()
    scores_as_of = serializers.DateField(
        allow_null=True,
        help_text=(
            "The day reciprocity, portfolio, breadth and RoR are taken from (the latest "
            "daily score snapshots on or before it): the period's last day when it "
            "ended before today; null when they are the current stored scores."
        ),
    )


class PersonScorecardSerializer(FiguresSerializer):
    user = serializers.IntegerField()
    name = serializers.CharField()
    trend = TrendPointSerializer(many=True)
    signals = SignalSerializer(many=True)
    links = serializers.DictField(
        child=serializers.CharField(), help_text="Browser lists of the items behind each figure."
    )


class TeamScorecardSerializer(serializers.Serializer):
    team = serializers.IntegerField()
    name = serializers.CharField()
    totals = FiguresSerializer()
    members = PersonScorecardSerializer(many=True)


def _counts(figures: scorecards.CommitmentFigures) -> dict[str, Any]:
    return {
        "kept": figures.kept,
        "broken": figures.broken,
        "overdue": figures.overdue,
        "pending": figures.pending,
        "counted": figures.counted,
        "kept_share": figures.kept_share,
        "broken_share": figures.broken_share,
        "overdue_share": figures.overdue_share,
    }


def _period(period: Period) -> dict[str, Any]:
    return {"start": period.start, "end": period.end, "days": period.days}


def figures(card: Scorecard) -> dict[str, Any]:
    portfolio = card.portfolio
    return {
        "period": _period(card.period),
        "previous_period": _period(card.period.previous()),
        "commitments": {
            **_counts(card.commitments),
            "previous": _counts(card.previous_commitments),
            "kept_share_change": card.kept_share_change,
        },
        "cadence": {
            "owned": card.cadence.owned,
            "within": card.cadence.within,
            "overdue": card.cadence.overdue,
            "never": card.cadence.never,
            "outside": card.cadence.outside,
            "adherence": card.cadence.adherence,
            "previous_adherence": card.previous_cadence.adherence,
            "adherence_change": card.adherence_change,
        },
        "reciprocity": {
            "relationships": card.reciprocity.relationships,
            "given": card.reciprocity.given,
            "received": card.reciprocity.received,
            "balance": card.reciprocity.balance,
            "taking": card.reciprocity.taking,
        },
        "portfolio": {
            "owned": card.cadence.owned,
            "mean_trust": portfolio.mean_trust,
            "mean_strength": portfolio.mean_strength,
            "at_risk": portfolio.at_risk,
        },
        "breadth": {
            "active_relationships": card.reciprocity.active,
            "single_threaded_key": card.single_threaded_key,
        },
        "ror": {
            "return": portfolio.return_value,
            "investment": portfolio.investment,
            "ror": portfolio.ror,
        },
        "scores_as_of": card.scores_as_of,
    }


def person_data(card: Scorecard, request: Request) -> dict[str, Any]:
    user = card.user
    return {
        "user": user.pk,
        "name": user.get_full_name() or user.username,
        **figures(card),
        "trend": [asdict(point) for point in card.trend],
        "signals": [
            {
                "code": s.code,
                "reason": s.reason,
                "url": request.build_absolute_uri(s.url),
                "stakeholders": [
                    {"stakeholder": i.stakeholder_id, "name": i.name, "missed": i.missed}
                    for i in s.stakeholders
                ],
            }
            for s in card.signals
        ],
        "links": {name: request.build_absolute_uri(url) for name, url in card.links().items()},
    }


PERIOD_PARAMETERS = [
    OpenApiParameter(
        "period",
        int,
        enum=list(scorecards.PERIOD_PRESETS),
        description="The last 30, 90 or 365 days (default 90); wins over `from`/`to`.",
    ),
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description="First day of a custom period (with `to`)."
    ),
    OpenApiParameter(
        "to",
        OpenApiTypes.DATE,
        description=f"Last day of a custom period; at most {scorecards.MAX_PERIOD_DAYS} days.",
    ),
]


def requested_period(request: Request) -> Period:
    params = {k: request.query_params.get(k) for k in ("period", "from", "to")}
    params = {k: v for k, v in params.items() if v is not None}
    if not params:
        return Period.last(scorecards.DEFAULT_PERIOD_DAYS)
    form = PeriodForm(params)
    if not form.is_valid():
        raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
    return form.chosen()


class UserScorecardView(APIView):
    """A staff member's professional scorecard over a period: themselves or directors."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=PersonScorecardSerializer)
    def get(self, request: Request, pk: str) -> Response:
        try:
            person = scorecard_person(request.user, pk)
        except Http404 as missing:
            raise NotFound from missing
        period = requested_period(request)
        (card,) = scorecards.scorecards_for([person], period)
        return Response(PersonScorecardSerializer(person_data(card, request)).data)


class TeamScorecardView(APIView):
    """A team's figures (totals) and each member's scorecard side by side: directors."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=TeamScorecardSerializer)
    def get(self, request: Request, pk: str) -> Response:
        team_id = parse_id(pk)
        team = Team.objects.filter(pk=team_id).first() if team_id is not None else None
        if team is None or not may(request.user, Action.SEE_TEAM_FIGURES):
            raise NotFound
        period = requested_period(request)
        cards = scorecards.scorecards_for(list(team_members(team)), period)
        total = scorecards.team_total(cards, period)
        body = {
            "team": team.pk,
            "name": team.name,
            "totals": figures(total),
            "members": [person_data(card, request) for card in cards],
        }
        return Response(TeamScorecardSerializer(body).data)
