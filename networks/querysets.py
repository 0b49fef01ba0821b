"""Reusable reads of the stored network results."""

from __future__ import annotations

from django.db import models


class StakeholderThreadsQuerySet(models.QuerySet):
    def key_person_risk(self) -> StakeholderThreadsQuerySet:
        """Key stakeholders whose only thread is one colleague (DESIGN §4): if that
        colleague leaves, the relationship leaves with them.

        The one definition of key-person risk: the API and the page start from it.
        """
        return self.filter(is_key=True, thread_count=1, sole_thread_user__isnull=False)
