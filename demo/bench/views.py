"""Bare Django views beside the API endpoints the benchmark measures.

Each returns `.values()` of the same rows as its API counterpart (same ordering,
same page size, the same count for lists) as JSON, with no authentication, no
serializer, no filtering and no audit: the floor against which the API's
requests per second are compared. Served only with `RAPPORT_BENCH_VIEWS=1`.
"""

from __future__ import annotations

import json

from django.contrib.auth.models import User
from django.db import transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from metrics.models import StakeholderScore
from relations.api.pagination import PageNumberPagination
from relations.models import Interaction, Stakeholder

STAKEHOLDER_COLUMNS = [
    "id",
    "name",
    "organization_id",
    "title",
    "email",
    "phone",
    "importance",
    "influence",
    "interest",
    "owner_id",
    "cadence_days",
    "legal_basis",
    "consent_date",
    "data_source",
    "notes",
    "created_at",
    "updated_at",
]


@require_GET
def stakeholder_list(request: HttpRequest) -> JsonResponse:
    rows = Stakeholder.objects.all()
    size = PageNumberPagination.page_size
    return JsonResponse(
        {"count": rows.count(), "results": list(rows.values(*STAKEHOLDER_COLUMNS)[:size])}
    )


@require_GET
def stakeholder_detail(request: HttpRequest, pk: int) -> JsonResponse:
    row = Stakeholder.objects.filter(pk=pk).values(*STAKEHOLDER_COLUMNS).first()
    if row is None:
        raise Http404
    return JsonResponse(row)


@require_GET
def stakeholder_scores(request: HttpRequest, pk: int) -> JsonResponse:
    row = StakeholderScore.objects.filter(stakeholder_id=pk).values().first()
    if row is None:
        raise Http404
    # `.values()` gives the stored (packed) explanation; the API renders it, so here too.
    row["explanation"] = StakeholderScore._meta.get_field("explanation").to_python(
        row["explanation"]
    )
    return JsonResponse(row)


@csrf_exempt
@require_POST
def interaction_create(request: HttpRequest) -> JsonResponse:
    """The same body as POST /api/v1/interactions/, saved with the bare ORM."""
    data = json.loads(request.body)
    creator = User.objects.get(pk=int(request.headers["X-Bench-User"]))
    with transaction.atomic():
        interaction = Interaction.objects.create(
            occurred_at=data["occurred_at"],
            kind=data["kind"],
            subject=data["subject"],
            value_given=data.get("value_given", 0),
            value_received=data.get("value_received", 0),
            duration_minutes=data.get("duration_minutes", 0),
            created_by=creator,
        )
        interaction.stakeholders.set(data["stakeholders"])
        interaction.internal_participants.set([creator])
    return JsonResponse(Interaction.objects.filter(pk=interaction.pk).values().first(), status=201)
