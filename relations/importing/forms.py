"""Upload and column-mapping forms of the import pages."""

from __future__ import annotations

import os

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relations.importing import columns as cols
from relations.importing.models import ImportJob
from relations.importing.parsing import ImportFileError
from relations.importing.services import max_bytes

EXTENSIONS = {
    "csv": {".csv", ".txt", ".tsv"},
    "vcard": {".vcf", ".vcard"},
}
# What browsers and clients send for CSV and vCard files; anything else (an
# image, a PDF, a spreadsheet) is refused before it is read.
CONTENT_TYPES = {
    "csv": {
        "text/csv",
        "text/plain",
        "text/tab-separated-values",
        "application/csv",
        "application/vnd.ms-excel",
        "text/comma-separated-values",
        "application/octet-stream",
        "text/x-csv",
        "",
    },
    "vcard": {
        "text/vcard",
        "text/x-vcard",
        "text/directory",
        "text/plain",
        "application/octet-stream",
        "",
    },
}


def upload_check(upload, kind: str) -> bytes:
    """The bytes of an upload, if its name, type and size fit the kind of import.

    Raises ImportFileError with the message for the user.
    """
    family = "vcard" if kind == ImportJob.Kind.VCARD else "csv"
    extension = os.path.splitext(upload.name or "")[1].lower()
    if extension not in EXTENSIONS[family]:
        raise ImportFileError(
            _("Choose a %(kind)s file (%(extensions)s).")
            % {
                "kind": "vCard" if family == "vcard" else "CSV",
                "extensions": ", ".join(sorted(EXTENSIONS[family])),
            }
        )
    content_type = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    if content_type not in CONTENT_TYPES[family]:
        raise ImportFileError(
            _("A file of type %(type)s cannot be imported.") % {"type": content_type[:60]}
        )
    if upload.size is not None and upload.size > max_bytes():
        raise ImportFileError(
            _("The file is larger than the limit of %(mb).1f MB.") % {"mb": max_bytes() / 2**20}
        )
    content = upload.read(max_bytes() + 1)
    if len(content) > max_bytes():
        raise ImportFileError(
            _("The file is larger than the limit of %(mb).1f MB.") % {"mb": max_bytes() / 2**20}
        )
    return content


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What the file holds"),
        choices=ImportJob.Kind.choices,
        initial=ImportJob.Kind.STAKEHOLDERS,
    )
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "CSV (comma, semicolon or tab separated; UTF-8 or Windows-1252) or vCard (.vcf)."
        ),
    )

    def clean(self):
        cleaned = super().clean()
        upload, kind = cleaned.get("file"), cleaned.get("kind")
        if upload is not None and kind:
            try:
                cleaned["content"] = upload_check(upload, kind)
            except ImportFileError as exc:
                self.add_error("file", str(exc))
        return cleaned


class MappingForm(forms.Form):
    """One choice per column of the file, and what to do with duplicates."""

    duplicates = forms.ChoiceField(
        label=gettext_lazy("Rows that match an existing record"),
        choices=ImportJob.Duplicates.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "A stakeholder matches on the same e-mail address, or the same name at the "
            "same organization; an organization on its name; an interaction on the same "
            "time, subject and stakeholder."
        ),
    )

    def __init__(self, *args, job: ImportJob, **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        self.fields["duplicates"].initial = job.duplicates
        self.mappable = job.kind != ImportJob.Kind.VCARD
        if not self.mappable:
            return
        choices = [("", _("— do not import —"))] + [
            (c.name, c.label) for c in cols.COLUMNS[job.kind]
        ]
        for index, header in enumerate(job.headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or _("Column %(number)d") % {"number": index + 1},
                choices=choices,
                required=False,
                initial=job.mapping[index] if index < len(job.mapping) else "",
            )

    def column_fields(self):
        return [self[f"column_{i}"] for i in range(len(self.job.headers))] if self.mappable else []

    def clean(self):
        cleaned = super().clean()
        if not self.mappable:
            cleaned["mapping"] = None
            return cleaned
        mapping = [cleaned.get(f"column_{i}") or "" for i in range(len(self.job.headers))]
        for problem in cols.mapping_problems(self.job.kind, mapping):
            self.add_error(None, problem)
        cleaned["mapping"] = mapping
        return cleaned
