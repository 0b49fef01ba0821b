"""Who may read stored scores (DESIGN §7): directors all; a manager those of their own
relationships and of the stakeholders they own or take part in. The rules themselves
are `scores_visible_to` of the relations querysets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Case, F, Value, When
from django.db.models.functions import Abs
from django.db.models.lookups import GreaterThanOrEqual

from relations.models import Relationship, Stakeholder

from .pulse import PULSE_GAP_THRESHOLD, PULSE_GAP_TOLERANCE

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class StakeholderScoreQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> StakeholderScoreQuerySet:
        return self.filter(stakeholder__in=Stakeholder.objects.scores_visible_to(user))


class RelationshipScoreQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> RelationshipScoreQuerySet:
        return self.filter(relationship__in=Relationship.objects.scores_visible_to(user))


def relationships_with_review(relationships: models.QuerySet, user: User | AnonymousUser):
    """THE definition of "flagged for review", for the relationship page, the
    relationships API (`?review=true`) and the relationship-scores endpoint alike.

    A relationship is flagged when the latest pulse the viewer may see and the stored
    computed trust differ by `PULSE_GAP_THRESHOLD` or more (`metrics.pulse.pulse_gap`
    says the same of two numbers). Only whoever may see the relationship's scores sees
    the flag (its user and directors; null for the others, who also see no trust);
    without a pulse or a computed trust there is nothing to disagree: not flagged.

    Expects rows annotated by `Relationship.objects.with_latest_pulse(user)`; adds
    `scores_visible`, `review_trust`, `flagged_for_review` and `review_direction`.
    """
    rows = relationships.with_scores_visible(user).annotate(
        review_trust=Case(
            When(scores_visible=True, then=F("score__trust")),
            default=Value(None),
            output_field=models.FloatField(),
        )
    )
    gap = Abs(F("latest_pulse_score") - F("review_trust"))
    disagree = GreaterThanOrEqual(gap, Value(PULSE_GAP_THRESHOLD - PULSE_GAP_TOLERANCE))
    return rows.annotate(
        flagged_for_review=Case(
            When(scores_visible=False, then=Value(None)),
            When(disagree, then=Value(True)),
            default=Value(False),
            output_field=models.BooleanField(),
        ),
        review_direction=Case(
            When(
                flagged_for_review=True,
                latest_pulse_score__gt=F("review_trust"),
                then=Value("higher"),
            ),
            When(flagged_for_review=True, then=Value("lower")),
            default=Value(None),
            output_field=models.CharField(),
        ),
    )
