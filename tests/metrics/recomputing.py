"""Recomputing named stakeholders or relationships, through the worker's incremental path.

The product recomputes what the dirty markers name (`scores_recompute` with
stakeholder ids and (user, stakeholder) pairs); the tests name their groups
directly, so these two helpers turn ids into that call.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from metrics.recompute import scores_recompute
from relations.models import Relationship


def stakeholder_scores_recompute(stakeholder_ids: Iterable[int], at: datetime | None = None) -> int:
    """Recompute and store these stakeholders' stakeholder-level scores; how many were stored."""
    return scores_recompute(stakeholder_ids=stakeholder_ids, at=at)[0]


def relationship_scores_recompute(
    relationship_ids: Iterable[int] | None = None,
    *,
    pairs: Iterable[tuple[int, int]] | None = None,
    at: datetime | None = None,
) -> int:
    """Recompute and store relationship-level scores, by relationship id or (user, stakeholder)."""
    if relationship_ids is not None:
        pairs = Relationship.objects.filter(pk__in=list(relationship_ids)).values_list(
            "user_id", "stakeholder_id"
        )
    return scores_recompute(pairs=pairs or (), at=at)[1]
