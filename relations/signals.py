"""Signals other apps listen to; `relations` itself depends on no other app of ours."""

from contextvars import ContextVar

from django.dispatch import Signal

# Sent by bulk writers (the importer) that bypass the model signals: after their
# interactions and participant rows were inserted, and before they are deleted.
# Keyword argument: `interaction_ids`. metrics marks the touched scores stale.
interactions_bulk_changed = Signal()

# True while a bulk writer deletes interactions or stakeholders whose touched
# interactions it has already announced with `interactions_bulk_changed`: the
# per-row pre_delete receivers may then skip their own (one query per row) work.
bulk_changes_announced: ContextVar[bool] = ContextVar("bulk_changes_announced", default=False)
