"""Import pages: upload → preview and column mapping → job page (progress, report, undo)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relations.importing import services
from relations.importing.forms import MappingForm, UploadForm
from relations.importing.models import ImportJob
from relations.importing.parsing import ImportFileError
from relations.pages import paginate, staff_required

# The preview shows enough rows to recognise the columns, not the file.
PREVIEW_ROWS = 5


def _job(request: HttpRequest, pk: int) -> ImportJob:
    return get_object_or_404(
        ImportJob.objects.visible_to(request.user).defer("content").select_related("owner"),
        pk=pk,
    )


@staff_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    jobs = ImportJob.objects.visible_to(request.user).defer("content").select_related("owner")
    return render(request, "imports/import_list.html", {"page": paginate(request, jobs)})


@staff_required
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job, _inspection = services.import_job_create(
                owner=request.user,
                kind=form.cleaned_data["kind"],
                file_name=form.cleaned_data["file"].name,
                content=form.cleaned_data["content"],
            )
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("import-preview", pk=job.pk)
    return render(
        request,
        "imports/import_new.html",
        {"form": form, "max_mb": services.max_bytes() / 2**20},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.status != ImportJob.Status.UPLOADED:
        return redirect(job)
    form = MappingForm(request.POST or None, job=job)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            services.import_job_start(
                job,
                mapping=form.cleaned_data["mapping"],
                duplicates=form.cleaned_data["duplicates"],
            )
        return redirect(job)
    sample = (job.report or {}).get("sample", [])[:PREVIEW_ROWS]
    width = len(job.headers)
    return render(
        request,
        "imports/import_preview.html",
        {
            "job": job,
            "form": form,
            # Padded to the header's width so every column lines up under its choice.
            "sample": [(row + [""] * width)[:width] for row in sample],
        },
    )


@staff_required
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.status == ImportJob.Status.UPLOADED:
        return redirect("import-preview", pk=job.pk)
    if services.import_sweep_when_embedded(job):
        job.refresh_from_db()
    report = job.report or {}
    return render(
        request,
        "imports/import_detail.html",
        {
            "job": job,
            "errors": report.get("errors", []),
            "notes": report.get("notes", []),
            "matched": report.get("matched", []),
            "can_undo": job.can_undo(request.user),
            "detail_url_name": "organization-detail"
            if job.kind == ImportJob.Kind.ORGANIZATIONS
            else "interaction-detail"
            if job.kind == ImportJob.Kind.INTERACTIONS
            else "stakeholder-detail",
        },
    )


@staff_required
@require_GET
def import_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by the job page's progress bar."""
    job = _job(request, pk)
    if services.import_sweep_when_embedded(job):
        job.refresh_from_db()
    return JsonResponse(
        {
            "status": job.status,
            "status_display": job.get_status_display(),
            "progress": round(job.progress, 4),
            "processed_rows": job.processed_rows,
            "total_rows": job.total_rows,
            "active": job.is_active,
        }
    )


@staff_required
@require_POST
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    with transaction.atomic():
        job = get_object_or_404(
            ImportJob.objects.visible_to(request.user).select_for_update(), pk=pk
        )
        if not job.can_undo(request.user):
            messages.error(request, _("This import cannot be undone."))
            return redirect(job)
        services.import_undo_start(job, by=request.user)
    messages.success(request, _("The import is being undone."))
    return redirect(reverse("import-detail", args=[job.pk]))
