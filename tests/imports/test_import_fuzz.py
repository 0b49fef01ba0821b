"""Hypothesis over the importers (issue 8), with a fixed budget: arbitrary bytes and
hostile CSV/vCard files never raise an unhandled exception, and what they import
is only whole, valid rows, every row accounted for."""

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relations.importing import services
from relations.importing.models import ImportJob
from relations.importing.parsing import ImportFileError
from relations.models import Interaction, Organization, Stakeholder

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Cells that have broken importers before: quotes, separators, newlines, BOMs,
# control characters, overlong values, look-alike numbers and addresses.
nasty_cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            '"',
            '""',
            ";",
            ",",
            "\t",
            "\r\n",
            "\n",
            "\ufeff",
            "\x00",
            "\x1b",
            "é",
            "€",
            "0",
            "-1",
            "6",
            "3.5",
            "1e9",
            "NaN",
            "a@b",
            "a@b.nl",
            "@",
            "x" * 300,
            "maria",
            "nobody",
            "acme",
            "https://",
            "2026-02-30",
            "tomorrow",
        ]
    ),
)
headers = st.lists(
    st.sampled_from(
        [
            "Name",
            "E-mail",
            "Organisation",
            "Importance",
            "Tags",
            "Phone",
            "Owner",
            "Cadence",
            "Notes",
            "Title",
            "Consent date",
            "Legal basis",
            "",
        ]
    ),
    min_size=1,
    max_size=7,
)


def _import(user, kind: str, content: bytes) -> ImportJob | None:
    try:
        job, _ = services.import_job_create(
            owner=user, kind=kind, file_name="fuzz", content=content
        )
    except ImportFileError as exc:
        assert str(exc)  # a message for the user, never an empty refusal
        return None
    job.status = ImportJob.Status.PENDING
    job.save(update_fields=["status"])
    services.import_run(job.pk)
    job.refresh_from_db()
    return job


def _assert_consistent(job: ImportJob | None, model) -> None:
    """Every row is created, merged, skipped or reported; what exists is valid."""
    if job is None:
        return
    assert job.status == ImportJob.Status.DONE, job.error
    assert (
        job.created_count + job.merged_count + job.skipped_count + job.error_count == job.total_rows
    )
    created = services.id_ranges_expand((job.created or {}).get(model._meta.label_lower, []))
    for obj in model.objects.filter(pk__in=created):
        obj.full_clean(validate_constraints=False)


@FUZZ
@given(content=st.binary(max_size=3000), kind=st.sampled_from(list(ImportJob.Kind.values)))
def test_arbitrary_bytes_never_crash_an_import(manager, content, kind):
    job = _import(manager, kind, content)
    model = {"organizations": Organization, "interactions": Interaction}.get(kind, Stakeholder)
    _assert_consistent(job, model)


@FUZZ
@given(
    header=headers,
    rows=st.lists(st.lists(nasty_cell, max_size=8), max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_hostile_stakeholder_csv_imports_only_valid_rows(
    manager, header, rows, delimiter, encoding
):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    content = out.getvalue().encode(encoding, errors="replace")
    job = _import(manager, "stakeholders", content)
    _assert_consistent(job, Stakeholder)


@FUZZ
@given(
    lines=st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "BEGIN:VCARD",
                    "END:VCARD",
                    "VERSION:3.0",
                    "VERSION:4.0",
                    "FN:Anna",
                    "N:Jansen;Anna;;;",
                    "EMAIL:anna@acme.nl",
                    "EMAIL:broken",
                    "ORG:Acme;Sales",
                    "TEL:+31 6 1",
                    "NOTE:a\\nb",
                    "BEGIN:VCALENDAR",
                    " folded",
                    "EMAIL;garbage",
                ]
            ),
            st.text(max_size=40),
        ),
        max_size=25,
    )
)
def test_malformed_vcards_never_crash_an_import(manager, lines):
    content = ("BEGIN:VCARD\r\n" + "\r\n".join(lines)).encode("utf-8", errors="replace")
    job = _import(manager, "vcard", content)
    _assert_consistent(job, Stakeholder)
