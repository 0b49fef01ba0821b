"""The header search's groups (DESIGN §5a): the stakeholders, organisations,
interactions and goals a user may see that match a query, a few of each."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from relations.forms import STAKEHOLDER_FIELDS
from relations.models import Interaction, Organization, Stakeholder, StrategicGoal
from relations.search.matching import search

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
