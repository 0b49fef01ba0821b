"""Signals other apps listen to; `relations` itself depends on no other app of ours."""

from django.dispatch import Signal

# Sent by bulk writers (the importer) that bypass the model signals: after their
# interactions and participant rows were inserted, and before they are deleted.
# Keyword argument: `interaction_ids`. metrics marks the touched scores stale.
interactions_bulk_changed = Signal()
