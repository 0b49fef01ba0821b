"""Data-protection pages (GDPR): a stakeholder's data-protection record, the
data-subject export, erasure, the retention review, the register and the record
of processing. Thin: the work is in relations.privacy.services."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relations import registry, tasks
from relations.models import (
    AuditEvent,
    AuthenticityPulse,
    Commitment,
    DataProtectionAction,
    Interaction,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
)
from relations.pages import action_required, apply_validation_error, paginate, staff_required
from relations.privacy import services as privacy
from relations.privacy.forms import (
    ErasureForm,
    RegisterFilterForm,
    RetentionReviewForm,
    StakeholderPrivacyForm,
)
from relations.publishing import enqueue_on_commit
from relations.roles import Action, may

# A review page lists at most this many flagged records at once: decisions are
# taken in batches, and the page stays bounded.
REVIEW_PAGE_ROWS = 100

EXPORT_SECTIONS = {
    "stakeholder": gettext_lazy("Personal data"),
    "scores": gettext_lazy("Scores"),
    "relationships": gettext_lazy("Relationships"),
    "interactions": gettext_lazy("Interactions"),
    "commitments": gettext_lazy("Commitments"),
    "outcomes": gettext_lazy("Outcomes"),
    "links": gettext_lazy("Links to other stakeholders"),
    "goals": gettext_lazy("Strategic goals"),
    "pulses": gettext_lazy("Authenticity assessments"),
    "audit_events": gettext_lazy("Audit log"),
    "data_protection_actions": gettext_lazy("Data-protection register"),
}


def _visible_stakeholder(request: HttpRequest, pk: int) -> Stakeholder:
    return get_object_or_404(
        Stakeholder.objects.visible_to(request.user).select_related("organization", "owner"),
        pk=pk,
    )


def _director_or_403(request: HttpRequest) -> None:
    if not may(request.user, Action.HANDLE_PERSONAL_DATA):
        raise PermissionDenied


@staff_required
@require_http_methods(["GET", "POST"])
def stakeholder_privacy(request: HttpRequest, pk: int) -> HttpResponse:
    """The data-protection record of a stakeholder; every colleague keeps it up to date."""
    stakeholder = _visible_stakeholder(request, pk)
    form = StakeholderPrivacyForm(request.POST or None, instance=stakeholder)
    if request.method == "POST":
        if stakeholder.is_erased:
            raise PermissionDenied
        if form.is_valid():
            try:
                privacy.stakeholder_privacy_update(
                    Stakeholder.objects.get(pk=pk), by=request.user, **form.service_fields()
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(request, _("Data-protection details saved."))
                return redirect("stakeholder-privacy", pk=pk)
    register = (
        DataProtectionAction.objects.filter(stakeholder_id=pk).select_related("actor")[:50]
        if may(request.user, Action.HANDLE_PERSONAL_DATA)
        else []
    )
    return render(
        request,
        "relations/privacy/stakeholder_privacy.html",
        {
            "stakeholder": stakeholder,
            "form": form,
            "erasure_form": ErasureForm(),
            "register": register,
            "retention_days": privacy.retention_days(),
        },
        status=400 if form.errors else 200,
    )


def _export_filename(stakeholder: Stakeholder) -> str:
    return f"stakeholder-{stakeholder.pk}-{timezone.localdate():%Y%m%d}.json"


@staff_required
@require_GET
def stakeholder_export_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The complete record as JSON (a data-subject access request), directors only."""
    stakeholder = _visible_stakeholder(request, pk)
    _director_or_403(request)
    data = privacy.stakeholder_export(stakeholder, by=request.user)
    response = JsonResponse(
        data, encoder=DjangoJSONEncoder, json_dumps_params={"indent": 2, "ensure_ascii": False}
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_filename(stakeholder)}"'
    return response


def _readable(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(value, date):
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(value, float | Decimal):
        return formats.number_format(value, decimal_pos=2, use_l10n=True)
    if isinstance(value, dict):
        if set(value) >= {"id", "username"}:
            return value.get("name") or value["username"]
        if set(value) >= {"id", "name"}:
            return str(value["name"])
        return "; ".join(f"{k}: {_readable(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_readable(v) for v in value) if value else "—"
    return str(value)


# The model behind each section of the export: its field names label the rows.
EXPORT_MODELS = {
    "stakeholder": Stakeholder,
    "relationships": Relationship,
    "interactions": Interaction,
    "commitments": Commitment,
    "outcomes": Outcome,
    "links": StakeholderLink,
    "pulses": AuthenticityPulse,
    "audit_events": AuditEvent,
    "data_protection_actions": DataProtectionAction,
}


def export_model(section: str) -> type[models.Model] | None:
    """The model behind a section: relations' own, or one another app registered."""
    registered = {s.name: s.model for s in registry.export_sections()}
    return EXPORT_MODELS.get(section) or registered.get(section)


def _readable_rows(section: str, records: Any) -> list[list[tuple[str, str]]]:
    """Rows of (label, value) in the reader's language: field names and choices
    as the model names them."""
    if records is None:
        return []
    if isinstance(records, dict):
        records = [records]
    fields = {}
    model = export_model(section)
    if model is not None:
        fields = {f.name: f for f in model._meta.get_fields() if hasattr(f, "verbose_name")}
        fields.update({f.attname: f for f in model._meta.concrete_fields})

    def label(key: str) -> str:
        field = fields.get(key)
        text = str(field.verbose_name) if field is not None else key.replace("_", " ")
        return text[:1].upper() + text[1:]

    def value_of(key: str, value: Any) -> str:
        field = fields.get(key)
        if field is not None and field.choices and isinstance(value, str | int):
            value = dict(field.flatchoices).get(value, value)
        return _readable(value)

    return [[(label(key), value_of(key, value)) for key, value in row.items()] for row in records]


@staff_required
@require_GET
def stakeholder_export_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The same export as a readable page (to print or send to the person)."""
    stakeholder = _visible_stakeholder(request, pk)
    _director_or_403(request)
    data = privacy.stakeholder_export(stakeholder, by=request.user)
    sections = [
        {"key": key, "title": title, "rows": _readable_rows(key, data[key])}
        for key, title in EXPORT_SECTIONS.items()
    ]
    return render(
        request,
        "relations/privacy/stakeholder_export.html",
        {"stakeholder": stakeholder, "sections": sections, "exported_at": data["exported_at"]},
    )


@staff_required
@require_POST
def stakeholder_erase_view(request: HttpRequest, pk: int) -> HttpResponse:
    stakeholder = _visible_stakeholder(request, pk)
    _director_or_403(request)
    form = ErasureForm(request.POST)
    if form.is_valid():
        try:
            privacy.stakeholder_erase(
                stakeholder, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(
                request,
                _("The stakeholder's personal data was erased; the figures are kept."),
            )
            return redirect("stakeholder-privacy", pk=pk)
    return render(
        request,
        "relations/privacy/stakeholder_privacy.html",
        {
            "stakeholder": stakeholder,
            "form": StakeholderPrivacyForm(instance=stakeholder),
            "erasure_form": form,
            "register": DataProtectionAction.objects.filter(stakeholder_id=pk)[:50],
            "retention_days": privacy.retention_days(),
        },
        status=400,
    )


@action_required(Action.HANDLE_PERSONAL_DATA)
@require_http_methods(["GET", "POST"])
def retention_review(request: HttpRequest) -> HttpResponse:
    """Stakeholders flagged by the retention task: anonymise them, or keep them (with a reason)."""
    flagged = (
        Stakeholder.objects.filter(retention_flagged_at__isnull=False, erased_at__isnull=True)
        .annotate(last_activity=privacy.last_activity())
        .select_related("organization", "owner")
        .order_by("last_activity", "pk")
    )
    form = RetentionReviewForm(request.POST or None, flagged=flagged)
    if request.method == "POST" and form.is_valid():
        chosen = list(form.cleaned_data["stakeholders"])
        reason = form.cleaned_data["reason"]
        try:
            if form.cleaned_data["decision"] == RetentionReviewForm.KEEP:
                count = privacy.retention_keep(chosen, by=request.user, reason=reason)
                messages.success(request, _("%(count)d records kept.") % {"count": count})
            else:
                ids = [s.pk for s in chosen]
                actor_id = request.user.pk
                # Broker down: they stay on this list, to be chosen again.
                enqueue_on_commit(tasks.retention_anonymise, ids, actor_id, reason)
                messages.success(
                    request,
                    _("Anonymising %(count)d records; they leave this list as they are done.")
                    % {"count": len(ids)},
                )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("privacy-retention")
    return render(
        request,
        "relations/privacy/retention_review.html",
        {
            "form": form,
            "flagged": flagged[:REVIEW_PAGE_ROWS],
            "flagged_count": flagged.count(),
            "retention_days": privacy.retention_days(),
        },
        status=400 if form.errors else 200,
    )


@action_required(Action.HANDLE_PERSONAL_DATA)
@require_GET
def register(request: HttpRequest) -> HttpResponse:
    """Every data-protection action, newest first, filterable."""
    form = RegisterFilterForm(request.GET or None)
    actions = form.filter(DataProtectionAction.objects.select_related("actor"))
    return render(
        request,
        "relations/privacy/register.html",
        {"form": form, "page": paginate(request, actions)},
    )


@staff_required
@require_GET
def processing_record_view(request: HttpRequest) -> HttpResponse:
    """The record of processing activities (GDPR Art. 30): page, JSON or CSV."""
    record = privacy.processing_record()
    export = request.GET.get("format")
    if export == "json":
        response = HttpResponse(
            json.dumps(record, cls=_LazyEncoder, indent=2, ensure_ascii=False),
            content_type="application/json",
        )
        response["Content-Disposition"] = 'attachment; filename="record-of-processing.json"'
        return response
    if export == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="record-of-processing.csv"'
        rows = privacy.processing_record_rows()
        writer = csv.DictWriter(response, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return response
    return render(request, "relations/privacy/processing_record.html", {"record": record})


class _LazyEncoder(DjangoJSONEncoder):
    """Lazy translations render as text in the reader's language."""

    def default(self, o: Any) -> Any:
        from django.utils.functional import Promise

        if isinstance(o, Promise):
            return str(o)
        return super().default(o)
