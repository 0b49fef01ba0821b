"""Read-only network endpoints of DESIGN §6, served from stored results."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from relations.models import Stakeholder, StrategicGoal, Team
from relations.querysets import parse_id
from relations.roles import figures_people_ids

from .. import services
from ..models import NetworkHealth, StakeholderThreads
from . import serializers

HISTORY_DAYS_MAX = 3650


def _scope(request: Request) -> tuple[str, int]:
    """The scope asked for: 404 when the team or goal is not visible, 403 when its
    figures are not the caller's to see (as `/dashboard/` and `/goals/<id>/`)."""
    query = serializers.ScopeQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    if team := query.validated_data.get("team"):
        get_object_or_404(Team.objects.visible_to(request.user), pk=team)
        scope, scope_id = NetworkHealth.Scope.TEAM, team
    elif goal := query.validated_data.get("goal"):
        get_object_or_404(StrategicGoal.objects.visible_to(request.user), pk=goal)
        scope, scope_id = NetworkHealth.Scope.GOAL, goal
    else:
        scope, scope_id = NetworkHealth.Scope.ORGANISATION, 0
    if not NetworkHealth.scope_visible_to(request.user, scope, scope_id):
        raise PermissionDenied(
            "Network-health figures are for directors and for the owner of a goal."
        )
    return scope, scope_id


def _figures(row: NetworkHealth | None) -> dict:
    if row is None:
        empty = dict.fromkeys(NetworkHealth.FIGURES)
        return {**empty, "at_risk_count": 0, "key_stakeholders": 0, "computed_at": None}
    return {**row.figures(), "computed_at": row.computed_at}


class NetworkHealthView(APIView):
    """Network health (DESIGN §4) of the organisation, a team (`?team=`) or a goal (`?goal=`)."""

    @extend_schema(
        parameters=[serializers.ScopeQuerySerializer], responses=serializers.HealthSerializer
    )
    def get(self, request: Request) -> Response:
        scope, scope_id = _scope(request)
        return Response(_figures(services.health_current(scope, scope_id)))


class NetworkHealthHistoryView(APIView):
    """Daily network-health snapshots for trend charts, oldest first."""

    @extend_schema(
        parameters=[serializers.ScopeQuerySerializer], responses=serializers.HealthHistorySerializer
    )
    def get(self, request: Request) -> Response:
        scope, scope_id = _scope(request)
        rows = NetworkHealth.objects.filter(scope=scope, scope_id=scope_id).order_by("-date")[
            :HISTORY_DAYS_MAX
        ]
        points = [{**_figures(row), "date": row.date} for row in reversed(list(rows))]
        return Response({"scope": scope, "scope_id": scope_id or None, "results": points})


class KeyPersonRiskView(APIView):
    """Users who are the only thread of key stakeholders, most at risk first.

    Directors see everyone; a manager sees their own entry.
    """

    @extend_schema(responses=serializers.KeyPersonRiskSerializer)
    def get(self, request: Request) -> Response:
        user_ids = figures_people_ids(request.user)
        computed_at = (
            StakeholderThreads.objects.order_by("-computed_at")
            .values_list("computed_at", flat=True)
            .first()
        )
        return Response(
            {"users": services.key_person_risk_rows(user_ids), "computed_at": computed_at}
        )


class IntroPathsView(APIView):
    """The three warmest introduction paths from a colleague to a stakeholder."""

    @extend_schema(responses=serializers.IntroPathsSerializer)
    def get(self, request: Request, pk: str) -> Response:
        # A str route, so that a malformed id is this API's JSON 404, not Django's HTML one.
        if (stakeholder_id := parse_id(pk)) is None:
            raise NotFound
        stakeholder = get_object_or_404(
            Stakeholder.objects.visible_to(request.user), pk=stakeholder_id
        )
        run, paths = services.stakeholder_intro_paths(stakeholder.pk, request.user)
        return Response({"paths": paths, "computed_at": run.finished_at if run else None})


class NetworkGraphView(APIView):
    """Nodes and edges for the network map, bounded in size (`truncated` says when cut).

    Directors see the whole network; a manager the part around the stakeholders
    whose scores they may see.
    """

    @extend_schema(
        parameters=[serializers.GraphQuerySerializer], responses=serializers.GraphSerializer
    )
    def get(self, request: Request) -> Response:
        query = serializers.GraphQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        if "team" in params:
            get_object_or_404(Team.objects.visible_to(request.user), pk=params["team"])
        if "goal" in params:
            get_object_or_404(StrategicGoal.objects.visible_to(request.user), pk=params["goal"])
        allowed = services.scope_stakeholder_ids(team=params.get("team"), goal=params.get("goal"))
        visible = Stakeholder.objects.scores_visible_ids(request.user)
        if visible is not None:
            allowed = visible if allowed is None else visible.intersection(allowed)
        if visible is not None and not allowed:
            raise PermissionDenied("You have no relationships in this part of the network yet.")
        return Response(
            services.graph_view(
                allowed_stakeholders=allowed,
                min_strength=params["min_strength"],
                limit=params["limit"],
            )
        )
