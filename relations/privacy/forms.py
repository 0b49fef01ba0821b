"""Forms of the data-protection pages (relations.privacy.views)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from relations.models import DataProtectionAction, Stakeholder
from relations.pages import DateInput
from relations.privacy.services import PRIVACY_FIELDS


class StakeholderPrivacyForm(forms.ModelForm):
    """Source of the data, legal basis, consent and objection of one stakeholder."""

    class Meta:
        model = Stakeholder
        fields = list(PRIVACY_FIELDS)
        widgets = {
            "consent_date": DateInput(),
            "objection_on": DateInput(),
            "objection_note": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "data_source": _("Where exactly, e.g. the event or who introduced them."),
        }

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ErasureForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. the request received and its date. Do not repeat the person's data."),
    )
    confirm = forms.BooleanField(
        label=_("I understand that the personal data cannot be restored."), required=True
    )


class RetentionReviewForm(forms.Form):
    ANONYMISE = "anonymise"
    KEEP = "keep"

    stakeholders = forms.ModelMultipleChoiceField(
        queryset=Stakeholder.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(ANONYMISE, _("Anonymise")), (KEEP, _("Keep"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), max_length=1000, required=False)

    def __init__(self, *args: Any, flagged: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stakeholders"].queryset = flagged

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == self.KEEP and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why these records are kept."))
        return data


class RegisterFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Action"),
        choices=[("", _("All actions")), *DataProtectionAction.Kind.choices],
        required=False,
    )
    stakeholder = forms.IntegerField(label=_("Stakeholder id"), required=False, min_value=1)
    since = forms.DateField(label=_("From"), required=False, widget=DateInput())
    until = forms.DateField(label=_("Until"), required=False, widget=DateInput())

    def filter(self, queryset: Any) -> Any:
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        if data["stakeholder"]:
            queryset = queryset.filter(stakeholder_id=data["stakeholder"])
        if data["since"]:
            queryset = queryset.filter(at__date__gte=data["since"])
        if data["until"]:
            queryset = queryset.filter(at__date__lte=data["until"])
        return queryset
