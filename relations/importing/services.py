"""Importing files: create the job at upload, run it in batches, undo it.

A job runs in batches of BATCH_SIZE rows, one transaction each; what a batch
created or changed is recorded on the job in the same transaction, so the job
always knows exactly what to delete and revert, whether the user undoes the
import or the import fails half-way (it is then rolled back completely and
reported as failed: never a partial silent import). Webhooks hear of the
interactions an import created when it is done (`interaction.created`).

A lost run (worker killed, task lost with the broker) leaves its job queued or
running without progress; `import_sweep_stale` queues it again, and the next run
removes what the lost one wrote before it starts. Each run claims the job and
checks its claim, under the job's row lock, before every batch: a run that lost
the job to a later one stops without writing, so no row is imported twice.

Bad rows are reported with their line and reason and leave nothing behind: a
row is validated completely (columns.py) before anything of it is written.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from relations.importing import columns as cols
from relations.importing.bulk import bulk_insert, bulk_link, statistics_refresh_after_bulk
from relations.importing.models import ImportJob
from relations.importing.parsing import ImportFileError, decode, read_csv, read_vcards
from relations.matching import email_key, match_key
from relations.models import (
    CADENCE_DAYS_BY_IMPORTANCE,
    AuditEvent,
    Interaction,
    Organization,
    Relationship,
    Stakeholder,
    Tag,
)
from relations.publishing import enqueue_on_commit, runs_in_thread
from relations.roles import staff_users
from relations.services import (
    audit_event,
    audit_record,
    audit_record_many,
    interactions_created_announce,
)
from relations.signals import announced, records_changed

logger = logging.getLogger(__name__)

# Field labels for row errors, translated only when a message is built: calling
# gettext for every cell of a 100,000-row file costs seconds.
lz = functools.cache(gettext_lazy)

# Rows per transaction: large enough that bulk inserts amortise their round trips
# (100,000 rows in well under a minute), small enough that progress moves every
# second or so and one batch's lock time stays short.
# A merge that would give an existing stakeholder to someone else: the hand-over rule
# (`Stakeholder.owner_changeable_by`) applies to imports too.
OWNER_CHANGE_REFUSED = gettext_lazy(
    "Only the stakeholder's owner or a director may give it to someone else: row skipped."
)

BATCH_SIZE = 2000
# Ids per DELETE when undoing: bounds the size of one IN (...) list.
DELETE_CHUNK = 500
ParticipantLink = Interaction.internal_participants.through
StakeholderInteraction = Interaction.stakeholders.through
TagLink = Stakeholder.tags.through
# Everything a run changes on the job; never the stored file, rewritten on every save otherwise.
PROGRESS_FIELDS = [
    "status",
    "total_rows",
    "processed_rows",
    "created_count",
    "merged_count",
    "skipped_count",
    "error_count",
    "report",
    "created",
    "merged",
    "error",
    "started_at",
    "finished_at",
    "undone_at",
    "heartbeat_at",
]


def max_bytes() -> int:
    return int(getattr(settings, "RAPPORT_IMPORT_MAX_BYTES", 20 * 1024 * 1024))


def max_rows() -> int:
    return int(getattr(settings, "RAPPORT_IMPORT_MAX_ROWS", 200_000))


def report_limit() -> int:
    return int(getattr(settings, "RAPPORT_IMPORT_REPORT_LIMIT", 1000))


def stale_after() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "RAPPORT_IMPORT_STALE_SECONDS", 600)))


def max_attempts() -> int:
    return int(getattr(settings, "RAPPORT_IMPORT_MAX_ATTEMPTS", 3))


# --------------------------------------------------------------------------
# Reading the file


@dataclass
class Inspection:
    """What the preview shows: how the file was read and its first rows."""

    encoding: str
    delimiter: str
    headers: list[str]
    sample: list[list[str]]
    total_rows: int
    mapping: list[str]


def file_inspect(content: bytes, kind: str) -> Inspection:
    """Read the whole file once (so a broken one is refused at upload, before any
    import) and guess the column mapping. Raises ImportFileError."""
    if len(content) > max_bytes():
        raise ImportFileError(
            _("The file is larger than the limit of %(mb).1f MB.") % {"mb": max_bytes() / 2**20}
        )
    if not content:
        raise ImportFileError(_("The file is empty."))
    if kind == ImportJob.Kind.VCARD:
        cards = read_vcards(content)
        headers = list(_VCARD_HEADERS)
        sample = [[c.values.get(f, "") for f in _VCARD_FIELDS] for c in cards[:5]]
        total, encoding, delimiter = len(cards), "", ""
        mapping = list(_VCARD_FIELDS)
    else:
        table = read_csv(content)
        headers, sample = table.headers, [r.cells for r in table.rows[:5]]
        total, encoding, delimiter = len(table.rows), table.encoding, table.delimiter
        mapping = cols.guess_mapping(kind, headers)
    if total == 0:
        raise ImportFileError(_("The file holds no rows to import."))
    if total > max_rows():
        raise ImportFileError(
            _("The file holds %(rows)d rows; the limit is %(max)d.")
            % {"rows": total, "max": max_rows()}
        )
    return Inspection(encoding, delimiter, headers, sample, total, mapping)


_VCARD_FIELDS = ["name", "email", "phone", "organization", "title", "notes"]
_VCARD_HEADERS = ["FN", "EMAIL", "TEL", "ORG", "TITLE", "NOTE"]


@dataclass
class SourceRow:
    line: int
    values: dict[str, str]
    error: str = ""


def job_rows(job: ImportJob) -> list[SourceRow]:
    content = bytes(job.content)
    if job.kind == ImportJob.Kind.VCARD:
        return [
            SourceRow(
                card.line,
                {k: v for k, v in card.values.items() if v.strip()},
                card.values.get("_error", ""),
            )
            for card in read_vcards(content)
        ]
    table = read_csv(content)
    width = len(table.headers)
    rows = []
    for row in table.rows:
        extra = [c for c in row.cells[width:] if c.strip()]
        if extra:
            rows.append(
                SourceRow(
                    row.line,
                    {},
                    _("The row has %(found)d values but the header has %(columns)d columns.")
                    % {"found": len(row.cells), "columns": width},
                )
            )
            continue
        values = {
            field: row.cells[i]
            for i, field in enumerate(job.mapping)
            if field and i < len(row.cells) and row.cells[i].strip()
        }
        rows.append(SourceRow(row.line, values))
    return rows


# --------------------------------------------------------------------------
# Creating and starting jobs


def import_job_create(
    *, owner: User, kind: str, file_name: str, content: bytes, duplicates: str = "merge"
) -> tuple[ImportJob, Inspection]:
    """Store the upload as a job awaiting its mapping. Raises ImportFileError."""
    inspection = file_inspect(content, kind)
    job = ImportJob.objects.create(
        owner=owner,
        kind=kind,
        file_name=file_name[:255],
        content=content,
        encoding=inspection.encoding,
        delimiter=inspection.delimiter,
        headers=inspection.headers,
        mapping=inspection.mapping,
        duplicates=duplicates,
        total_rows=inspection.total_rows,
        report={"sample": inspection.sample},
    )
    return job, inspection


def import_job_start(job: ImportJob, *, mapping: list[str] | None, duplicates: str) -> ImportJob:
    """Queue the import after commit (in process without a broker).

    Broker unreachable: the job is marked failed with the reason; nothing was imported.
    """
    from relations.importing.tasks import import_run

    if mapping is not None:
        job.mapping = mapping
    job.duplicates = duplicates
    job.status = ImportJob.Status.PENDING
    job.attempts = 1
    job.heartbeat_at = timezone.now()
    job.save(update_fields=["mapping", "duplicates", "status", "attempts", "heartbeat_at"])
    # In the background: without a broker the import runs in a thread of the web
    # process, so the page that started it shows its progress instead of waiting.
    enqueue_on_commit(
        import_run,
        job.pk,
        1,
        on_failure=_job_not_started(
            job, status=ImportJob.Status.FAILED, finished_at=timezone.now()
        ),
        background=True,
    )
    return job


def import_undo_start(job: ImportJob, *, by: User) -> ImportJob:
    from relations.importing.tasks import import_undo

    job.status = ImportJob.Status.UNDOING
    job.undo_by = by
    job.attempts = 1
    job.heartbeat_at = timezone.now()
    job.error = ""
    job.save(update_fields=["status", "undo_by", "attempts", "heartbeat_at", "error"])
    enqueue_on_commit(
        import_undo,
        job.pk,
        by.pk,
        on_failure=_job_not_started(job, status=ImportJob.Status.DONE),
        background=True,
    )
    return job


def _job_not_started(job: ImportJob, **fields: Any) -> Callable[[Exception], None]:
    """What to record when the job's task could not be queued: `fields`, and the reason."""

    def record(exc: Exception) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            **fields,
            error=_("The job could not be started (%(reason)s). Nothing was changed.")
            % {"reason": str(exc)[:300]},
        )

    return record


# --------------------------------------------------------------------------
# Running


class Superseded(Exception):
    """The job is no longer this run's: a later run took it over, or the sweep gave it up."""


def import_run(job_id: int, attempt: int | None = None) -> str:
    """Run a queued import; idempotent: a redelivered task first removes what an
    interrupted run of the same job had written, then starts again.

    `attempt`: the number the job was queued with. A task of an earlier attempt (the
    sweep queued the job again since) does nothing; None (a task queued before
    attempts were counted) counts as the current one.
    """
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return "gone"
        if job.status not in {ImportJob.Status.PENDING, ImportJob.Status.RUNNING}:
            return job.status
        if attempt is not None and attempt != job.attempts:
            return "superseded"
        if job.status == ImportJob.Status.RUNNING:
            records_remove(job)
        _reset(job)
        job.status = ImportJob.Status.RUNNING
        # The start time is also this run's claim on the job (see `_claim_hold`).
        job.started_at = job.heartbeat_at = timezone.now()
        job.save(update_fields=PROGRESS_FIELDS)
    claim = job.started_at
    importer = IMPORTERS[job.kind](job)
    try:
        rows = job_rows(job)
        job.total_rows = len(rows)
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start : start + BATCH_SIZE]
            with transaction.atomic():
                _claim_hold(job.pk, claim)
                importer.run_batch(batch)
                importer.flush_into(job)
                job.processed_rows = min(job.total_rows, start + len(batch))
                job.heartbeat_at = timezone.now()
                job.save(update_fields=PROGRESS_FIELDS)
    except Superseded:
        logger.warning("Import job %s was taken over by another run; this one stops", job.pk)
        return "superseded"
    except Exception as exc:
        logger.exception("Import job %s failed", job.pk)
        with transaction.atomic():
            try:
                _claim_hold(job.pk, claim)
            except Superseded:
                return "superseded"  # what this run wrote is the new run's to remove
            job.refresh_from_db()
            records_remove(job)
            line = importer.current_line
            job.status = ImportJob.Status.FAILED
            job.finished_at = timezone.now()
            job.error = (
                _("The import stopped at line %(line)d (%(reason)s). Nothing was imported.")
                % {"line": line, "reason": _short(exc)}
                if line
                else _("The import failed (%(reason)s). Nothing was imported.")
                % {"reason": _short(exc)}
            )
            _reset(job, keep_report=False)
            job.save(update_fields=PROGRESS_FIELDS)
        return "failed"
    with transaction.atomic():
        try:
            _claim_hold(job.pk, claim)
        except Superseded:
            return "superseded"
        job.status = ImportJob.Status.DONE
        job.finished_at = job.heartbeat_at = timezone.now()
        job.save(update_fields=PROGRESS_FIELDS)
        audit_record(
            actor=job.owner,
            action=AuditEvent.Action.CREATE,
            obj=job,
            changes={
                "kind": job.kind,
                "file_name": job.file_name,
                "created": job.created_count,
                "merged": job.merged_count,
                "skipped": job.skipped_count,
                "errors": job.error_count,
            },
        )
        # Announced once the whole import is in: a failed import, rolled back, or a run
        # taken over and started again, must not have announced what it then removed.
        interactions_created_announce(
            id_ranges_expand((job.created or {}).get("relations.interaction", []))
        )
    created = job.created or {}
    statistics_refresh_after_bulk(
        sum(end - start + 1 for ranges in created.values() for start, end in ranges),
        created.keys(),
    )
    return "done"


def _claim_hold(job_id: int, claim: datetime | None) -> None:
    """Lock the job until the end of the current transaction if the run that claimed it
    at `claim` still holds it; raise Superseded otherwise. A later run's claim and the
    sweep take the same lock, so they wait for a batch in progress, and the run they
    replaced stops before its next batch."""
    held = (
        ImportJob.objects.select_for_update()
        .filter(pk=job_id, status=ImportJob.Status.RUNNING, started_at=claim)
        .values_list("pk", flat=True)
    )
    if not list(held):
        raise Superseded


def import_sweep_stale(*, now: datetime | None = None) -> dict[str, int]:
    """Queue again every import that stopped reporting progress (its task was lost with
    the broker, or its worker was killed); a job queued `max_attempts()` times already is
    marked failed instead, with whatever a lost run wrote removed. Idempotent: a job
    queued again has a fresh heartbeat, so the next sweep leaves it alone."""
    from relations.importing.tasks import import_run, import_undo

    now = now or timezone.now()
    cutoff = now - stale_after()
    stale = (
        ImportJob.objects.filter(
            status__in=[
                ImportJob.Status.PENDING,
                ImportJob.Status.RUNNING,
                ImportJob.Status.UNDOING,
            ]
        )
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff))
        .defer("content")
    )
    counts = {"requeued": 0, "failed": 0}
    for job_id in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            # A job locked by a batch in progress is not stale after all.
            job = stale.select_for_update(skip_locked=True).filter(pk=job_id).first()
            if job is None:
                continue
            undoing = job.status == ImportJob.Status.UNDOING
            if job.attempts >= max_attempts():
                (_give_up_undo if undoing else _give_up)(job, now)
                counts["failed"] += 1
                continue
            job.attempts += 1
            job.heartbeat_at = now
            job.save(update_fields=["attempts", "heartbeat_at"])
            logger.warning(
                "Import job %s made no progress; queued again (attempt %s)", job.pk, job.attempts
            )
            # An undo is one transaction: run again, it finds the job undone or undoes it.
            # Broker down: the heartbeat ages again and the next sweep retries.
            if undoing:
                enqueue_on_commit(import_undo, job.pk, job.undo_by_id, background=True)
            else:
                enqueue_on_commit(import_run, job.pk, job.attempts, background=True)
            counts["requeued"] += 1
    return counts


def import_sweep_when_embedded(job: ImportJob) -> bool:
    """Without a broker no beat runs `import_sweep_stale`: the job's page runs it when
    it shows an active job whose heartbeat is older than `stale_after()` (the server
    was stopped or killed while the job's thread ran). True when it swept."""
    from relations.importing.tasks import import_run

    if not job.is_active or not runs_in_thread(import_run):
        return False
    last_sign = job.heartbeat_at or job.created_at
    if last_sign >= timezone.now() - stale_after():
        return False
    import_sweep_stale()
    return True


def _give_up(job: ImportJob, now: datetime) -> None:
    logger.error("Import job %s failed after %s attempts", job.pk, job.attempts)
    if job.status == ImportJob.Status.RUNNING:
        records_remove(job)
    _reset(job, keep_report=False)
    job.status = ImportJob.Status.FAILED
    job.finished_at = now
    job.error = ngettext(
        "The import did not finish after %(count)d attempt (the worker stopped or the job "
        "was lost). Nothing was imported; upload the file again to try once more.",
        "The import did not finish after %(count)d attempts (the worker stopped or the job "
        "was lost). Nothing was imported; upload the file again to try once more.",
        job.attempts,
    ) % {"count": job.attempts}
    job.save(update_fields=PROGRESS_FIELDS)


def _give_up_undo(job: ImportJob, now: datetime) -> None:
    """An undo that never ran to the end removed nothing (it is one transaction): the
    import stands, and can be undone again."""
    logger.error("Undo of import job %s failed after %s attempts", job.pk, job.attempts)
    job.status = ImportJob.Status.DONE
    job.error = _(
        "The undo did not finish (the worker stopped or the job was lost). Nothing was "
        "removed; undo the import again to try once more."
    )
    job.save(update_fields=["status", "error"])


def _short(exc: BaseException) -> str:
    return (str(exc).splitlines() or [exc.__class__.__name__])[0][:300]


def _reset(job: ImportJob, keep_report: bool = False) -> None:
    job.processed_rows = job.created_count = job.merged_count = 0
    job.skipped_count = job.error_count = 0
    job.created, job.merged = {}, []
    if not keep_report:
        job.report = {"errors": [], "matched": []}


def import_undo(job_id: int, by_id: int | None) -> str:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return "gone"
        if job.status != ImportJob.Status.UNDOING:
            return job.status
        by = User.objects.filter(pk=by_id).first() if by_id else None
        removed = records_remove(job, by=by)
        job.status = ImportJob.Status.UNDONE
        job.undone_at = timezone.now()
        job.save(update_fields=PROGRESS_FIELDS)
        audit_record(
            actor=by,
            action=AuditEvent.Action.OTHER,
            obj=job,
            changes={"undo": removed},
        )
    return "undone"


# --------------------------------------------------------------------------
# Values as the job records them (JSON) and back


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _field_value(model: type[models.Model], attname: str, stored: Any) -> Any:
    field = next(f for f in model._meta.concrete_fields if f.attname == attname)
    if stored is None:
        return None
    if isinstance(field, models.ForeignKey):
        return int(stored)
    return field.to_python(stored)


MODELS = {m._meta.label_lower: m for m in (Organization, Stakeholder, Interaction, Tag)}


def records_remove(job: ImportJob, by: User | None = None) -> dict[str, int]:
    """Revert the job's merges and delete what it created; returns counts.

    Merged fields are put back only where they still hold the imported value:
    an edit made since the import is kept. An organisation created by the import
    that someone has since given another stakeholder is kept as well.
    """
    counts: dict[str, int] = defaultdict(int)
    audit: list[AuditEvent] = []
    for entry in reversed(job.merged):
        model = MODELS[entry["model"]]
        obj = model.objects.filter(pk=entry["id"]).first()
        if obj is None:
            continue
        reverted = {}
        for attname, (old, new) in entry.get("changes", {}).items():
            if _jsonable(getattr(obj, attname)) == new:
                setattr(obj, attname, _field_value(model, attname, old))
                reverted[attname] = [new, old]
        if reverted:
            if model is Interaction:
                obj.version += 1
                reverted_fields = [*reverted, "version"]
            else:
                reverted_fields = list(reverted)
            obj.save(update_fields=[*reverted_fields, "updated_at"])
        if entry.get("tags"):
            obj.tags.remove(*entry["tags"])
            reverted["tags_removed"] = entry["tags"]
        if reverted:
            counts["reverted"] += 1
            audit.append(
                audit_event(actor=by, action=AuditEvent.Action.UPDATE, obj=obj, changes=reverted)
            )
    _records_delete(job.created or {}, counts)
    audit_record_many(audit)
    return dict(counts)


def _records_delete(created: dict, counts: dict[str, int]) -> None:
    """Delete what an import created, announcing the touched interactions in bulk
    (the scores they fed are marked stale) rather than one query per deleted row."""
    interaction_ids = id_ranges_expand(created.get("relations.interaction", []))
    for chunk in _chunks(interaction_ids):
        records_changed.send(sender=ImportJob, interactions=chunk)
        counts["interactions"] += (
            announced(Interaction.objects.filter(pk__in=chunk))
            .delete()[1]
            .get("relations.Interaction", 0)
        )
    pairs = [tuple(p) for p in created.get("relationships", [])]
    for chunk in _chunks(pairs):
        still_shared = set(
            ParticipantLink.objects.filter(
                interaction__stakeholders__in={s for _, s in chunk},
                user_id__in={u for u, _ in chunk},
            ).values_list("user_id", "interaction__stakeholders")
        )
        gone = [p for p in chunk if p not in still_shared]
        if gone:
            condition = Q()
            for user_id, stakeholder_id in gone:
                condition |= Q(user_id=user_id, stakeholder_id=stakeholder_id)
            counts["relationships"] += (
                Relationship.objects.filter(condition).delete()[1].get("relations.Relationship", 0)
            )
    for chunk in _chunks(id_ranges_expand(created.get("relations.stakeholder", []))):
        # Interactions logged with them since the import stay, one participant short.
        touched = StakeholderInteraction.objects.filter(stakeholder_id__in=chunk).values_list(
            "interaction_id", flat=True
        )
        records_changed.send(sender=ImportJob, interactions=list(touched))
        counts["stakeholders"] += (
            announced(Stakeholder.objects.filter(pk__in=chunk))
            .delete()[1]
            .get("relations.Stakeholder", 0)
        )
    for chunk in _chunks(id_ranges_expand(created.get("relations.organization", []))):
        counts["organizations"] += (
            Organization.objects.filter(pk__in=chunk, stakeholders__isnull=True)
            .delete()[1]
            .get("relations.Organization", 0)
        )
    for chunk in _chunks(id_ranges_expand(created.get("relations.tag", []))):
        Tag.objects.filter(pk__in=chunk, stakeholders__isnull=True).delete()


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """[1, 2, 3, 7] → [[1, 3], [7, 7]]: ids taken from a sequence in one go are
    consecutive, so a job records 100,000 created ids in a few hundred bytes
    (it is saved with every batch)."""
    ranges: list[list[int]] = []
    for pk in sorted(ids):
        if ranges and pk == ranges[-1][1] + 1:
            ranges[-1][1] = pk
        else:
            ranges.append([pk, pk])
    return ranges


def id_ranges_expand(ranges: Iterable[Sequence[int]]) -> list[int]:
    return [pk for start, end in ranges for pk in range(start, end + 1)]


# --------------------------------------------------------------------------
# The stored files: kept for the undo window, forgotten on erasure

# Statuses whose file nothing reads again: undo works from what the run recorded.
FILE_NOT_NEEDED = (
    ImportJob.Status.DONE,
    ImportJob.Status.FAILED,
    ImportJob.Status.UNDONE,
    ImportJob.Status.UNDOING,
)


def file_retention() -> timedelta:
    return timedelta(days=int(getattr(settings, "RAPPORT_IMPORT_FILE_RETENTION_DAYS", 30)))


def import_files_expire(*, now: datetime | None = None) -> dict[str, int]:
    """Drop the stored files of imports older than the undo window
    (RAPPORT_IMPORT_FILE_RETENTION_DAYS): an uploaded file is personal data, kept
    only while someone may still look at the import again. Undo needs only what the
    run recorded, so it keeps working. An upload never mapped nor started within the
    window is marked failed, saying why. Run by beat (`imports-files-expire`)."""
    now = now or timezone.now()
    cutoff = now - file_retention()
    kept = ImportJob.objects.exclude(content=b"")
    finished = (
        kept.filter(status__in=FILE_NOT_NEEDED)
        .filter(
            Q(undone_at__lt=cutoff)
            | Q(undone_at__isnull=True, finished_at__lt=cutoff)
            | Q(undone_at__isnull=True, finished_at__isnull=True, created_at__lt=cutoff)
        )
        .update(content=b"")
    )
    abandoned = kept.filter(status=ImportJob.Status.UPLOADED, created_at__lt=cutoff).update(
        content=b"",
        status=ImportJob.Status.FAILED,
        finished_at=now,
        error=_(
            "The uploaded file was deleted after %(days)d days without being imported; "
            "upload it again to import it."
        )
        % {"days": file_retention().days},
    )
    return {"dropped": finished, "abandoned": abandoned}


def _file_text(job: ImportJob, content: bytes) -> tuple[str, str]:
    """The stored file as text and its encoding; a vCard unfolded (RFC 6350 §3.2), so
    that a value wrapped over two lines is found whole."""
    try:
        decoded = decode(content)
        text, encoding = decoded.text, decoded.encoding
    except ImportFileError:
        text, encoding = content.decode("latin-1"), "latin-1"
    if job.kind == ImportJob.Kind.VCARD:
        text = re.sub(r"\r?\n[ \t]", "", text)
    return text, encoding


def _job_recorded(job: ImportJob, stakeholder_id: int) -> bool:
    """Whether the run created, merged or matched this stakeholder (by its records)."""
    if job.kind not in (ImportJob.Kind.STAKEHOLDERS, ImportJob.Kind.VCARD):
        return False
    ranges = (job.created or {}).get("relations.stakeholder", [])
    if any(start <= stakeholder_id <= end for start, end in ranges):
        return True
    if any(
        e.get("model") == "relations.stakeholder" and e.get("id") == stakeholder_id
        for e in job.merged or []
    ):
        return True
    return any(m.get("id") == stakeholder_id for m in (job.report or {}).get("matched", []))


def import_files_forget(
    *, stakeholder_id: int, pattern: re.Pattern | None, linked_pattern: re.Pattern | None
) -> int:
    """Erasure (GDPR Art. 17): no stored import file keeps the person.

    A file nothing reads again (the import ran) is dropped when it names the person
    (`linked_pattern`: their name and its parts, e-mail, phone, long notes) or when the
    run created, merged or matched them. A file still to be imported keeps the other
    rows: the person's name, e-mail, phone and notes (`pattern`) are replaced by
    ERASED in it; if a value still names them (encoded in a vCard), the file is
    dropped and the import refused with the reason. Returns how many files changed.
    One file in memory at a time (each at most RAPPORT_IMPORT_MAX_BYTES)."""
    from relations.privacy.redaction import redact_text

    changed = 0
    candidates = ImportJob.objects.exclude(content=b"").order_by("pk")
    for job in candidates.defer("content").iterator():
        content = bytes(
            ImportJob.objects.filter(pk=job.pk).values_list("content", flat=True).first() or b""
        )
        text, encoding = _file_text(job, content)
        named = linked_pattern is not None and linked_pattern.search(text) is not None
        if job.status in FILE_NOT_NEEDED:
            if named or _job_recorded(job, stakeholder_id):
                ImportJob.objects.filter(pk=job.pk).update(content=b"")
                changed += 1
            continue
        if pattern is None or not pattern.search(text):
            continue
        redacted = redact_text(text, pattern).encode(
            "cp1252" if encoding == "windows-1252" else encoding, errors="replace"
        )
        try:
            rows = job_rows(ImportJob(kind=job.kind, mapping=job.mapping, content=redacted))
            still = any(pattern.search(v) for row in rows for v in row.values.values())
        except ImportFileError:
            still = True
        if still:
            ImportJob.objects.filter(pk=job.pk).update(
                content=b"",
                status=ImportJob.Status.FAILED,
                finished_at=timezone.now(),
                error=_(
                    "The uploaded file named a person whose data was erased; it was "
                    "deleted. Upload it again without them."
                ),
            )
        else:
            ImportJob.objects.filter(pk=job.pk).update(content=redacted)
        changed += 1
    return changed


def _chunks(items: Sequence) -> Iterable[Sequence]:
    for start in range(0, len(items), DELETE_CHUNK):
        yield items[start : start + DELETE_CHUNK]


# --------------------------------------------------------------------------
# Importers: one per kind; each validates a batch, then writes it in bulk


class Importer:
    """Shared bookkeeping: report, created ids, merges, counts, staff look-ups."""

    model: type[models.Model]
    # Fields a row may set on this model (and thus merge into an existing record).
    fields: tuple[str, ...] = ()

    def __init__(self, job: ImportJob):
        self.job = job
        self.user = job.owner
        self.merge = job.duplicates == ImportJob.Duplicates.MERGE
        self.limit = report_limit()
        self.current_line = 0
        self.errors: list[dict] = []
        self.notes: list[dict] = []
        self.matched: list[dict] = []
        self.created: dict[str, list] = defaultdict(list)
        self.merged: list[dict] = []
        self.counts = {"created": 0, "merged": 0, "skipped": 0, "errors": 0}
        self._staff: dict[str, int | None] | None = None
        # Records this job created (label -> ids): merging into them needs no revert.
        self.created_ids: set[tuple[str, int]] = set()

    # bookkeeping -------------------------------------------------------------

    def error(self, line: int, reason: str) -> None:
        self.counts["errors"] += 1
        if len(self.errors) < self.limit:
            self.errors.append({"line": line, "reason": reason})

    def note(self, line: int, text: str) -> None:
        """A value left out of an imported row, and why (shown with the report)."""
        if len(self.notes) < self.limit:
            self.notes.append({"line": line, "note": text})

    def match(self, line: int, obj: models.Model, action: str) -> None:
        self.counts["skipped" if action == "skipped" else "merged"] += 1
        if len(self.matched) < self.limit:
            self.matched.append({"line": line, "obj": obj, "action": action})

    def flush_into(self, job: ImportJob) -> None:
        """Copy this batch's results onto the job (saved by the caller, same transaction)."""
        report = job.report or {"errors": [], "matched": []}
        report.setdefault("errors", []).extend(self.errors)
        if self.notes:
            report["notes"] = [*report.get("notes", []), *self.notes][: self.limit]
        report.setdefault("matched", []).extend(
            {
                "line": m["line"],
                "id": m["obj"].pk,
                "name": str(m["obj"])[:200],
                "action": m["action"],
                "new": (self.model._meta.label_lower, m["obj"].pk) in self.created_ids,
            }
            for m in self.matched
        )
        limit = self.limit
        report["errors"], report["matched"] = report["errors"][:limit], report["matched"][:limit]
        job.report = report
        created = job.created or {}
        for label, ids in self.created.items():
            created.setdefault(label, []).extend(ids)
        job.created = created
        job.merged = [*(job.merged or []), *self.merged]
        job.created_count += self.counts["created"]
        job.merged_count += self.counts["merged"]
        job.skipped_count += self.counts["skipped"]
        job.error_count += self.counts["errors"]
        self.errors, self.matched, self.merged, self.notes = [], [], [], []
        self.created = defaultdict(list)
        self.counts = dict.fromkeys(self.counts, 0)

    def record_created(self, objs: Sequence[models.Model]) -> None:
        if not objs:
            return
        label = objs[0]._meta.label_lower
        ids = [o.pk for o in objs]
        self.created[label].extend(id_ranges(ids))
        self.created_ids.update((label, pk) for pk in ids)

    def staff_user(self, reference: str) -> int:
        """A colleague by username or e-mail (case-insensitive)."""
        if self._staff is None:
            staff = staff_users().order_by("pk")
            table: dict[str, int | None] = {}
            for pk, username, mail in staff.values_list("pk", "username", "email"):
                table[username.lower()] = pk
                if mail:
                    key = mail.lower()
                    # Two colleagues sharing an address: ambiguous, the username decides.
                    table[key] = None if key in table and table[key] != pk else pk
            self._staff = table
        found = self._staff.get(reference.strip().lower())
        if found is None:
            raise cols.RowError(
                _("No colleague has the username or e-mail “%(value)s”.")
                % {"value": reference.strip()[:80]}
            )
        return found

    # template --------------------------------------------------------------

    def run_batch(self, rows: list[SourceRow]) -> None:
        cleaned = []
        for row in rows:
            self.current_line = row.line
            if row.error:
                self.error(row.line, row.error)
                continue
            try:
                cleaned.append((row.line, self.clean(row.values)))
            except cols.RowError as exc:
                self.error(row.line, str(exc))
        self.current_line = rows[0].line if rows else 0
        self.write(cleaned)

    def clean(self, values: dict[str, str]) -> dict[str, Any]:
        raise NotImplementedError

    def write(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        raise NotImplementedError

    # merging -----------------------------------------------------------------

    def apply(self, obj: models.Model, values: dict[str, Any], changes: dict) -> None:
        """Set the row's values on `obj`, remembering each field's first old value."""
        for name in self.fields:
            if name not in values:
                continue
            attname = self.model._meta.get_field(name).attname
            old = getattr(obj, attname)
            new = values[name]
            if _jsonable(old) != _jsonable(new):
                if attname not in changes:
                    changes[attname] = [_jsonable(old), None]
                changes[attname][1] = _jsonable(new)
                setattr(obj, attname, new)

    def save_merges(self, targets: dict[int, tuple[models.Model, dict]]) -> None:
        """Save merged existing records one by one (their signals mark scores stale)."""
        audit = []
        label = self.model._meta.label_lower
        for obj, changes in targets.values():
            tags = changes.pop("_tags", None)
            changes = {k: v for k, v in changes.items() if v[0] != v[1]}
            if changes:
                update = list(changes)
                if self.model is Interaction:
                    obj.version += 1
                    update.append("version")
                obj.save(update_fields=[*update, "updated_at"])
            if (label, obj.pk) in self.created_ids or not (changes or tags):
                continue
            entry = {"model": label, "id": obj.pk, "changes": changes}
            if tags:
                entry["tags"] = tags
            self.merged.append(entry)
            audit.append(
                audit_event(
                    actor=self.user,
                    action=AuditEvent.Action.UPDATE,
                    obj=obj,
                    changes={
                        **changes,
                        "import": self.job.pk,
                        **({"tags_added": tags} if tags else {}),
                    },
                )
            )
        audit_record_many(audit)

    def audit_created(self, objs: Sequence[models.Model]) -> None:
        """One audit event per batch and model, naming the ids the import created
        (an event per record would double the cost of a large import)."""
        if not objs:
            return
        audit_record(
            actor=self.user,
            action=AuditEvent.Action.CREATE,
            obj=objs[0],
            object_id=f"import:{self.job.pk}",
            object_repr=(
                _("%(count)d records imported from %(file)s")
                % {"count": len(objs), "file": self.job.file_name}
            )[:200],
            changes={"import": self.job.pk, "ids": [o.pk for o in objs]},
        )


# --- organizations -------------------------------------------------------------


class OrganizationLookup:
    """Organisations by case-insensitive name, created on first mention."""

    def __init__(self, importer: Importer):
        self.importer = importer
        self.ids: dict[str, int] = {}

    def resolve(self, names: Iterable[str]) -> dict[str, int]:
        wanted: dict[str, str] = {}
        for name in names:
            if name:
                wanted.setdefault(match_key(name), name)
        missing = [k for k in wanted if k not in self.ids]
        if missing:
            for pk, key in (
                Organization.objects.filter(name_key__in=missing)
                .order_by("-pk")
                .values_list("pk", "name_key")
            ):
                self.ids[key] = pk  # the oldest wins: ordered newest first
            new = [Organization(name=wanted[k]) for k in missing if k not in self.ids]
            bulk_insert(Organization, new)
            self.importer.record_created(new)
            self.importer.audit_created(new)
            for org in new:
                self.ids[match_key(org.name)] = org.pk
        return {k: self.ids[k] for k in wanted}


class OrganizationImporter(Importer):
    model = Organization
    fields = ("name", "sector", "country", "website", "tier", "notes")

    def __init__(self, job: ImportJob):
        super().__init__(job)
        self.seen: dict[str, Organization] = {}

    def clean(self, values: dict[str, str]) -> dict[str, Any]:
        if "name" not in values:
            raise cols.RowError(_("A name is required."))
        cleaned: dict[str, Any] = {"name": cols.one_line(values["name"], 200, lz("Name"))}
        if "sector" in values:
            cleaned["sector"] = cols.one_line(values["sector"], 100, lz("Sector"))
        if "country" in values:
            cleaned["country"] = cols.one_line(values["country"], 100, lz("Country"))
        if "website" in values:
            cleaned["website"] = cols.website(values["website"])
        if "tier" in values:
            cleaned["tier"] = int(cols.choice(values["tier"], cols.ORGANIZATION_TIERS, lz("Tier")))
        if "notes" in values:
            cleaned["notes"] = cols.text(values["notes"], 20000, lz("Notes"))
        return cleaned

    def write(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        keys = {match_key(v["name"]) for _, v in rows} - set(self.seen)
        for org in Organization.objects.filter(name_key__in=keys).order_by("-pk"):
            self.seen[match_key(org.name)] = org
        new: list[Organization] = []
        targets: dict[int, tuple[models.Model, dict]] = {}
        pending: dict[int, dict] = {}
        for line, values in rows:
            key = match_key(values["name"])
            target = self.seen.get(key)
            if target is None:
                org = Organization(**values)
                new.append(org)
                self.seen[key] = org
                continue
            if not self.merge:
                self.match(line, target, "skipped")
                continue
            if target.pk is None:  # created earlier in this batch
                self.apply(target, values, pending.setdefault(id(target), {}))
            else:
                changes = targets.setdefault(target.pk, (target, {}))[1]
                self.apply(target, values, changes)
            self.match(line, target, "merged")
        bulk_insert(Organization, new)
        self.record_created(new)
        self.audit_created(new)
        self.counts["created"] += len(new)
        self.save_merges(targets)


# --- stakeholders --------------------------------------------------------------


class StakeholderImporter(Importer):
    model = Stakeholder
    fields = (
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
        "data_source",
        "notes",
    )

    def __init__(self, job: ImportJob):
        super().__init__(job)
        self.organizations = OrganizationLookup(self)
        self.by_email: dict[str, Stakeholder] = {}
        self.by_name: dict[tuple[str, int | None], Stakeholder] = {}
        self.data_source = (_("Import: %(file)s") % {"file": job.file_name})[:200]
        self.tags: dict[str, int] = {}

    def clean(self, values: dict[str, str]) -> dict[str, Any]:
        # First, middle, tussenvoegsel and last name, in that order ("Jan van den Berg").
        name = values.get("name") or " ".join(
            v.strip()
            for v in (
                values.get("first_name", ""),
                values.get("middle_name", ""),
                values.get("surname_prefix", ""),
                values.get("last_name", ""),
            )
            if v.strip()
        )
        if not name.strip():
            raise cols.RowError(_("A name is required."))
        values = dict(values)
        for field in ("email", "phone"):
            if field in values:
                values[field] = cols.first_of_many(values[field])
        self._leave_out_what_does_not_fit(values)
        cleaned: dict[str, Any] = {"name": cols.one_line(name, 200, lz("Name"))}
        organization = cols.one_line(values.get("organization", ""), 200, lz("Organization"))
        if organization:
            cleaned["_organization"] = organization
        if "title" in values:
            cleaned["title"] = cols.one_line(values["title"], 200, lz("Role / title"))
        if "email" in values:
            cleaned["email"] = cols.email(values["email"])
        if "phone" in values:
            cleaned["phone"] = cols.one_line(values["phone"], 40, lz("Phone"))
        for field, label in (
            ("importance", lz("Importance")),
            ("influence", lz("Influence")),
            ("interest", lz("Interest")),
        ):
            if field in values:
                cleaned[field] = cols.integer(values[field], 1, 5, label)
        if "cadence_days" in values:
            cleaned["cadence_days"] = cols.integer(
                values["cadence_days"], 1, 3650, lz("Contact cadence (days)")
            )
        if "owner" in values:
            cleaned["owner"] = self.staff_user(values["owner"])
        if "legal_basis" in values:
            cleaned["legal_basis"] = cols.choice(
                values["legal_basis"], cols.LEGAL_BASES, lz("Legal basis")
            )
        if "consent_date" in values:
            cleaned["consent_date"] = cols.parse_date(values["consent_date"], lz("Consent date"))
            if cleaned["consent_date"] > timezone.localdate():
                raise cols.RowError(_("Consent cannot be dated in the future."))
        if cleaned.get("legal_basis") == Stakeholder.LegalBasis.CONSENT and not cleaned.get(
            "consent_date"
        ):
            raise cols.RowError(_("Give the date of consent when consent is the basis."))
        if "data_source" in values:
            cleaned["data_source"] = cols.one_line(values["data_source"], 200, lz("Source"))
        if "notes" in values:
            cleaned["notes"] = cols.text(values["notes"], 20000, lz("Notes"))
        if "tags" in values:
            tags = sorted({t.lower() for t in cols.split_list(values["tags"])})[:50]
            for tag in tags:
                cols.one_line(tag, 60, lz("Tag"))
            cleaned["_tags"] = tags
        return cleaned

    def _leave_out_what_does_not_fit(self, values: dict[str, str]) -> None:
        """A word where a score is expected (Outlook's Priority "Normal") belongs to
        another field: the value is left out with a note, the row is imported. A number
        out of range is still a bad row (a typing error to correct)."""
        for field, label in (
            ("importance", lz("Importance")),
            ("influence", lz("Influence")),
            ("interest", lz("Interest")),
            ("cadence_days", lz("Contact cadence (days)")),
        ):
            value = values.get(field, "").strip()
            if value and not re.fullmatch(r"[+-]?\d+", value):
                del values[field]
                self.note(
                    self.current_line,
                    _("%(field)s “%(value)s” is not a number; it was left out.")
                    % {"field": label, "value": value[:40]},
                )

    def write(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        org_ids = self.organizations.resolve(
            v["_organization"] for _, v in rows if "_organization" in v
        )
        for _line, values in rows:
            if "_organization" in values:
                values["organization"] = org_ids[match_key(values.pop("_organization"))]
        self._load_existing(rows)

        new: list[Stakeholder] = []
        new_tags: list[tuple[Stakeholder, list[str]]] = []
        targets: dict[int, tuple[models.Model, dict]] = {}
        for line, values in rows:
            target = self._find(values)
            tags = values.pop("_tags", [])
            if target is None:
                obj = Stakeholder(**{"owner_id": self.user.pk, **_attrs(Stakeholder, values)})
                if not obj.cadence_days:
                    # bulk_create skips Stakeholder.save(), which sets this default.
                    obj.cadence_days = CADENCE_DAYS_BY_IMPORTANCE.get(obj.importance, 60)
                if not obj.data_source:
                    obj.data_source = self.data_source
                obj.data_source_kind = Stakeholder.DataSource.IMPORT
                new.append(obj)
                new_tags.append((obj, tags))
                self._remember(obj)
                continue
            if not self.merge:
                self.match(line, target, "skipped")
                continue
            owner = values.get("owner")
            if (
                target.pk is not None
                and owner is not None
                and owner != target.owner_id
                and not target.owner_changeable_by(self.user)
            ):
                self.error(line, str(OWNER_CHANGE_REFUSED))
                continue
            if target.pk is None:
                self.apply(target, values, {})
                new_tags.append((target, tags))
            else:
                changes = targets.setdefault(target.pk, (target, {}))[1]
                self.apply(target, values, changes)
                if tags:
                    changes.setdefault("_tag_names", []).extend(tags)
            self._remember(target)
            self.match(line, target, "merged")
        bulk_insert(Stakeholder, new)
        self.record_created(new)
        self.audit_created(new)
        self.counts["created"] += len(new)
        self._tag(new_tags, targets)
        self.save_merges(targets)

    def _load_existing(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        emails = {email_key(v["email"]) for _, v in rows if v.get("email")} - set(self.by_email)
        names = {match_key(v["name"]) for _, v in rows} - {n for n, _ in self.by_name}
        if not (emails or names):
            return
        found = duplicate_candidates(Stakeholder.objects.all(), emails=emails, names=names)
        for obj in found:
            self._remember(obj)  # newest first, so the oldest record wins

    def _remember(self, obj: Stakeholder) -> None:
        by_email, by_name = duplicate_keys(obj.name, obj.email, obj.organization_id)
        if by_email:
            self.by_email[by_email] = obj
        self.by_name[by_name] = obj

    def _find(self, values: dict[str, Any]) -> Stakeholder | None:
        by_email, by_name = duplicate_keys(
            values["name"], values.get("email", ""), values.get("organization")
        )
        if by_email:
            match = self.by_email.get(by_email)
            if match is not None:
                return match
        return self.by_name.get(by_name)

    def _tag(self, new_tags: list[tuple[Stakeholder, list[str]]], targets: dict) -> None:
        names = {t for _, tags in new_tags for t in tags}
        for _obj, changes in targets.values():
            names.update(changes.get("_tag_names", []))
        if not names:
            return
        missing = [n for n in names if n not in self.tags]
        for pk, name in Tag.objects.filter(name__in=missing).values_list("pk", "name"):
            self.tags[name] = pk
        fresh = [Tag(name=n) for n in missing if n not in self.tags]
        Tag.objects.bulk_create(fresh)
        self.record_created(fresh)
        for tag in fresh:
            self.tags[tag.name] = tag.pk
        links = {(obj.pk, self.tags[t]) for obj, tags in new_tags for t in tags}
        merged_wanted = {
            pk: {self.tags[t] for t in changes.pop("_tag_names", [])}
            for pk, (_, changes) in targets.items()
        }
        merged_wanted = {pk: ids for pk, ids in merged_wanted.items() if ids}
        if merged_wanted:
            have = set(
                TagLink.objects.filter(stakeholder_id__in=merged_wanted).values_list(
                    "stakeholder_id", "tag_id"
                )
            )
            for pk, ids in merged_wanted.items():
                added = sorted(i for i in ids if (pk, i) not in have)
                if added:
                    targets[pk][1]["_tags"] = added  # popped by save_merges
                    links.update((pk, i) for i in added)
        bulk_link(TagLink, "stakeholder_id", "tag_id", links)


# --- The duplicate rule of the stakeholder imports --------------------------------------
# One rule for the CSV and vCard imports and for contacts synced from an address book
# (connections.dav_sync): a contact is a stakeholder already known when it has the same
# e-mail address, or the same name at the same organisation (both without one counts);
# the oldest such record wins; an erased record is never matched (never filled again
# with personal data).


def duplicate_keys(
    name: str, email: str, organization_id: int | None
) -> tuple[str, tuple[str, int | None]]:
    """The keys two records must share to be duplicates: by e-mail ("" without one), and
    by name with organisation."""
    return (email_key(email) if email else ""), (match_key(name), organization_id)


def duplicate_candidates(
    stakeholders: models.QuerySet[Stakeholder], *, emails: Iterable[str], names: Iterable[str]
) -> models.QuerySet[Stakeholder]:
    """The stakeholders of `stakeholders` sharing one of the e-mail or name keys, newest
    first (remembered in that order, the oldest wins)."""
    return (
        stakeholders.filter(Q(email_key__in=list(emails)) | Q(name_key__in=list(names)))
        .filter(erased_at__isnull=True)
        .order_by("-pk")
    )


def stakeholder_duplicate_of(
    *,
    name: str,
    email: str,
    organization_name: str,
    among: models.QuerySet[Stakeholder] | None = None,
) -> Stakeholder | None:
    """The stakeholder (of `among`, default all) that a contact with this name, e-mail
    and organisation duplicates by the import's rule, or None."""
    from relations.models import Organization

    organization_id = None
    if organization_name.strip():
        organization_id = (
            Organization.objects.filter(name_key=match_key(organization_name))
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if organization_id is None:
            organization_id = -1  # an organisation nobody is at: no name matches
    by_email, by_name = duplicate_keys(name, email, organization_id)
    found = duplicate_candidates(
        Stakeholder.objects.all() if among is None else among,
        emails=[by_email] if by_email else [],
        names=[by_name[0]],
    )
    email_match = name_match = None
    for obj in found:  # newest first: the oldest is kept
        obj_email, obj_name = duplicate_keys(obj.name, obj.email, obj.organization_id)
        if by_email and obj_email == by_email:
            email_match = obj
        if obj_name == by_name:
            name_match = obj
    return email_match or name_match


def _attrs(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """A row's cleaned values as model attributes (foreign keys as `<name>_id`)."""
    return {model._meta.get_field(k).attname: v for k, v in values.items() if not k.startswith("_")}


# --- interactions ----------------------------------------------------------------


class InteractionImporter(Importer):
    model = Interaction
    fields = (
        "kind",
        "notes",
        "value_given",
        "value_received",
        "sentiment",
        "duration_minutes",
        "cost",
        "private",
    )

    def __init__(self, job: ImportJob):
        super().__init__(job)
        self.seen: dict[tuple, Interaction] = {}

    def clean(self, values: dict[str, str]) -> dict[str, Any]:
        if "occurred_at" not in values:
            raise cols.RowError(_("A date is required."))
        if "subject" not in values:
            raise cols.RowError(_("A subject is required."))
        when = values["occurred_at"]
        all_day = "all_day" in values and cols.boolean(values["all_day"], lz("All-day event"))
        if values.get("start_time") and not all_day:
            when = f"{when} {values['start_time']}"  # Outlook: Start Date + Start Time
        cleaned: dict[str, Any] = {
            "occurred_at": cols.parse_datetime(when.split(" ")[0] if all_day else when, lz("When")),
            "subject": cols.one_line(values["subject"], 200, lz("Subject")),
        }
        if all_day and "kind" not in values:
            cleaned["kind"] = Interaction.Kind.EVENT
        if values.get("end_time") and "duration_minutes" not in values and not all_day:
            end = cols.parse_datetime(
                f"{values.get('end_date') or values['occurred_at']} {values['end_time']}",
                lz("End time"),
            )
            minutes = int((end - cleaned["occurred_at"]).total_seconds() // 60)
            cleaned["duration_minutes"] = max(0, min(minutes, 24 * 60))
        refs = cols.split_list(values.get("stakeholders", ""))
        if not refs:
            raise cols.RowError(_("Name at least one stakeholder (e-mail or name)."))
        cleaned["_stakeholders"] = refs[:50]
        if "start_time" in values or "end_time" in values:
            # A calendar export names everyone invited, colleagues and guests too.
            cleaned["_lenient_attendees"] = True
        cleaned["_participants"] = sorted(
            {self.staff_user(r) for r in cols.split_list(values.get("participants", ""))}
        ) or [self.user.pk]
        if "kind" in values:
            cleaned["kind"] = cols.choice(values["kind"], cols.INTERACTION_KINDS, lz("Kind"))
        if "notes" in values:
            cleaned["notes"] = cols.text(values["notes"], 20000, lz("Notes"))
        for field, label in (
            ("value_given", lz("Value given")),
            ("value_received", lz("Value received")),
        ):
            if field in values:
                cleaned[field] = cols.integer(values[field], 0, 5, label)
        if "sentiment" in values:
            cleaned["sentiment"] = cols.integer(
                values["sentiment"].replace("+", ""), -2, 2, lz("Sentiment")
            )
        if "duration_minutes" in values:
            cleaned["duration_minutes"] = cols.integer(
                values["duration_minutes"], 0, 24 * 60, lz("Duration (minutes)")
            )
        if "cost" in values:
            cleaned["cost"] = cols.money(values["cost"], lz("Cost"))
        if "private" in values:
            cleaned["private"] = cols.boolean(values["private"], lz("Private"))
        return cleaned

    def _stakeholders_resolve(self, rows: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
        """Each reference to exactly one stakeholder the importer may see, or a bad row."""
        raw_refs = {r for _, v in rows for r in v["_stakeholders"]}
        emails = {email_key(r) for r in raw_refs if "@" in r}
        names = {match_key(r) for r in raw_refs if "@" not in r}
        by_key: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
        visible = Stakeholder.objects.visible_to(self.user)
        for pk, owner_id, email_l, name_l in visible.filter(
            Q(email_key__in=emails) | Q(name_key__in=names)
        ).values_list("pk", "owner_id", "email_key", "name_key"):
            if email_l in emails:
                by_key[email_l].append((pk, owner_id))
            if name_l in names:
                by_key[name_l].append((pk, owner_id))
        self.owner_of: dict[int, int | None] = {}
        good = []
        for line, values in rows:
            self.current_line = line
            ids = []
            problem = ""
            unknown: list[str] = []
            for ref in values["_stakeholders"]:
                found = by_key.get(email_key(ref) if "@" in ref else match_key(ref), [])
                if not found and values.get("_lenient_attendees"):
                    unknown.append(ref)  # a colleague or a guest of a calendar export
                    continue
                if not found:
                    problem = _("No stakeholder has the e-mail or name “%(value)s”.") % {
                        "value": ref[:80]
                    }
                elif len(found) > 1:
                    problem = _(
                        "%(count)d stakeholders match “%(value)s”; use their e-mail address."
                    ) % {"count": len(found), "value": ref[:80]}
                if problem:
                    break
                ids.append(found[0][0])
                self.owner_of[found[0][0]] = found[0][1]
            if not problem and not ids:
                problem = _("No stakeholder has the e-mail or name “%(value)s”.") % {
                    "value": "; ".join(unknown)[:80]
                }
            if problem:
                self.error(line, problem)
                continue
            if unknown:
                self.note(
                    line,
                    _("Attendees who are no stakeholder were left out: %(names)s.")
                    % {"names": "; ".join(unknown)[:200]},
                )
            values.pop("_lenient_attendees", None)
            values["_stakeholders"] = sorted(set(ids))
            good.append((line, values))
        return good

    def write(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        rows = self._stakeholders_resolve(rows)
        self._load_existing(rows)
        new: list[tuple[Interaction, dict]] = []
        targets: dict[int, tuple[models.Model, dict]] = {}
        for line, values in rows:
            target = self._find(values)
            if target is None:
                obj = Interaction(created_by_id=self.user.pk, **_attrs(Interaction, values))
                new.append((obj, values))
                self._remember(obj, values["_stakeholders"])
                continue
            if not self.merge or not self._may_change(target):
                self.match(line, target, "skipped")
                continue
            if target.pk is None:
                self.apply(target, values, {})
            else:
                changes = targets.setdefault(target.pk, (target, {}))[1]
                self.apply(target, values, changes)
            self.match(line, target, "merged")
        objs = [o for o, _ in new]
        bulk_insert(Interaction, objs)
        self.record_created(objs)
        self.counts["created"] += len(objs)
        participant_links = {(o.pk, u) for o, v in new for u in v["_participants"]}
        stakeholder_links = {(o.pk, s) for o, v in new for s in v["_stakeholders"]}
        bulk_link(ParticipantLink, "interaction_id", "user_id", participant_links)
        bulk_link(StakeholderInteraction, "interaction_id", "stakeholder_id", stakeholder_links)
        self._relationships_ensure(new)
        self.audit_created(objs)
        if objs:
            records_changed.send(sender=ImportJob, interactions=[o.pk for o in objs])
        self.save_merges(targets)

    def _relationships_ensure(self, new: list[tuple[Interaction, dict]]) -> None:
        """DESIGN §2: an interaction that first brings a user and a stakeholder together
        creates their relationship (the owner role for the stakeholder's owner)."""
        pairs = {(u, s) for _, v in new for u in v["_participants"] for s in v["_stakeholders"]}
        if not pairs:
            return
        existing = set(
            Relationship.objects.filter(
                user_id__in={u for u, _ in pairs}, stakeholder_id__in={s for _, s in pairs}
            ).values_list("user_id", "stakeholder_id")
        )
        missing = sorted(pairs - existing)
        Relationship.objects.bulk_create(
            [
                Relationship(
                    user_id=u,
                    stakeholder_id=s,
                    role=(
                        Relationship.Role.OWNER
                        if self.owner_of.get(s) == u
                        else Relationship.Role.SUPPORTING
                    ),
                )
                for u, s in missing
            ],
            ignore_conflicts=True,
        )
        self.created["relationships"].extend([u, s] for u, s in missing)

    def _key(self, occurred_at, subject: str) -> tuple:
        return (occurred_at.timestamp(), subject.lower())

    def _load_existing(self, rows: list[tuple[int, dict]]) -> None:
        times = {v["occurred_at"] for _, v in rows}
        if not times:
            return
        subjects = {v["subject"].lower() for _, v in rows}
        found = (
            Interaction.objects.visible_to(self.user)
            .filter(occurred_at__in=times)
            .annotate(subject_l=Lower("subject"))
            .filter(subject_l__in=subjects)
            .prefetch_related("stakeholders", "internal_participants")
            .order_by("-pk")
        )
        for obj in found:
            self._remember(obj, [s.pk for s in obj.stakeholders.all()])

    def _remember(self, obj: Interaction, stakeholder_ids: Iterable[int]) -> None:
        key = self._key(obj.occurred_at, obj.subject)
        for stakeholder_id in stakeholder_ids:
            self.seen[(*key, stakeholder_id)] = obj

    def _find(self, values: dict[str, Any]) -> Interaction | None:
        """Same moment, same subject, and a stakeholder in common."""
        key = self._key(values["occurred_at"], values["subject"])
        for stakeholder_id in values["_stakeholders"]:
            match = self.seen.get((*key, stakeholder_id))
            if match is not None:
                return match
        return None

    def _may_change(self, target: Interaction) -> bool:
        return target.pk is None or target.editable_by(self.user)


IMPORTERS: dict[str, type[Importer]] = {
    ImportJob.Kind.ORGANIZATIONS: OrganizationImporter,
    ImportJob.Kind.STAKEHOLDERS: StakeholderImporter,
    ImportJob.Kind.VCARD: StakeholderImporter,
    ImportJob.Kind.INTERACTIONS: InteractionImporter,
}

__all__ = [
    "ImportFileError",
    "file_inspect",
    "import_job_create",
    "import_job_start",
    "import_undo_start",
    "import_run",
    "import_undo",
    "records_remove",
]
