"""Daily score snapshots for pages that draw "trust over time" (issue 23), relative to
today (UTC, the snapshots' day): steady figures with one fall a week ago."""

from __future__ import annotations

from datetime import UTC, timedelta

from django.utils import timezone

from metrics.models import RelationshipScoreSnapshot, StakeholderScoreSnapshot
from relations.models import Relationship

FALL_DAYS_AGO = 7


def snapshots_with_a_fall(relationship: Relationship, days: int = 120) -> None:
    """`days` snapshots of the relationship and of its stakeholder: trust 0.78 and
    reliability 0.85 until a week ago, 0.58 and 0.45 since; reciprocity 0.7."""
    today = timezone.now().astimezone(UTC).date()
    for offset in range(days):
        fallen = offset <= FALL_DAYS_AGO
        figures = {
            "trust": 0.58 if fallen else 0.78,
            "reliability": 0.45 if fallen else 0.85,
            "reciprocity": 0.7,
            "strength": 0.5,
        }
        day = today - timedelta(days=offset)
        RelationshipScoreSnapshot.objects.update_or_create(
            relationship=relationship, date=day, defaults=figures
        )
        StakeholderScoreSnapshot.objects.update_or_create(
            stakeholder_id=relationship.stakeholder_id, date=day, defaults=figures
        )
