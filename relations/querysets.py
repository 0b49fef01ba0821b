"""Visibility rules of DESIGN §7, one queryset method per model.

Every page and every API endpoint starts from `Model.objects.visible_to(user)`,
so the rules live here and nowhere else. Ids taken from untrusted text (URLs,
query strings, form values) are read here too (`parse_id`), and an `id__in` lookup
with ids beyond the column's range matches nothing for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    Func,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.lookups import In

from relations.matching import KeyFillingQuerySet
from relations.roles import is_director, is_staff_member

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.models import AnonymousUser, User


# ASCII digits only ('³'.isdigit() is True, but int('³') fails), and few enough
# of them to fit PostgreSQL's bigint: anything else is simply not an id.
_ID = re.compile(r"[0-9]{1,18}")


def parse_id(value: object) -> int | None:
    text = str(value)
    return int(text) if _ID.fullmatch(text) else None


@models.IntegerField.register_lookup
class IntegerFieldIn(In):
    """`id__in=[...]` with values beyond the column's range matches nothing for them,
    as Django's own exact and comparison lookups on integers do: a 20-digit id typed
    into a form (a multiple choice: stakeholders, participants) is simply no record,
    not an OverflowError from SQLite or a DataError from PostgreSQL."""

    def process_rhs(self, compiler, connection):  # noqa: ANN001, ANN201 (Django's)
        if self.rhs_is_direct_value():
            internal_type = self.lhs.output_field.get_internal_type()
            low, high = connection.ops.integer_field_range(internal_type)
            kept = [
                value
                for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
            if not kept:
                raise EmptyResultSet
            self.rhs = kept
        return super().process_rhs(compiler, connection)


# Importance at which a stakeholder is key whatever the goals (DESIGN §3: 4 "high" and
# 5 "critical"); the other way to be key is a link to an active strategic goal.
KEY_IMPORTANCE = 4


class AmongOnce(Func):
    """PostgreSQL's `column = ANY(ARRAY(subquery))`: the subquery runs once, as an
    InitPlan, and its values are looked up in the column's index, whatever the
    statistics say (an IN or EXISTS may become a join the planner orders badly)."""

    arg_joiner = " = ANY(ARRAY"
    template = "(%(expressions)s))"
    output_field = BooleanField()
    conditional = True


def _staff_only(qs: models.QuerySet, user: User | AnonymousUser) -> models.QuerySet:
    return qs if is_staff_member(user) else qs.none()


class ListedQuerySet(models.QuerySet):
    def listed(self) -> models.QuerySet:
        """What the lists, pickers and search show: archived records leave them (DESIGN
        §5a) but stay in every figure, which never call this."""
        return self.filter(archived_at__isnull=True)


class StaffVisibleQuerySet(ListedQuerySet):
    """Records every staff member may see (organisations, teams, goals, links)."""

    def visible_to(self, user: User | AnonymousUser) -> StaffVisibleQuerySet:
        return _staff_only(self, user)


def _involving(user: User) -> Q:
    from relations.models import Relationship

    member = Relationship.objects.filter(stakeholder=OuterRef("pk"), user=user)
    return Q(owner=user) | Exists(member)


class GoalQuerySet(StaffVisibleQuerySet):
    """Strategic goals: every staff member sees them; their owner and directors change
    them and see their network-health figures (DESIGN §7)."""

    def editable_by(self, user: User | AnonymousUser) -> GoalQuerySet:
        if is_director(user):
            return self.all()
        if not is_staff_member(user):
            return self.none()
        return self.filter(owner=user)

    def health_visible_to(self, user: User | AnonymousUser) -> GoalQuerySet:
        return self.editable_by(user)


class OrganizationQuerySet(KeyFillingQuerySet, StaffVisibleQuerySet):
    """Organisations: every staff member sees them; their name key stays filled."""


class StakeholderQuerySet(KeyFillingQuerySet, ListedQuerySet):
    def visible_to(self, user: User | AnonymousUser) -> StakeholderQuerySet:
        return _staff_only(self, user)

    def involving(self, user: User) -> StakeholderQuerySet:
        """Stakeholders the user owns or has a relationship with."""
        return self.filter(_involving(user))

    @staticmethod
    def last_contacts(
        user: User | AnonymousUser, stakeholder_ids: list[int]
    ) -> dict[int, datetime]:
        """For these stakeholders (a page's), the moment of the latest interaction with
        each that `user` may see: a list tells no more than the timelines would. One
        query over those stakeholders' interaction links, visibility checked on each
        link once (a semi-join), never per stakeholder row (issue #22)."""
        from relations.models import Interaction

        if not stakeholder_ids or not is_staff_member(user):
            return {}
        rows = Interaction.stakeholders.through.objects.filter(stakeholder_id__in=stakeholder_ids)
        if not is_director(user):
            rows = rows.filter(InteractionQuerySet.visibility_condition(user, "interaction_id"))
        latest = (
            rows.values("stakeholder_id")
            .annotate(latest=Max("interaction__occurred_at"))
            .values_list("stakeholder_id", "latest")
        )
        return dict(latest)

    def scores_visible_to(self, user: User | AnonymousUser) -> StakeholderQuerySet:
        """Directors see everyone's scores; a manager those of stakeholders they own or know."""
        if is_director(user):
            return self.all()
        if not is_staff_member(user):
            return self.none()
        return self.involving(user)

    def scores_visible_ids(self, user: User | AnonymousUser) -> set[int] | None:
        """The ids of `scores_visible_to(user)`, or None when that is every stakeholder
        (a director): callers then skip the filter instead of listing every id."""
        if is_director(user):
            return None
        return set(self.scores_visible_to(user).values_list("pk", flat=True))

    def with_scores_visible(self, user: User | AnonymousUser) -> StakeholderQuerySet:
        """Annotate `scores_visible`: whether `scores_visible_to(user)` holds the row, read
        with the row (the scores endpoint's 404). A condition on the row itself rather
        than a nested `pk IN scores_visible_to(...)`: cheaper to build, nothing for a
        director."""
        if is_director(user):
            flag = Value(True)
        elif not is_staff_member(user):
            flag = Value(False)
        else:
            # A CASE, not the bare condition: `owner = …` is NULL for an unowned row.
            flag = Case(When(_involving(user), then=Value(True)), default=Value(False))
        return self.annotate(scores_visible=flag)

    def of_scope(self, *, team: int | None = None, goal: int | None = None) -> StakeholderQuerySet:
        """The stakeholders of a team (owned by one of its members) or of a goal (linked
        to it); all of them without either. The one definition of a scope: network
        health counts these, the dashboard lists them."""
        from relations.models import GoalStakeholder, Team

        if team is not None:
            member = Team.members.through.objects.filter(team_id=team, user_id=OuterRef("owner_id"))
            return self.filter(Exists(member))
        if goal is not None:
            linked = GoalStakeholder.objects.filter(goal_id=goal, stakeholder=OuterRef("pk"))
            return self.filter(Exists(linked))
        return self.all()

    def key(self) -> StakeholderQuerySet:
        """Key stakeholders: importance ≥ `KEY_IMPORTANCE` or linked to an active strategic
        goal (`Stakeholder.is_key` answers for one row)."""
        from relations.models import GoalStakeholder, StrategicGoal

        on_active_goal = GoalStakeholder.objects.filter(
            stakeholder=OuterRef("pk"), goal__status=StrategicGoal.Status.ACTIVE
        )
        return self.filter(Q(importance__gte=KEY_IMPORTANCE) | Exists(on_active_goal))

    def with_key_flag(self) -> StakeholderQuerySet:
        from relations.models import GoalStakeholder, StrategicGoal

        on_active_goal = GoalStakeholder.objects.filter(
            stakeholder=OuterRef("pk"), goal__status=StrategicGoal.Status.ACTIVE
        )
        return self.annotate(on_active_goal=Exists(on_active_goal))


class RelationshipQuerySet(ListedQuerySet):
    def visible_to(self, user: User | AnonymousUser) -> RelationshipQuerySet:
        """A user's own relationships and every relationship with a stakeholder they
        own or know; directors see all."""
        if is_director(user):
            return self.all()
        if not is_staff_member(user):
            return self.none()
        from relations.models import Relationship

        member = Relationship.objects.filter(stakeholder=OuterRef("stakeholder"), user=user)
        return self.filter(Q(user=user) | Q(stakeholder__owner=user) | Exists(member))

    def scores_visible_to(self, user: User | AnonymousUser) -> RelationshipQuerySet:
        """A relationship's own scores and pulses: its user and directors (DESIGN §7); a
        colleague who also knows the stakeholder sees the stakeholder's scores only."""
        if is_director(user):
            return self.all()
        if not is_staff_member(user):
            return self.none()
        return self.filter(user=user)

    def with_scores_visible(self, user: User | AnonymousUser) -> RelationshipQuerySet:
        """Annotate `scores_visible`: whether `scores_visible_to(user)` holds the row, read
        with the row (a condition on the row, as `StakeholderQuerySet.with_scores_visible`)."""
        if is_director(user):
            flag = Value(True)
        elif not is_staff_member(user):
            flag = Value(False)
        else:
            flag = Case(When(user=user, then=Value(True)), default=Value(False))
        return self.annotate(scores_visible=flag)

    def with_latest_pulse(self, user: User | AnonymousUser) -> RelationshipQuerySet:
        """Annotate the latest pulse `user` may see on each row (the one the relationship
        page shows beside trust): `latest_pulse_id`, `latest_pulse_on` and
        `latest_pulse_score` (0–1, as `AuthenticityPulse.score`); null without one."""
        from relations.models import AuthenticityPulse

        latest = (
            AuthenticityPulse.objects.visible_to(user)
            .filter(relationship=OuterRef("pk"))
            .order_by("-assessed_on", "-pk")
        )
        return self.annotate(
            latest_pulse_id=Subquery(latest.values("pk")[:1]),
            latest_pulse_on=Subquery(latest.values("assessed_on")[:1]),
            latest_pulse_score=Subquery(
                latest.annotate(pulse_score=AuthenticityPulse.score_expression()).values(
                    "pulse_score"
                )[:1],
                output_field=models.FloatField(),
            ),
        )


class InteractionQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> InteractionQuerySet:
        """Participants, owners and relationship members of its stakeholders, directors."""
        if is_director(user):
            return self.all()
        if not is_staff_member(user):
            return self.none()

        return self.filter(self.visibility_condition(user, "pk"))

    @staticmethod
    def visibility_condition(user: User, interaction_field: str) -> Q:
        """`visible_to(user)` (for a staff member who is not a director) as a condition
        on the rows of any query whose `interaction_field` holds an interaction id:
        a query over interaction links then checks visibility without reading the
        interactions table per row."""
        from relations.models import Interaction, Relationship, Stakeholder

        participant = Interaction.internal_participants.through.objects.filter(
            interaction_id=OuterRef(interaction_field), user=user
        )
        # "Known" is two sets of stakeholder ids, each computed once per query and
        # probed for the interaction's own stakeholder rows; never a scan of all
        # stakeholders per interaction (without planner statistics that scan ran once
        # per row of a million-row index walk, issue #22).
        known = Q(stakeholder_id__in=Stakeholder.objects.filter(owner=user).values("pk")) | Q(
            stakeholder_id__in=Relationship.objects.filter(user=user).values("stakeholder_id")
        )
        of_known_stakeholder = Interaction.stakeholders.through.objects.filter(
            known, interaction_id=OuterRef(interaction_field)
        )
        return Q(Exists(participant)) | Q(Exists(of_known_stakeholder))

    def of_stakeholder(self, stakeholder_id: int) -> InteractionQuerySet:
        from relations.models import Interaction

        through = Interaction.stakeholders.through.objects
        if connection.vendor == "postgresql":
            # The stakeholder's interaction ids first (one index read, run once), every
            # other condition checked on those rows only. As a semi-join the planner
            # may instead walk the whole occurred_at index looking for this
            # stakeholder's rows, as it did right after a bulk load (issue #22).
            ids = through.filter(stakeholder_id=stakeholder_id).values("interaction_id")
            return self.filter(AmongOnce(F("pk"), Subquery(ids)))
        return self.filter(
            Exists(through.filter(interaction=OuterRef("pk"), stakeholder_id=stakeholder_id))
        )

    def with_people(self, *, organizations: bool = False) -> InteractionQuerySet:
        """Prefetch each interaction's stakeholders (and their organisations) and staff
        participants, in no order: pages sort a row's few names themselves. With an
        ORDER BY name the planner may walk a whole name index to find one page's
        people (50,000 probes, 2 s, right after a bulk load; issue #22)."""
        from relations.models import Stakeholder

        people = Stakeholder.objects.order_by()
        if organizations:
            people = people.select_related("organization")
        return self.prefetch_related(
            "internal_participants", models.Prefetch("stakeholders", queryset=people)
        )


class StakeholderOwnedQuerySet(models.QuerySet):
    """Commitments and outcomes: visible with their stakeholder's relationship."""

    person_field: str = ""

    def visible_to(self, user: User | AnonymousUser) -> StakeholderOwnedQuerySet:
        if is_director(user):
            return self.all()
        if not is_staff_member(user):
            return self.none()
        from relations.models import Relationship

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


class OutcomeQuerySet(ListedQuerySet, StakeholderOwnedQuerySet):
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


class AuditEventQuerySet(models.QuerySet):
    """Audit events are append-only (`AuditEvent.save` refuses updates).

    `mask_for_erasure` is the single sanctioned exception: an erased person's
    data must not survive in the audit trail (GDPR Art. 17), while the events
    themselves (who did what, when) stay.
    """

    def mask_for_erasure(
        self,
        *,
        object_type: str,
        object_id: str,
        own_fields: Iterable[str],
        pattern: re.Pattern[str] | None,
        needles: Iterable[str],
        related: dict[str, list[str]] | None = None,
    ) -> int:
        """Mask the person's data in the audit trail; returns how many events changed.

        The events of the person's own record (`object_type`, `object_id`) lose
        their description and the values of `own_fields`; every event whose
        description or changes mention the person (`pattern`; `needles` find the
        candidates in the database) has the mentions replaced, as has every event
        of the `related` records (object type → ids: the person's interactions,
        commitments…). Nothing else of an event changes.
        """
        from django.db.models import TextField
        from django.db.models.functions import Cast

        from relations.privacy.redaction import (
            ERASED,
            mask_keys,
            needles_regex,
            redact_json,
            redact_text,
        )

        mentions = Q()
        for related_type, ids in (related or {}).items():
            if ids:
                mentions |= Q(object_type=related_type, object_id__in=ids)
        regex = needles_regex(needles)
        if regex:
            mentions |= Q(object_repr__iregex=regex) | Q(changes_text__iregex=regex)
        candidates = self.annotate(changes_text=Cast("changes", TextField())).filter(
            Q(object_type=object_type, object_id=object_id) | mentions
        )
        changed = 0
        for event_id, otype, oid, repr_, changes in candidates.values_list(
            "pk", "object_type", "object_id", "object_repr", "changes"
        ):
            own = (otype, oid) == (object_type, object_id)
            new_repr = ERASED if own else redact_text(repr_, pattern)
            new_changes = mask_keys(changes, own_fields) if own else changes
            new_changes = redact_json(new_changes, pattern)
            if (new_repr, new_changes) != (repr_, changes):
                # .update(), not save(): the sanctioned mutation (see the class docstring).
                self.model.objects.filter(pk=event_id).update(
                    object_repr=new_repr, changes=new_changes
                )
                changed += 1
        return changed
