"""Signals other apps listen to; `relations` itself depends on no other app of ours."""

from django.dispatch import Signal

# Sent inside the transaction of every write to the records that scores and the
# network are computed from, naming what changed, so that the apps deriving
# figures from them (metrics, networks) mark those figures stale. One row at a
# time (services, the admin, the shell), `relations.record_changes` sends it
# from the model signals; bulk writers that bypass them (the importer, merges)
# send it themselves. Keyword arguments, each an iterable, empty when nothing of
# that kind changed:
# - `interactions`: ids of interactions created, edited, about to be deleted or
#   to lose a participant (sent while their rows are still there);
# - `stakeholders`: ids of stakeholders whose own figures' inputs changed (their
#   settings, or a commitment or an outcome filed under them);
# - `pairs`: (user id, stakeholder id) of the relationships whose inputs changed;
# - `links`: ids of stakeholder links saved or deleted;
# - `goals`: ids of the goals whose linked stakeholders changed.
records_changed = Signal()
