"""Browser pages for merging duplicate stakeholders and organisations: pick, preview, confirm."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from relations.forms import stakeholder_label
from relations.merging.services import (
    merge_refusal,
    organization_merge,
    organization_merge_preview,
    stakeholder_merge,
    stakeholder_merge_preview,
)
from relations.models import Organization, Stakeholder
from relations.pages import limited_choices, staff_required


class MergeForm(forms.Form):
    other = forms.ModelChoiceField(
        label=gettext_lazy("Duplicate to merge into this record"),
        queryset=Stakeholder.objects.none(),
        help_text=gettext_lazy("It will be deleted once everything of it has moved here."),
    )

    def __init__(self, *args, queryset, label, autocomplete: str, exclude_pk: int, **kwargs):
        super().__init__(*args, **kwargs)
        queryset = queryset.exclude(pk=exclude_pk)
        field = self.fields["other"]
        field.queryset = queryset
        field.widget.choices = limited_choices(queryset, self.data.get("other"), label, blank="—")
        field.widget.attrs.update(
            {"class": "form-select", "data-autocomplete-url": reverse(autocomplete)}
        )


KINDS = {
    "stakeholder": {
        "model": Stakeholder,
        "label": stakeholder_label,
        "autocomplete": "autocomplete-stakeholders",
        "preview": stakeholder_merge_preview,
        "merge": stakeholder_merge,
    },
    "organization": {
        "model": Organization,
        "label": str,
        "autocomplete": "autocomplete-organizations",
        "preview": organization_merge_preview,
        "merge": organization_merge,
    },
}


@staff_required
@require_http_methods(["GET", "POST"])
def merge(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    spec = KINDS[kind]
    records = spec["model"].objects.visible_to(request.user)
    keep = get_object_or_404(records, pk=pk)
    if not keep.mergeable_by(request.user):
        raise PermissionDenied
    data = (
        request.POST
        if request.method == "POST"
        else (request.GET if "other" in request.GET else None)
    )
    form = MergeForm(
        data,
        queryset=records,
        label=spec["label"],
        autocomplete=spec["autocomplete"],
        exclude_pk=keep.pk,
    )
    preview = absorb = None
    if data is not None and form.is_valid():
        absorb = form.cleaned_data["other"]
        refusal = merge_refusal(keep, absorb)
        if refusal:
            form.add_error("other", refusal)
        elif not absorb.mergeable_by(request.user):
            form.add_error("other", _("You may not change that record, so it cannot be merged."))
        elif request.method == "POST" and request.POST.get("confirm") == "1":
            try:
                spec["merge"](keep=keep, absorb=absorb, by=request.user)
            except ValidationError as error:
                form.add_error(None, error)
            except PermissionDenied:
                form.add_error(
                    "other", _("You may not change that record, so it cannot be merged.")
                )
            else:
                messages.success(
                    request,
                    _("“%(absorbed)s” was merged into “%(kept)s”.")
                    % {"absorbed": absorb, "kept": keep},
                )
                return redirect(keep)
        else:
            preview = spec["preview"](keep, absorb)
    return render(
        request,
        "relations/merge.html",
        {
            "kind": kind,
            "keep": keep,
            "absorb": absorb if preview else None,
            "preview": preview,
            "form": form,
        },
    )
