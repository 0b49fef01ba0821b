"""The header search (DESIGN §5a): stakeholders, organisations, interactions and goals
the user may see, grouped, as they type (htmx asks for the results fragment)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from relations.forms import STAKEHOLDER_FIELDS
from relations.models import Interaction, Organization, Stakeholder, StrategicGoal
from relations.pages import is_partial, staff_required
from relations.search.matching import query_words, search

# Per group: the header's dropdown stays short; the list pages hold the rest.
RESULTS_PER_GROUP = 5
# The fields each group looks in; the list pages' filters use the same.
ORGANIZATION_FIELDS = ("name", "sector", "country")
GOAL_FIELDS = ("title", "description")
INTERACTION_FIELDS = ("subject", "notes")


def search_results(user: User, query: str, limit: int = RESULTS_PER_GROUP) -> dict[str, Any]:
    """The groups of the header search, each a bounded list (one query per group)."""
    notes = Interaction.notes_readable_condition(user)
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
