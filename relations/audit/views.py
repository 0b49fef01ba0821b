"""`/audit/`: the searchable audit trail, for directors only."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.apps import apps
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from relations.models import AuditEvent
from relations.pages import staff_required
from relations.roles import Action, may

AUDIT_PAGE_SIZE = 50
# The object types of the trail: the domain, API tokens, and users (security events).
AUDITED_TYPES = [
    "relations.organization",
    "relations.stakeholder",
    "relations.relationship",
    "relations.interaction",
    "relations.commitment",
    "relations.outcome",
    "relations.stakeholderlink",
    "relations.strategicgoal",
    "relations.goalstakeholder",
    "relations.authenticitypulse",
    "relations.team",
    "relations.tag",
    "relations.webhook",
    "knox.authtoken",
    "auth.user",
]


def object_type_label(label: str) -> str:
    try:
        return str(apps.get_model(label)._meta.verbose_name).capitalize()
    except (LookupError, ValueError):
        return label


class AuditFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    object_type = forms.ChoiceField(label=_("Record type"), required=False)
    object_id = forms.CharField(label=_("Record id"), required=False, max_length=40)
    actor = forms.CharField(label=_("By (username)"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any")), *AuditEvent.Action.choices]
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [
            ("", _("Any")),
            *sorted(((t, object_type_label(t)) for t in AUDITED_TYPES), key=lambda c: c[1]),
        ]

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def events(self) -> tuple[object, User | None]:
        """The matching events and the actor named (None when unknown)."""
        data = self.cleaned_data
        actor = None
        if data.get("actor"):
            actor = User.objects.filter(username=data["actor"]).first()
            if actor is None:
                return AuditEvent.objects.none(), None
        tz = timezone.get_current_timezone()
        since = data.get("since")
        until = data.get("until")
        events = AuditEvent.objects.search(
            text=data.get("q", "").strip(),
            object_type=data.get("object_type", ""),
            object_id=data.get("object_id", "").strip(),
            actor=actor.pk if actor else None,
            action=data.get("action", ""),
        )
        # Bounds as instants (not __date) so the index on `at` serves them.
        if since:
            events = events.filter(at__gte=datetime.combine(since, time.min, tzinfo=tz))
        if until:
            events = events.filter(at__lte=datetime.combine(until, time.max, tzinfo=tz))
        return events, actor


@staff_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    if not may(request.user, Action.READ_AUDIT_TRAIL):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        events = AuditEvent.objects.none()
        status = 400
    else:
        if not form.is_bound:
            form = AuditFilterForm({})
            form.is_valid()
        events, _actor = form.events()
        status = 200
    page = Paginator(events.select_related("actor"), AUDIT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "audit/audit_log.html", {"form": form, "page": page}, status=status)
