"""Visibility rules of DESIGN §7, one queryset method per model.

Every page and every API endpoint starts from `Model.objects.visible_to(user)`,
so the rules live here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Exists, OuterRef, Q

from .roles import is_director, is_staff_member

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def _staff_only(qs: models.QuerySet, user: User | AnonymousUser) -> models.QuerySet:
    return qs if is_staff_member(user) else qs.none()


class StaffVisibleQuerySet(models.QuerySet):
    """Records every staff member may see (organisations, teams, goals, links)."""

    def visible_to(self, user: User | AnonymousUser) -> StaffVisibleQuerySet:
        return _staff_only(self, user)


class StakeholderQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> StakeholderQuerySet:
        return _staff_only(self, user)

    def involving(self, user: User) -> StakeholderQuerySet:
        """Stakeholders the user owns or has a relationship with."""
        from .models import Relationship

        member = Relationship.objects.filter(stakeholder=OuterRef("pk"), user=user)
        return self.filter(Q(owner=user) | Exists(member))

    def scores_visible_to(self, user: User | AnonymousUser) -> StakeholderQuerySet:
        """Directors see everyone's scores; a manager those of stakeholders they own or know."""
        if is_director(user):
            return self.all()
        if not is_staff_member(user):
            return self.none()
        return self.involving(user)

    def key(self) -> StakeholderQuerySet:
        """Key stakeholders: importance ≥ 4 or linked to an active strategic goal."""
        from .models import GoalStakeholder, StrategicGoal

        on_active_goal = GoalStakeholder.objects.filter(
            stakeholder=OuterRef("pk"), goal__status=StrategicGoal.Status.ACTIVE
        )
        return self.filter(Q(importance__gte=4) | Exists(on_active_goal))

    def with_key_flag(self) -> StakeholderQuerySet:
        from .models import GoalStakeholder, StrategicGoal

        on_active_goal = GoalStakeholder.objects.filter(
            stakeholder=OuterRef("pk"), goal__status=StrategicGoal.Status.ACTIVE
        )
        return self.annotate(on_active_goal=Exists(on_active_goal))


class RelationshipQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> RelationshipQuerySet:
        """A user's own relationships and every relationship with a stakeholder they
        own or know; directors see all."""
        if is_director(user):
            return self.all()
        if not is_staff_member(user):
            return self.none()
        from .models import Relationship

        member = Relationship.objects.filter(stakeholder=OuterRef("stakeholder"), user=user)
        return self.filter(Q(user=user) | Q(stakeholder__owner=user) | Exists(member))


class InteractionQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> InteractionQuerySet:
        """Participants, owners and relationship members of its stakeholders, directors."""
        if is_director(user):
            return self.all()
        if not is_staff_member(user):
            return self.none()
        from .models import Interaction, Relationship, Stakeholder

        participant = Interaction.internal_participants.through.objects.filter(
            interaction=OuterRef("pk"), user=user
        )
        through = Interaction.stakeholders.through.objects
        known = Stakeholder.objects.filter(
            Q(owner=user)
            | Exists(Relationship.objects.filter(stakeholder=OuterRef("pk"), user=user))
        )
        of_known_stakeholder = through.filter(interaction=OuterRef("pk"), stakeholder__in=known)
        return self.filter(Exists(participant) | Exists(of_known_stakeholder))

    def of_stakeholder(self, stakeholder_id: int) -> InteractionQuerySet:
        from .models import Interaction

        through = Interaction.stakeholders.through.objects
        return self.filter(
            Exists(through.filter(interaction=OuterRef("pk"), stakeholder_id=stakeholder_id))
        )


class StakeholderOwnedQuerySet(models.QuerySet):
    """Commitments and outcomes: visible with their stakeholder's relationship."""

    person_field: str = ""

    def visible_to(self, user: User | AnonymousUser) -> StakeholderOwnedQuerySet:
        if is_director(user):
            return self.all()
        if not is_staff_member(user):
            return self.none()
        from .models import Relationship

        member = Relationship.objects.filter(stakeholder=OuterRef("stakeholder"), user=user)
        return self.filter(
            Q(**{self.person_field: user})
            | Q(created_by=user)
            | Q(stakeholder__owner=user)
            | Exists(member)
        )


class CommitmentQuerySet(StakeholderOwnedQuerySet):
    person_field = "responsible"

    def open(self) -> CommitmentQuerySet:
        return self.filter(status="open")


class OutcomeQuerySet(StakeholderOwnedQuerySet):
    person_field = "credited_to"


class PulseQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> PulseQuerySet:
        """Pulses are personal assessments: their author, the relationship's user, directors."""
        if is_director(user):
            return self.all()
        if not is_staff_member(user):
            return self.none()
        return self.filter(Q(assessed_by=user) | Q(relationship__user=user))


class WebhookQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> WebhookQuerySet:
        """A webhook carries a secret: its owner only, and only directors register them."""
        return self.filter(owner=user) if is_director(user) else self.none()
