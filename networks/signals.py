"""Changes to who knows whom ask for a (debounced) network computation.

Interactions reach the network through their scores: the worker asks for a
network run once it has recomputed them (`metrics.signals.scores_recomputed`),
so the graph is built from fresh strengths. Links and goal memberships change
no score and ask directly.
"""

from django.db.models.signals import post_delete, post_save

from metrics.signals import scores_recomputed
from relations.models import GoalStakeholder, StakeholderLink

from .tasks import network_recompute, network_request_recompute


def _changed(sender, raw: bool = False, **kwargs) -> None:
    if not raw:
        network_request_recompute()


def _scores_recomputed(sender, full: bool = False, **kwargs) -> None:
    if full:
        # After a full recomputation the network follows at once (DESIGN §5).
        network_recompute.delay()
    else:
        network_request_recompute()


def connect() -> None:
    scores_recomputed.connect(_scores_recomputed, dispatch_uid="network-after-scores")
    for model in (StakeholderLink, GoalStakeholder):
        post_save.connect(_changed, sender=model, dispatch_uid=f"network-{model.__name__}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"network-{model.__name__}-del")
