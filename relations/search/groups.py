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
# Names are guessed with one typo; the words of what was said are matched as typed
# (folded, any order). A typo pattern over a million subjects is no name lookup: its
# trigrams ("ita" and "ian" of "ital.an") pick tens of thousands of candidate rows.
INTERACTION_TYPO_FIELDS: tuple[str, ...] = ()
# Up to this many matching interactions are all fetched through the trigram indexes and
# the newest kept; past it, the words are common and the newest rows are walked instead.
FEW_MATCHES = 2000


def newest_interactions(user: User, query: str, limit: int) -> list[Interaction]:
    """The `limit` newest interactions the user may see that match `query`.

    No single plan suits every query: walking the newest rows finds a common word at
    once and a rare one only after a million rows; the trigram indexes find a rare word
    at once and a common one as a hundred thousand rows to sort. So the matches are
    counted up to `FEW_MATCHES` first (through the indexes), and the walk is taken only
    when the words are common. At most three queries."""
    notes = Interaction.notes_readable_condition(user)
    matching = search(
        Interaction.objects.visible_to(user),
        INTERACTION_FIELDS,
        query,
        extra={"notes": notes} if notes is not None else None,
        typo_fields=INTERACTION_TYPO_FIELDS,
    )
    few = list(matching.order_by().values_list("occurred_at", "pk")[: FEW_MATCHES + 1])
    if len(few) > FEW_MATCHES:
        return list(matching.order_by("-occurred_at", "-pk")[:limit])
    newest = [pk for _, pk in sorted(few, reverse=True)[:limit]]
    if not newest:
        return []
    return list(Interaction.objects.filter(pk__in=newest).order_by("-occurred_at", "-pk"))


def search_results(user: User, query: str, limit: int = RESULTS_PER_GROUP) -> dict[str, Any]:
    """The groups of the header search, each a bounded list (a query per group, and up
    to three for interactions: `newest_interactions`)."""
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
        "interactions": newest_interactions(user, query, limit),
        "goals": list(
            search(StrategicGoal.objects.visible_to(user).listed(), GOAL_FIELDS, query)[:limit]
        ),
    }
