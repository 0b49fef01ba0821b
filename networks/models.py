"""Stored results of the network computation (DESIGN §4): never computed in a request."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relations.models import Stakeholder, StrategicGoal
from relations.roles import Action, may

from .querysets import StakeholderThreadsQuerySet


class NetworkRun(models.Model):
    """One computation of the whole network; the latest finished one is served."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(max_length=10, choices=Status, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    node_count = models.PositiveIntegerField(default=0)
    edge_count = models.PositiveIntegerField(default=0)
    betweenness_sampled = models.BooleanField(default=False)
    betweenness_k = models.PositiveIntegerField(null=True, blank=True)
    community_count = models.PositiveIntegerField(default=0)
    timings = models.JSONField(default=dict, blank=True)
    # The graph as compressed numpy arrays, so each web process can answer
    # introduction-path requests without rebuilding it from the database.
    graph = models.BinaryField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("network computation")
        indexes = [models.Index(fields=["status", "-finished_at"])]

    def __str__(self) -> str:
        return f"network run #{self.pk} ({self.status})"

    @classmethod
    def latest(cls) -> NetworkRun | None:
        return cls.objects.filter(status=cls.Status.DONE).defer("graph").first()


class NodeMetric(models.Model):
    """Broker figures of one node in the latest run."""

    class NodeType(models.TextChoices):
        USER = "user", _("Colleague")
        STAKEHOLDER = "stakeholder", _("Stakeholder")

    node_type = models.CharField(max_length=12, choices=NodeType)
    node_id = models.BigIntegerField()
    degree = models.PositiveIntegerField(default=0)
    betweenness = models.FloatField(null=True, blank=True)
    constraint = models.FloatField(null=True, blank=True)
    community = models.IntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("node metric")
        constraints = [
            models.UniqueConstraint(fields=["node_type", "node_id"], name="node_metric_unique")
        ]
        indexes = [models.Index(fields=["-betweenness"])]

    def __str__(self) -> str:
        return f"{self.node_type} {self.node_id}"


class StakeholderThreads(models.Model):
    """Who holds the relationship with a stakeholder (threads: strength ≥ 0.3)."""

    stakeholder = models.OneToOneField(
        Stakeholder, on_delete=models.CASCADE, primary_key=True, related_name="threads"
    )
    is_key = models.BooleanField(default=False)
    thread_count = models.PositiveIntegerField(default=0)
    thread_user_ids = models.JSONField(default=list)
    # The only thread of a single-threaded stakeholder: key-person risk is one query.
    sole_thread_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sole_threads",
    )
    computed_at = models.DateTimeField()

    objects = StakeholderThreadsQuerySet.as_manager()

    class Meta:
        verbose_name = _("stakeholder threads")
        indexes = [models.Index(fields=["is_key", "thread_count"])]

    def __str__(self) -> str:
        return f"threads of stakeholder {self.stakeholder_id}"


class NetworkHealth(models.Model):
    """Network health of a scope as of a date: the current figures and the daily trend."""

    class Scope(models.TextChoices):
        ORGANISATION = "organisation", _("Organisation")
        TEAM = "team", _("Team")
        GOAL = "goal", _("Strategic goal")

    scope = models.CharField(max_length=12, choices=Scope, default=Scope.ORGANISATION)
    # 0 for the organisation, so that (scope, scope_id, date) is unique everywhere.
    scope_id = models.BigIntegerField(default=0)
    date = models.DateField()
    coverage = models.FloatField(null=True, blank=True)
    single_threaded_share = models.FloatField(null=True, blank=True)
    unthreaded_share = models.FloatField(null=True, blank=True)
    mean_trust = models.FloatField(null=True, blank=True)
    mean_reciprocity = models.FloatField(null=True, blank=True)
    return_value = models.FloatField(null=True, blank=True, db_column="return")
    investment = models.FloatField(null=True, blank=True)
    ror = models.FloatField(null=True, blank=True)
    at_risk_count = models.PositiveIntegerField(default=0)
    key_stakeholders = models.PositiveIntegerField(default=0)
    health_index = models.FloatField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["scope", "scope_id", "date"]
        verbose_name = _("network health")
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "scope_id", "date"], name="network_health_unique_day"
            )
        ]

    def __str__(self) -> str:
        return f"health of {self.scope} {self.scope_id} on {self.date}"

    FIGURES = (
        "coverage",
        "single_threaded_share",
        "unthreaded_share",
        "mean_trust",
        "mean_reciprocity",
        "return",
        "investment",
        "ror",
        "at_risk_count",
        "key_stakeholders",
        "health_index",
    )

    @classmethod
    def scope_visible_to(cls, user, scope: str, scope_id: int = 0) -> bool:
        """Network-health figures (DESIGN §7) are for directors; a manager also sees
        those of the goals they own. Pages and the API ask this, nothing else."""
        if may(user, Action.SEE_NETWORK_HEALTH):
            return True
        if scope == cls.Scope.GOAL:
            return StrategicGoal.objects.health_visible_to(user).filter(pk=scope_id).exists()
        return False

    def figures(self) -> dict:
        """The DESIGN §6 field names and values."""
        return {
            name: getattr(self, "return_value" if name == "return" else name)
            for name in self.FIGURES
        }
