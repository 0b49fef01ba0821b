"""The header search (DESIGN §5a): stakeholders, organisations, interactions and goals
the user may see, grouped, as they type (htmx asks for the results fragment)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from relations.forms import STAKEHOLDER_FIELDS
from relations.models import Interaction, Organization, Stakeholder, StrategicGoal
from relations.pages import is_partial, staff_required
from relations.roles import is_director
from relations.search.matching import query_words, search

# Per group: the header's dropdown stays short; the list pages hold the rest.
RESULTS_PER_GROUP = 5
# The fields each group looks in; the list pages' filters use the same.
ORGANIZATION_FIELDS = ("name", "sector", "country")
GOAL_FIELDS = ("title", "description")
INTERACTION_FIELDS = ("subject", "notes")


def interaction_notes_readable(user: User) -> Q | None:
    """Where a private interaction's notes may be searched: as `notes_visible_to`, its
    participants and directors (None: everywhere)."""
    if is_director(user):
        return None
    participant = Interaction.internal_participants.through.objects.filter(
        interaction=OuterRef("pk"), user=user
    )
    return Q(private=False) | Exists(participant)


def search_results(user: User, query: str, limit: int = RESULTS_PER_GROUP) -> dict[str, Any]:
    """The groups of the header search, each a bounded list (one query per group)."""
    notes = interaction_notes_readable(user)
    return {
        "stakeholders": list(
            search(
                Stakeholder.objects.visible_to(user).listed().select_related("organization"),
                STAKEHOLDER_FIELDS,
                query,
            )[:limit]
        ),
        "organizations": list(
            search(Organization.objects.visible_to(user).listed(), ORGANIZATION_FIELDS, query)[
                :limit
            ]
        ),
        "interactions": list(
            search(
                Interaction.objects.visible_to(user),
                INTERACTION_FIELDS,
                query,
                extra={"notes": notes} if notes is not None else None,
            ).order_by("-occurred_at", "-pk")[:limit]
        ),
        "goals": list(
            search(StrategicGoal.objects.visible_to(user).listed(), GOAL_FIELDS, query)[:limit]
        ),
    }


@staff_required
@require_GET
def header_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").replace("\x00", "")[:200]
    context: dict[str, Any] = {"q": query, "searched": bool(query_words(query))}
    if context["searched"]:
        context["results"] = search_results(request.user, query)
        context["found"] = any(context["results"].values())
    if is_partial(request):
        return render(request, "relations/search/results.html", context)
    return render(request, "relations/search/page.html", context)
