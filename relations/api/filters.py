"""List filters. Invalid values answer 400 naming the parameter (django-filter's forms)."""

from __future__ import annotations

import django_filters as df
from django import forms
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet
from rest_framework.filters import SearchFilter

from relations.models import (
    INTERACTION_YEARS,
    Commitment,
    Interaction,
    Organization,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
    StrategicGoal,
    Team,
    in_interaction_years,
)


class SafeSearchFilter(SearchFilter):
    """`?search=`; NUL characters (which PostgreSQL rejects) are dropped, long input cut."""

    def get_search_terms(self, request) -> list[str]:
        value = request.query_params.get(self.search_param, "")
        value = value.replace("\x00", "")[:200]
        return [term for term in value.replace(",", " ").split() if term][:10]


BIGINT_MAX = 2**63 - 1


class IdFilter(df.NumberFilter):
    """An id: an integer in the database's range; an unknown id just matches nothing."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", -BIGINT_MAX)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)


class InteractionMomentField(df.fields.IsoDateTimeField):
    """An ISO 8601 moment within INTERACTION_YEARS: beyond them it cannot be compared
    with stored moments on every database (year 9999 at -12:00 overflows in UTC)."""

    def clean(self, value):  # noqa: ANN001, ANN201 (Django's signature)
        moment = super().clean(value)
        if moment is not None and not in_interaction_years(moment):
            raise forms.ValidationError(
                "Enter a moment between the years %(first)d and %(last)d.",
                code="out_of_range",
                params=dict(zip(("first", "last"), INTERACTION_YEARS, strict=True)),
            )
        return moment


class InteractionMomentFilter(df.IsoDateTimeFilter):
    field_class = InteractionMomentField


class StrictBooleanFormField(forms.Field):
    def to_python(self, value: str | None) -> bool | None:
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError("Enter true or false.", code="invalid")


class BooleanFilter(df.BooleanFilter):
    """`true` or `false`; anything else is a 400, not silently ignored."""

    field_class = StrictBooleanFormField


class FilterSet(df.FilterSet):
    """A parameter given with an empty value is a 400 (it is not a valid id, date or
    choice), rather than silently returning the unfiltered list."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, list_filter in self.filters.items():
            if isinstance(list_filter, df.CharFilter) or name not in self.data:
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data[name]]
            if any(value == "" for value in values):
                self.form.add_error(name, "Enter a value or leave the parameter out.")
                valid = False
        return valid


class ArchivedFilter(df.ChoiceFilter):
    """`?archived=false`: what the browser's lists show; `true`: the archived records
    only; `all` (as without the parameter): both, as the figures count them."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault(
            "choices", [("true", "archived only"), ("false", "not archived"), ("all", "both")]
        )
        kwargs.setdefault("method", "filter_archived")
        kwargs.setdefault(
            "help_text",
            "`false`: records not archived (as the browser's lists); `true`: archived ones; "
            "`all` (the default): both.",
        )
        super().__init__(*args, **kwargs)


class ArchivableFilterSet(FilterSet):
    archived = ArchivedFilter()

    def filter_archived(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value in ("true", "false"):
            return queryset.filter(archived_at__isnull=value == "false")
        return queryset


class OrganizationFilter(ArchivableFilterSet):
    class Meta:
        model = Organization
        fields = ["sector", "country", "tier"]


class StakeholderFilter(ArchivableFilterSet):
    tag = df.CharFilter(field_name="tags__name", distinct=True, help_text="A tag name.")
    key = BooleanFilter(method="filter_key", help_text="Only key stakeholders (or only others).")
    importance_min = IdFilter(field_name="importance", lookup_expr="gte")
    organization = IdFilter(help_text="Organization id.")
    owner = IdFilter(help_text="User id.")
    importance = IdFilter()

    class Meta:
        model = Stakeholder
        fields = ["legal_basis"]

    def filter_key(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        key_ids = Stakeholder.objects.key().values("pk")
        return queryset.filter(pk__in=key_ids) if value else queryset.exclude(pk__in=key_ids)


class RelationshipFilter(FilterSet):
    user = IdFilter(help_text="User id.")
    stakeholder = IdFilter(help_text="Stakeholder id.")
    review = BooleanFilter(
        field_name="flagged_for_review",
        help_text="true: the relationships flagged for review (their latest pulse and "
        "computed trust disagree, as `flagged_for_review` says); false: the others whose "
        "scores you may see.",
    )

    class Meta:
        model = Relationship
        fields = ["role", "status"]


class InteractionFilter(FilterSet):
    stakeholder = IdFilter(method="filter_stakeholder", help_text="Stakeholder id.")
    participant = IdFilter(method="filter_participant", help_text="Internal user id.")
    private = BooleanFilter()
    created_by = IdFilter(help_text="User id.")
    kind = df.MultipleChoiceFilter(choices=Interaction.Kind.choices)
    occurred_after = InteractionMomentFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = InteractionMomentFilter(field_name="occurred_at", lookup_expr="lte")

    class Meta:
        model = Interaction
        fields = ["kind"]

    # Exists() rather than a join: a join would repeat an interaction once per match.
    def filter_stakeholder(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        through = Interaction.stakeholders.through.objects
        return queryset.filter(
            Exists(through.filter(interaction=OuterRef("pk"), stakeholder_id=value))
        )

    def filter_participant(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        through = Interaction.internal_participants.through.objects
        return queryset.filter(
            Exists(through.filter(interaction=OuterRef("pk"), user_id=int(value)))
        )


class CommitmentFilter(FilterSet):
    due_after = df.DateFilter(field_name="due_date", lookup_expr="gte")
    due_before = df.DateFilter(field_name="due_date", lookup_expr="lte")
    stakeholder = IdFilter(help_text="Stakeholder id.")
    responsible = IdFilter(help_text="User id.")
    interaction = IdFilter(help_text="Interaction id.")

    class Meta:
        model = Commitment
        fields = ["direction", "status"]


class OutcomeFilter(ArchivableFilterSet):
    occurred_after = df.DateFilter(field_name="occurred_on", lookup_expr="gte")
    occurred_before = df.DateFilter(field_name="occurred_on", lookup_expr="lte")
    stakeholder = IdFilter(help_text="Stakeholder id.")
    credited_to = IdFilter(help_text="User id.")
    goal = IdFilter(help_text="Strategic goal id.")

    class Meta:
        model = Outcome
        fields = ["kind"]


class StakeholderLinkFilter(FilterSet):
    stakeholder = IdFilter(method="filter_either", help_text="Either end of the link.")
    from_stakeholder = IdFilter(help_text="Stakeholder id.")
    to_stakeholder = IdFilter(help_text="Stakeholder id.")

    class Meta:
        model = StakeholderLink
        fields = ["kind"]

    def filter_either(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        pk = int(value)
        return queryset.filter(Q(from_stakeholder_id=pk) | Q(to_stakeholder_id=pk))


class GoalFilter(ArchivableFilterSet):
    stakeholder = IdFilter(field_name="links__stakeholder", distinct=True)
    owner = IdFilter(help_text="User id.")

    class Meta:
        model = StrategicGoal
        fields = ["status"]


class TeamFilter(FilterSet):
    member = IdFilter(field_name="members", distinct=True, help_text="User id.")

    class Meta:
        model = Team
        fields: list[str] = []


class UserFilter(FilterSet):
    team = IdFilter(field_name="teams", distinct=True, help_text="Team id.")

    class Meta:
        model = User
        fields = ["username"]
