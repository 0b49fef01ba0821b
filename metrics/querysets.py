"""Who may read stored scores (DESIGN §7): directors all; a manager those of their own
relationships and of the stakeholders they own or take part in. The rules themselves
are `scores_visible_to` of the relations querysets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from relations.models import Relationship, Stakeholder

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class StakeholderScoreQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> StakeholderScoreQuerySet:
        return self.filter(stakeholder__in=Stakeholder.objects.scores_visible_to(user))


class RelationshipScoreQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> RelationshipScoreQuerySet:
        return self.filter(relationship__in=Relationship.objects.scores_visible_to(user))
