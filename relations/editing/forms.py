"""The browser's create and edit forms of DESIGN §5a. They validate and shape input;
`relations.editing.services` checks permissions, saves and audits."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from relations.forms import stakeholder_label
from relations.models import (
    Commitment,
    Organization,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
    StrategicGoal,
    Tag,
    Team,
    Webhook,
)
from relations.pages import DateInput, limited_choices, user_label
from relations.roles import staff_users

# Known tags offered by the type-ahead: a vocabulary, not a list to scroll.
TAG_OPTION_LIMIT = 500


class VersionedForm(forms.ModelForm):
    """Carries the version the editor read, so that the service refuses a stale edit."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # The other person's saved values after a refused stale edit (views._conflict).
    conflict: list[tuple[str, str]] | None = None

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if self.instance.pk is not None:
            self.fields["version"].initial = self.instance.version
            self.fields["version"].required = True

    def service_fields(self) -> dict[str, Any]:
        """The model fields as keyword arguments of the create and update services."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in self._meta.fields and name in self.fields
        }

    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")

    def _picker(self, name: str, queryset: Any, label: Any, url_name: str, **kw: Any) -> None:
        """A bounded <select> that the type-ahead (static/js/app.js) extends."""
        field = self.fields[name]
        field.queryset = queryset
        field.widget.choices = limited_choices(queryset, self[name].value(), label, **kw)
        field.widget.attrs["data-autocomplete-url"] = reverse(url_name)

    def _users(self, name: str, blank: str) -> None:
        users = staff_users()
        self.fields[name].queryset = users
        self.fields[name].widget.choices = [("", blank), *[(u.pk, user_label(u)) for u in users]]


class OrganizationForm(VersionedForm):
    class Meta:
        model = Organization
        fields = ["name", "sector", "country", "website", "tier", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class StakeholderForm(VersionedForm):
    new_organization = forms.CharField(
        label=_("…or a new organisation"),
        max_length=200,
        required=False,
        help_text=_("Type its name to create it with this stakeholder."),
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=2000,
        help_text=_("Separate tags with commas; new ones are created."),
    )
    cadence_days = forms.IntegerField(
        label=_("Contact cadence (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Leave empty for the default by importance (5→30 … 1→120 days)."),
    )

    class Meta:
        model = Stakeholder
        fields = [
            "name",
            "organization",
            "title",
            "email",
            "phone",
            "importance",
            "influence",
            "interest",
            "owner",
            "cadence_days",
            "legal_basis",
            "consent_date",
            "data_source_kind",
            "data_source",
            "notes",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "consent_date": DateInput(),
            "importance": forms.NumberInput(attrs={"min": 1, "max": 5}),
            "influence": forms.NumberInput(attrs={"min": 1, "max": 5}),
            "interest": forms.NumberInput(attrs={"min": 1, "max": 5}),
        }

    field_order = ["name", "organization", "new_organization", "title", "email", "phone", "tags"]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self._picker(
            "organization",
            Organization.objects.visible_to(user).listed(),
            str,
            "autocomplete-organizations",
            blank=_("None"),
        )
        self._users("owner", _("Nobody"))
        # The tag type-ahead (static/js/app.js) offers the known names; new ones are typed.
        known = Tag.objects.order_by("name").values_list("name", flat=True)[:TAG_OPTION_LIMIT]
        self.fields["tags"].widget.attrs.update(
            {"data-tag-picker": "", "data-tag-options": json.dumps(list(known))}
        )
        if self.instance.pk is None:
            if not self.is_bound:
                self.initial.setdefault("owner", user.pk)
        else:
            self.initial.setdefault(
                "tags", ", ".join(sorted(t.name for t in self.instance.tags.all()))
            )
            if not self.instance.owner_changeable_by(user):
                # Handing a stakeholder over is for its owner or a director.
                self.fields["owner"].disabled = True
                self.fields["owner"].help_text = _(
                    "Only the owner or a director may hand this stakeholder over."
                )

    def clean_tags(self) -> list[str]:
        names = [n.strip() for n in self.cleaned_data["tags"].split(",")]
        too_long = [n for n in names if len(n) > 60]
        if too_long:
            raise forms.ValidationError(_("Keep each tag under 60 characters."))
        return sorted({n for n in names if n})

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("organization") and data.get("new_organization"):
            self.add_error(
                "new_organization",
                _("Choose an existing organisation or type a new one, not both."),
            )
        return data

    def service_fields(self) -> dict[str, Any]:
        fields = super().service_fields()
        fields["tags"] = self.cleaned_data["tags"]
        if self.fields["owner"].disabled:
            fields.pop("owner", None)
        return fields


class QuickStakeholderForm(forms.Form):
    """The short form of the interaction page's "Create ‘name’": name, organisation,
    e-mail; the rest keeps its defaults and can be filled in later."""

    name = forms.CharField(label=_("Name"), max_length=200)
    organization_name = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)


class RelationshipForm(VersionedForm):
    class Meta:
        model = Relationship
        fields = ["role", "status", "objective", "desired_strength", "next_review"]
        widgets = {
            "objective": forms.Textarea(attrs={"rows": 3}),
            "next_review": DateInput(),
            "desired_strength": forms.NumberInput(attrs={"min": 0, "max": 1, "step": "0.05"}),
        }
        help_texts = {"desired_strength": _("From 0 (none) to 1 (very strong).")}


class StakeholderLinkForm(VersionedForm):
    class Meta:
        model = StakeholderLink
        fields = ["to_stakeholder", "kind", "strength"]
        labels = {"to_stakeholder": _("Linked to")}
        widgets = {"strength": forms.NumberInput(attrs={"min": 0, "max": 1, "step": "0.1"})}
        help_texts = {"strength": _("From 0 (barely) to 1 (very close).")}

    def __init__(self, *args: Any, user: User, source: Stakeholder, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.source = source
        self._picker(
            "to_stakeholder",
            Stakeholder.objects.visible_to(user)
            .listed()
            .exclude(pk=source.pk)
            .select_related("organization"),
            stakeholder_label,
            "autocomplete-stakeholders",
        )

    def service_fields(self) -> dict[str, Any]:
        return {**super().service_fields(), "from_stakeholder": self.source}


class CommitmentForm(VersionedForm):
    """A promise's text, due date, who answers for it and where it stands; the API's
    `commitment_update` dates its completion."""

    class Meta:
        model = Commitment
        fields = ["description", "direction", "due_date", "responsible", "status"]
        widgets = {"due_date": DateInput()}
        labels = {"responsible": _("Responsible")}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self._users("responsible", "—")


class OutcomeForm(VersionedForm):
    class Meta:
        model = Outcome
        fields = [
            "stakeholder",
            "kind",
            "value",
            "occurred_on",
            "credited_to",
            "goal",
            "description",
        ]
        widgets = {
            "occurred_on": DateInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
            "value": forms.NumberInput(attrs={"min": 0, "step": "0.01"}),
        }
        labels = {"credited_to": _("Credited to")}
        help_texts = {"value": _("The money it is worth to us; 0 if none.")}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self._picker(
            "stakeholder",
            Stakeholder.objects.visible_to(user).select_related("organization"),
            stakeholder_label,
            "autocomplete-stakeholders",
        )
        self._users("credited_to", _("Nobody"))
        goals = StrategicGoal.objects.visible_to(user).listed()
        self.fields["goal"].queryset = goals
        self.fields["goal"].widget.choices = [("", _("None")), *[(g.pk, g.title) for g in goals]]
        if self.instance.pk is None and not self.is_bound:
            self.initial.setdefault("credited_to", user.pk)


class GoalForm(VersionedForm):
    class Meta:
        model = StrategicGoal
        fields = ["title", "description", "owner", "period_start", "period_end", "status"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "period_start": DateInput(),
            "period_end": DateInput(),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self._users("owner", _("Nobody"))
        if self.instance.pk is None and not self.is_bound:
            self.initial.setdefault("owner", user.pk)
        if not StrategicGoal(owner=self.instance.owner).owner_changeable_by(user):
            # Giving a goal to someone else is for directors; a manager's goal is hers.
            self.fields["owner"].disabled = True
            if self.instance.pk is None:
                self.initial["owner"] = user.pk

    def service_fields(self) -> dict[str, Any]:
        fields = super().service_fields()
        if self.fields["owner"].disabled:
            fields.pop("owner", None)
        return fields


class GoalStakeholderForm(forms.Form):
    stakeholder = forms.ModelChoiceField(
        label=_("Stakeholder"), queryset=Stakeholder.objects.none(), required=False
    )
    role = forms.CharField(label=_("Role for the goal"), max_length=120, required=False)


class BaseGoalStakeholderFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        form = super()._construct_form(i, **kwargs)
        self._picker(form)
        return form

    @property
    def empty_form(self) -> forms.Form:
        form = super().empty_form
        self._picker(form)
        return form

    def _picker(self, form: forms.Form) -> None:
        queryset = Stakeholder.objects.visible_to(self.user).select_related("organization")
        field = form.fields["stakeholder"]
        field.queryset = queryset
        field.widget.choices = limited_choices(
            queryset, form["stakeholder"].value(), stakeholder_label, blank="—"
        )
        field.widget.attrs["data-autocomplete-url"] = reverse("autocomplete-stakeholders")

    def clean(self) -> None:
        seen = set()
        for form in self.forms:
            stakeholder = form.cleaned_data.get("stakeholder") if form.is_valid() else None
            if stakeholder is None:
                continue
            if stakeholder.pk in seen:
                form.add_error("stakeholder", _("A stakeholder is listed twice."))
            seen.add(stakeholder.pk)

    def links(self) -> list[dict[str, Any]]:
        return [
            {"stakeholder": f.cleaned_data["stakeholder"], "role": f.cleaned_data["role"]}
            for f in self.forms
            if f.cleaned_data.get("stakeholder")
        ]


GoalStakeholderFormSet = forms.formset_factory(
    GoalStakeholderForm, formset=BaseGoalStakeholderFormSet, extra=3, max_num=200
)


class TeamForm(forms.ModelForm):
    """A team's name, description and members (directors; the API's team fields)."""

    class Meta:
        model = Team
        fields = ["name", "description", "members"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"members": _("Members")}
        help_texts = {"members": _("Type to search; one or more colleagues.")}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        users = staff_users()
        field = self.fields["members"]
        field.queryset = users
        field.widget.choices = [(u.pk, user_label(u)) for u in users]
        field.widget.attrs["data-autocomplete-url"] = reverse("autocomplete-users")

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class WebhookForm(forms.ModelForm):
    """An endpoint of the director's: URL, events, active, description (never the
    secret, which is shown once after registering it)."""

    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=Webhook.Event.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The events this endpoint receives; at least one."),
    )

    class Meta:
        model = Webhook
        fields = ["url", "events", "active", "description"]
        help_texts = {
            "url": _(
                "An http or https address on the internet; never this machine or a private network."
            ),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["url"].widget.attrs["placeholder"] = "https://"

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
