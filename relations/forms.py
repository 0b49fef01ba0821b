"""Browser forms. Writes go through `relations.services`; these only validate and shape input."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relations import registry
from relations.importing.models import ImportJob
from relations.models import (
    INTERACTION_YEARS,
    AuthenticityPulse,
    Commitment,
    Interaction,
    Organization,
    Relationship,
    Stakeholder,
    Tag,
    in_interaction_years,
)
from relations.pages import (
    DateInput,
    limited_choices,
    selected_pks,
    user_label,
)
from relations.roles import figures_of_person_visible_to, staff_users
from relations.search.matching import search

# The fields a stakeholder search looks in (the header search's too).
STAKEHOLDER_FIELDS = ("name", "email", "title", "organization__name")

DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"

# The same subject with the same stakeholder this close in time is likely logged twice.
DUPLICATE_WINDOW = timedelta(hours=4)
# Clocks differ and a meeting is logged as it ends: a few minutes ahead is not "future".
FUTURE_TOLERANCE = timedelta(minutes=15)

# The value an interaction gave or brought, on the model's 0–5 scale (DESIGN §2): each
# step labelled, so that two colleagues mean the same by a 3.
VALUE_CHOICES = [
    (0, _("0 none")),
    (1, _("1 a little")),
    (2, _("2 some")),
    (3, _("3 useful")),
    (4, _("4 a lot")),
    (5, _("5 exceptional")),
]

SENTIMENT_CHOICES = [
    ("", _("Not recorded")),
    (-2, _("−2 very negative")),
    (-1, _("−1 negative")),
    (0, _("0 neutral")),
    (1, _("+1 positive")),
    (2, _("+2 very positive")),
]


def stakeholder_label(stakeholder: Stakeholder) -> str:
    # Callers select_related("organization") so that labels cost no query.
    if stakeholder.organization_id:
        return f"{stakeholder.name} — {stakeholder.organization.name}"
    return stakeholder.name


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_LOCAL_FORMAT)


class StakeholderFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Name, e-mail, title or organisation")}),
    )
    organization = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organization.objects.none(), required=False
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    importance = forms.TypedChoiceField(
        label=_("Importance"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any")), *[(i, str(i)) for i in range(5, 0, -1)]],
    )
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.all(), required=False)
    # Behind the scorecards' figures. Scores and contact dates filter only
    # what the user may see the scores of (DESIGN §7).
    contact = forms.ChoiceField(
        label=_("Contact"),
        required=False,
        choices=[
            ("", _("Any")),
            ("within", _("Within cadence")),
            ("outside", _("Outside cadence")),
            ("overdue", _("Overdue")),
            ("never", _("Never contacted")),
        ],
    )
    at_risk = forms.ChoiceField(
        label=_("Risk"), required=False, choices=[("", _("Any")), ("yes", _("At risk"))]
    )
    # The name as typed, or by last name without the tussenvoegsel ("Jan van den Berg"
    # under B): the stored `surname_key` (relations.matching.surname_sort_key).
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("", _("Name")), ("last_name", _("Last name"))],
    )
    as_of = forms.DateField(required=False, widget=forms.HiddenInput)
    sole_thread = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, widget=forms.HiddenInput
    )
    # "See the records" of an import: the stakeholders it created.
    import_job = forms.ModelChoiceField(
        queryset=ImportJob.objects.none(), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        organizations = Organization.objects.visible_to(user)
        self.fields["organization"].queryset = organizations
        self.fields["organization"].widget.choices = limited_choices(
            organizations, self.data.get("organization"), str, blank=_("Any")
        )
        self.fields["organization"].widget.attrs["data-autocomplete-url"] = reverse(
            "autocomplete-organizations"
        )
        owners = staff_users()
        self.fields["owner"].queryset = owners
        self.fields["sole_thread"].queryset = owners
        # The stored file is large and not needed here.
        self.fields["import_job"].queryset = ImportJob.objects.visible_to(user).defer("content")
        self.fields["owner"].widget.choices = [
            ("", _("Anyone")),
            *[(u.pk, user_label(u)) for u in owners],
        ]
        self.fields["tag"].widget.choices = [
            ("", _("Any")),
            *[(t.pk, t.name) for t in Tag.objects.all()],
        ]
        for name in ("organization", "owner", "importance", "tag", "contact", "at_risk", "sort"):
            self.fields[name].widget.attrs["class"] = "form-select"

    def filter(self, queryset: QuerySet[Stakeholder]) -> QuerySet[Stakeholder]:
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["q"]:
            # The header search's matching: accents, word order, one typo.
            queryset = search(queryset, STAKEHOLDER_FIELDS, data["q"])
        if data["organization"]:
            queryset = queryset.filter(organization=data["organization"])
        if data["owner"]:
            queryset = queryset.filter(owner=data["owner"])
        if data["importance"]:
            queryset = queryset.filter(importance=data["importance"])
        if data["tag"]:
            queryset = queryset.filter(tags=data["tag"])
        if data["import_job"]:
            queryset = queryset.filter(data["import_job"].created_filter("relations.stakeholder"))
        if data["sole_thread"]:
            # Key-person risk: directors see everyone's, a manager only their own.
            if not figures_of_person_visible_to(self.user, data["sole_thread"].pk):
                return queryset.none()
            queryset = self.figure_filter("sole_thread", queryset)
        if data["contact"] or data["at_risk"]:
            queryset = queryset.scores_visible_to(self.user)
        if data["at_risk"]:
            queryset = self.figure_filter("at_risk", queryset)
        if data["contact"]:
            queryset = self.figure_filter("contact", queryset)
        if data["sort"] == "last_name":
            queryset = queryset.order_by("surname_key", "name", "pk")
        return queryset

    def figure_filter(self, field: str, queryset: QuerySet[Stakeholder]) -> QuerySet[Stakeholder]:
        """Rows selected by a field about figures relations does not hold: the app that
        computes them registers how (`relations.registry.stakeholder_filter_register`)."""
        apply = registry.stakeholder_filter(field)
        if apply is None:
            return queryset
        return apply(self, queryset, self.cleaned_data[field])

    def import_job_label(self) -> str:
        """Says what the hidden filter of "See the records" after an import selects."""
        if self.is_valid() and self.cleaned_data["import_job"]:
            return _("Stakeholders created by the import of %(file)s") % {
                "file": self.cleaned_data["import_job"].file_name
            }
        return ""

    def sole_thread_label(self) -> str:
        """Says what the hidden filter of a followed link selects."""
        if self.is_valid() and self.cleaned_data["sole_thread"]:
            return _("Key stakeholders for whom %(name)s is the only thread") % {
                "name": user_label(self.cleaned_data["sole_thread"])
            }
        return ""


OUTCOME_FILTERS = {
    "kept": Q(status=Commitment.Status.KEPT),
    "broken": Q(status=Commitment.Status.BROKEN),
    "cancelled": Q(status=Commitment.Status.CANCELLED),
}


class CommitmentFilterForm(forms.Form):
    """Commitments behind a scorecard figure: whose, which outcome, due when."""

    responsible = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, widget=forms.HiddenInput
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        required=False,
        choices=[("", _("Any")), *Commitment.Direction.choices],
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[
            ("", _("Any")),
            ("counted", _("Kept, broken or overdue")),
            ("kept", _("Kept")),
            ("broken", _("Broken")),
            ("overdue", _("Overdue")),
            ("missed", _("Broken or overdue")),
            ("pending", _("Open, not yet due")),
            ("cancelled", _("Cancelled")),
        ],
    )
    due_from = forms.DateField(label=_("Due from"), required=False, widget=DateInput)
    due_to = forms.DateField(label=_("Due until"), required=False, widget=DateInput)

    FIELDS = ("responsible", "direction", "outcome", "due_from", "due_to")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = staff_users()
        for name in ("direction", "outcome"):
            self.fields[name].widget.attrs["class"] = "form-select"
        for name in ("due_from", "due_to"):
            self.fields[name].widget.attrs["class"] = "form-control"

    def is_filtering(self) -> bool:
        return any(self.data.get(name) for name in self.FIELDS)

    def filter(self, queryset: QuerySet[Commitment], today: Any) -> QuerySet[Commitment]:
        data = self.cleaned_data
        if data["direction"]:
            queryset = queryset.filter(direction=data["direction"])
        if data["due_from"]:
            queryset = queryset.filter(due_date__gte=data["due_from"])
        if data["due_to"]:
            queryset = queryset.filter(due_date__lte=data["due_to"])
        overdue = Q(status=Commitment.Status.OPEN, due_date__lt=today)
        outcome = data["outcome"]
        chosen = {
            **OUTCOME_FILTERS,
            "overdue": overdue,
            "pending": Q(status=Commitment.Status.OPEN, due_date__gte=today),
            "missed": OUTCOME_FILTERS["broken"] | overdue,
            "counted": OUTCOME_FILTERS["kept"] | OUTCOME_FILTERS["broken"] | overdue,
        }.get(outcome)
        return queryset.filter(chosen) if chosen is not None else queryset


class InteractionForm(forms.ModelForm):
    """The quick-logging form: defaults fit the common case (now, me, a 30-minute meeting)."""

    sentiment = forms.TypedChoiceField(
        label=_("Sentiment"),
        choices=SENTIMENT_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    value_given = forms.TypedChoiceField(
        label=_("Value given"),
        choices=VALUE_CHOICES,
        coerce=int,
        initial=0,
        widget=forms.RadioSelect,
        help_text=_("What we delivered to them, 0–5."),
    )
    value_received = forms.TypedChoiceField(
        label=_("Value received"),
        choices=VALUE_CHOICES,
        coerce=int,
        initial=0,
        widget=forms.RadioSelect,
        help_text=_("What they delivered to us, 0–5."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Set once the user has seen the warnings (a likely duplicate, a future date) and
    # saves anyway: they warn, they never refuse.
    confirmed = forms.BooleanField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Interaction
        fields = [
            "stakeholders",
            "internal_participants",
            "occurred_at",
            "kind",
            "subject",
            "notes",
            "value_given",
            "value_received",
            "sentiment",
            "duration_minutes",
            "cost",
            "private",
        ]
        widgets = {
            "occurred_at": DateTimeLocalInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["occurred_at"].input_formats = [DATETIME_LOCAL_FORMAT, "%Y-%m-%d %H:%M"]
        stakeholders = Stakeholder.objects.visible_to(user).select_related("organization")
        users = staff_users()
        self.fields["stakeholders"].queryset = stakeholders
        self.fields["internal_participants"].queryset = users
        self.fields["internal_participants"].label = _("Colleagues")
        self.fields["stakeholders"].help_text = _("Type to search; one or more.")
        self.fields["internal_participants"].help_text = _("Who took part from our side.")
        self.fields["duration_minutes"].widget.attrs.update({"min": 0, "max": 24 * 60, "step": 5})
        self.fields["cost"].widget.attrs.update({"min": 0, "step": "0.01"})
        self.fields["subject"].widget.attrs["autofocus"] = True

        if self.instance.pk is None and not self.is_bound:
            self.initial.setdefault(
                "occurred_at", timezone.localtime().replace(second=0, microsecond=0)
            )
            self.initial.setdefault("internal_participants", [user.pk])
            self.initial.setdefault("duration_minutes", 30)
        if self.instance.pk is not None:
            # Optimistic locking needs the version the editor saw; without it the
            # edit could silently overwrite someone else's.
            self.fields["version"].initial = self.instance.version
            self.fields["version"].required = True

        # Render the choices once (the commitment rows reuse them) and only a
        # bounded number of stakeholders: the type-ahead fetches the others.
        selected = self["stakeholders"].value()
        self.fields["stakeholders"].widget.choices = limited_choices(
            stakeholders, selected, stakeholder_label
        )
        self.fields["stakeholders"].widget.attrs.update(
            {
                "data-autocomplete-url": reverse("autocomplete-stakeholders"),
                "data-stakeholder-picker": "",
                # The type-ahead's "Create ‘name’" opens this panel of the page.
                "data-quick-create": "quick-stakeholder",
            }
        )
        self.user_choices = [(u.pk, user_label(u)) for u in users]
        self.fields["internal_participants"].widget.choices = self.user_choices
        self.fields["internal_participants"].widget.attrs["data-autocomplete-url"] = reverse(
            "autocomplete-users"
        )

    def clean_occurred_at(self) -> Any:
        moment = self.cleaned_data["occurred_at"]
        if moment is not None and not in_interaction_years(moment):
            first, last = INTERACTION_YEARS
            raise ValidationError(
                _("Enter a date between the years %(first)d and %(last)d."),
                code="out_of_range",
                params={"first": first, "last": last},
            )
        return moment

    def clean_stakeholders(self) -> Any:
        # Keep the picked order, so that "the first stakeholder" is the one the user put first.
        chosen = list(self.cleaned_data["stakeholders"])
        order = selected_pks(self.data.getlist(self.add_prefix("stakeholders")))
        position = {pk: i for i, pk in enumerate(order)}
        chosen.sort(key=lambda s: position.get(str(s.pk), len(position)))
        return chosen

    def service_fields(self) -> dict[str, Any]:
        """The scalar fields as keyword arguments of interaction_log / interaction_update."""
        skip = {"stakeholders", "internal_participants", "version", "confirmed"}
        return {k: v for k, v in self.cleaned_data.items() if k not in skip}

    def warnings(self) -> list[str]:
        """What a valid new interaction may have got wrong: logged twice (the same
        subject with one of the same stakeholders within DUPLICATE_WINDOW), or dated in
        the future although interactions are logged after they happen."""
        if self.cleaned_data.get("confirmed"):
            return []
        found = []
        moment = self.cleaned_data["occurred_at"]
        if moment > timezone.now() + FUTURE_TOLERANCE:
            found.append(
                _("This interaction is dated in the future (%(when)s). Is the date right?")
                % {"when": timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")}
            )
        duplicate = (
            Interaction.objects.visible_to(self.user)
            .filter(
                subject__iexact=self.cleaned_data["subject"].strip(),
                stakeholders__in=self.cleaned_data["stakeholders"],
                occurred_at__range=(moment - DUPLICATE_WINDOW, moment + DUPLICATE_WINDOW),
            )
            .first()
        )
        if duplicate is not None:
            found.append(
                _("“%(subject)s” with the same stakeholder was already logged on %(when)s.")
                % {
                    "subject": duplicate.subject,
                    "when": timezone.localtime(duplicate.occurred_at).strftime("%Y-%m-%d %H:%M"),
                }
            )
        return found

    def confirm(self) -> None:
        """After showing the warnings: the next save is deliberate."""
        data = self.data.copy()
        data[self.add_prefix("confirmed")] = "True"
        self.data = data

    def selected_stakeholder_choices(self) -> list[tuple[Any, str]]:
        """The stakeholders currently in the picker, for the commitments' stakeholder select."""
        picked = set(selected_pks(self["stakeholders"].value()))
        return [
            (pk, label)
            for pk, label in self.fields["stakeholders"].widget.choices
            if str(pk) in picked
        ]


class CommitmentForm(forms.Form):
    description = forms.CharField(label=_("Commitment"), max_length=300)
    direction = forms.ChoiceField(
        label=_("Who promised"), choices=Commitment.Direction.choices, initial="us"
    )
    due_date = forms.DateField(label=_("Due"), widget=DateInput())
    responsible = forms.TypedChoiceField(label=_("Responsible"), coerce=int)
    # Any id is accepted here (the page's script offers the stakeholders picked
    # above); commitments_for() checks it belongs to the interaction.
    stakeholder = forms.IntegerField(label=_("Stakeholder"), required=False, widget=forms.Select)


class BaseCommitmentFormSet(forms.BaseFormSet):
    def __init__(
        self,
        *args: Any,
        user: User,
        user_choices: Sequence[tuple[Any, str]],
        stakeholder_choices: Sequence[tuple[Any, str]],
        **kwargs: Any,
    ) -> None:
        self.user = user
        self.user_choices = list(user_choices)
        self.stakeholder_choices = list(stakeholder_choices)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict:
        return {"initial": {"responsible": self.user.pk, "direction": "us"}}

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        form = super()._construct_form(i, **kwargs)
        self._set_choices(form)
        return form

    @property
    def empty_form(self) -> forms.Form:
        form = super().empty_form
        self._set_choices(form)
        return form

    def _set_choices(self, form: forms.Form) -> None:
        form.fields["responsible"].choices = self.user_choices
        form.fields["stakeholder"].widget.choices = [
            ("", _("First stakeholder")),
            *self.stakeholder_choices,
        ]

    def commitments_for(self, stakeholders: Iterable[Stakeholder]) -> list[dict] | None:
        """The service's commitment dicts, or None after adding errors to the rows."""
        stakeholders = list(stakeholders)
        by_pk = {s.pk: s for s in stakeholders}
        result, ok = [], True
        for form in self.forms:
            if not form.has_changed() or not form.is_valid() or not stakeholders:
                continue
            data = form.cleaned_data
            stakeholder = by_pk.get(data["stakeholder"]) if data["stakeholder"] else None
            if data["stakeholder"] and stakeholder is None:
                form.add_error(
                    "stakeholder", _("Choose one of the stakeholders of this interaction.")
                )
                ok = False
                continue
            result.append(
                {
                    "description": data["description"],
                    "direction": data["direction"],
                    "due_date": data["due_date"],
                    "responsible_id": data["responsible"],
                    "stakeholder": stakeholder or stakeholders[0],
                }
            )
        return result if ok else None


CommitmentFormSet = forms.formset_factory(
    CommitmentForm, formset=BaseCommitmentFormSet, extra=1, max_num=20, validate_max=True
)


def commitment_formset(
    data: Any, *, user: User, interaction_form: InteractionForm
) -> BaseCommitmentFormSet:
    return CommitmentFormSet(
        data,
        prefix="commitments",
        user=user,
        user_choices=interaction_form.user_choices,
        stakeholder_choices=interaction_form.selected_stakeholder_choices(),
    )


class RelationshipPlanForm(forms.ModelForm):
    """The relationship page's inline plan. It carries the version the editor read, as
    the relationship's edit page does, so that `relationship_update` refuses a stale save."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    # The other person's saved values after a refused stale save (editing.views).
    conflict: list[tuple[str, str]] | None = None

    class Meta:
        model = Relationship
        fields = ["status", "objective", "desired_strength", "next_review"]
        widgets = {
            "objective": forms.Textarea(attrs={"rows": 3}),
            "next_review": DateInput(),
            "desired_strength": forms.NumberInput(attrs={"min": 0, "max": 1, "step": "0.05"}),
        }
        help_texts = {"desired_strength": _("From 0 (none) to 1 (very strong).")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields}

    def expected_version(self) -> int:
        return self.cleaned_data["version"]


# 1 = poor … 5 = excellent, the same scale for the three dimensions of authenticity.
PULSE_CHOICES = [(n, str(n)) for n in range(1, 6)]


class PulseForm(forms.ModelForm):
    """A quick authenticity pulse: three 1–5 ratings, a date (today), an optional note."""

    integrity = forms.TypedChoiceField(
        label=_("Integrity"),
        choices=PULSE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        help_text=_("They act honestly and fairly."),
    )
    transparency = forms.TypedChoiceField(
        label=_("Transparency"),
        choices=PULSE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        help_text=_("They share what matters, openly."),
    )
    reliability = forms.TypedChoiceField(
        label=_("Reliability"),
        choices=PULSE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        help_text=_("They keep their promises."),
    )

    class Meta:
        model = AuthenticityPulse
        fields = ["assessed_on", "integrity", "transparency", "reliability", "note"]
        widgets = {
            "assessed_on": DateInput(),
            "note": forms.Textarea(attrs={"rows": 2, "maxlength": 2000}),
        }
        labels = {"assessed_on": _("Date"), "note": _("Note (optional)")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "pulse")
        super().__init__(*args, **kwargs)
        # Left empty, the assessment is dated today (the service's default).
        self.fields["assessed_on"].required = False
        if not self.is_bound:
            self.initial.setdefault("assessed_on", timezone.localdate())

    def clean_assessed_on(self) -> Any:
        return self.cleaned_data.get("assessed_on") or timezone.localdate()

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class CommitmentStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Commitment.Status.choices)
