"""Browser pages of calendar and e-mail capture: /capture/."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from relations.capture.models import CaptureBatch
from relations.capture.parsing import CaptureError, parse_upload
from relations.capture.services import (
    AddressNotFound,
    calendar_feed_request,
    capture_address_create_stakeholder,
    capture_address_ignore,
    capture_import,
)
from relations.integrations.outbound import UnsafeDestination
from relations.models import Interaction, Stakeholder
from relations.pages import staff_required
from relations.roles import Action, may

RECENT_CAPTURES = 20
ACCEPTED_UPLOADS = ".ics,.ical,.eml,.mbox,text/calendar,message/rfc822,application/mbox"


class CaptureUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Calendar or e-mail file"),
        help_text=gettext_lazy("An .ics calendar, an .eml message or an .mbox mailbox."),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPTED_UPLOADS}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.RAPPORT_CAPTURE_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                _("The file is %(size)s; at most %(max)s can be captured at once.")
                % {"size": filesizeformat(upload.size), "max": filesizeformat(limit)}
            )
        raw = upload.read(limit + 1)
        try:
            source, records = parse_upload(raw, upload.name or "")
        except CaptureError as error:
            raise ValidationError(str(error)) from error
        self.cleaned_data["source"] = source
        self.cleaned_data["records"] = records
        return upload


class CalendarFeedForm(forms.Form):
    url = forms.URLField(
        label=gettext_lazy("Calendar feed URL"),
        max_length=1000,
        assume_scheme="https",
        help_text=gettext_lazy("A published .ics address (http or https); fetched by the server."),
    )


def _recent(request: HttpRequest):
    return CaptureBatch.objects.filter(created_by=request.user).only(
        "pk", "created_at", "source", "name", "status", "error"
    )[:RECENT_CAPTURES]


@staff_required
@require_http_methods(["GET", "POST"])
def capture_home(request: HttpRequest) -> HttpResponse:
    upload_form = CaptureUploadForm()
    feed_form = CalendarFeedForm()
    if request.method == "POST" and "url" in request.POST:
        feed_form = CalendarFeedForm(request.POST)
        if feed_form.is_valid():
            try:
                batch = calendar_feed_request(url=feed_form.cleaned_data["url"], by=request.user)
            except UnsafeDestination as error:
                feed_form.add_error("url", str(error))
            else:
                return redirect(batch)
    elif request.method == "POST":
        upload_form = CaptureUploadForm(request.POST, request.FILES)
        if upload_form.is_valid():
            data = upload_form.cleaned_data
            batch = capture_import(
                by=request.user,
                source=data["source"],
                name=(data["file"].name or "").replace("\x00", ""),
                records=data["records"],
            )
            messages.success(
                request,
                _("Captured: %(created)d interactions created, %(duplicate)d already known.")
                % {"created": batch.count("created"), "duplicate": batch.count("duplicate")},
            )
            return redirect(batch)
    return render(
        request,
        "relations/capture_home.html",
        {
            "upload_form": upload_form,
            "feed_form": feed_form,
            "recent": _recent(request),
            "max_bytes": settings.RAPPORT_CAPTURE_MAX_BYTES,
        },
    )


def _own_batch(request: HttpRequest, pk: int) -> CaptureBatch:
    batches = CaptureBatch.objects.select_related("feed")
    if not may(request.user, Action.SEE_EVERYONES_CAPTURES):
        batches = batches.filter(created_by=request.user)
    return get_object_or_404(batches, pk=pk)


@staff_required
@require_http_methods(["GET"])
def capture_result(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _own_batch(request, pk)
    interaction_ids = {i["interaction"] for i in batch.items if i.get("interaction")}
    visible = set(
        Interaction.objects.visible_to(request.user)
        .filter(pk__in=interaction_ids)
        .values_list("pk", flat=True)
    )
    stakeholder_ids = {s for i in batch.items for s in i.get("stakeholders", [])}
    stakeholder_ids |= {a["stakeholder"] for a in batch.addresses if a.get("stakeholder")}
    names = dict(
        Stakeholder.objects.visible_to(request.user)
        .filter(pk__in=stakeholder_ids)
        .values_list("pk", "name")
    )
    groups: dict[str, list[dict]] = {"created": [], "duplicate": [], "pending": [], "skipped": []}
    for item in batch.items:
        row = {
            **item,
            "when": (
                datetime.fromisoformat(item["occurred_at"]) if item.get("occurred_at") else None
            ),
            "visible": item.get("interaction") in visible,
            "stakeholder_names": [names[s] for s in item.get("stakeholders", []) if s in names],
        }
        groups.setdefault(item.get("outcome", "skipped"), []).append(row)
    addresses = [
        {**a, "stakeholder_name": names.get(a.get("stakeholder"), "")} for a in batch.addresses
    ]
    return render(
        request,
        "relations/capture_result.html",
        {
            "batch": batch,
            "groups": groups,
            "addresses": addresses,
            "open_addresses": sum(1 for a in addresses if a["status"] == "open"),
            "can_act": batch.created_by_id == request.user.pk,
        },
    )


@staff_required
@require_POST
def capture_address_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    batch = _own_batch(request, pk)
    if batch.created_by_id != request.user.pk:
        return HttpResponse(status=403)
    email = request.POST.get("email", "")
    try:
        if action == "create":
            name = request.POST.get("name", "").strip()[:200]
            stakeholder = capture_address_create_stakeholder(
                batch, email=email, name=name, by=request.user
            )
            messages.success(
                request,
                _("Stakeholder “%(name)s” created and added to the captured interactions.")
                % {"name": stakeholder.name},
            )
        else:
            capture_address_ignore(batch, email=email, by=request.user)
            messages.info(request, _("%(email)s ignored.") % {"email": email})
    except AddressNotFound:
        messages.error(request, _("That address is not part of this capture."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(batch)
