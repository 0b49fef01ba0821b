"""Changes to who knows whom ask for a (debounced) network computation.

Interactions reach the network through their scores: the worker asks for a
network run once it has recomputed them (`metrics.signals.scores_recomputed`),
so the graph is built from fresh strengths. Links and goal memberships change
no score and ask directly (`relations.signals.records_changed`).
"""

from metrics.signals import scores_recomputed
from relations.signals import records_changed

from .tasks import network_recompute, network_request_recompute


def _records_changed(sender, links=(), goals=(), **kwargs) -> None:
    if links or goals:
        network_request_recompute()


def _scores_recomputed(sender, full: bool = False, **kwargs) -> None:
    if full:
        # After a full recomputation the network follows at once (DESIGN §5).
        network_recompute.delay()
    else:
        network_request_recompute()


def connect() -> None:
    scores_recomputed.connect(_scores_recomputed, dispatch_uid="network-after-scores")
    records_changed.connect(_records_changed, dispatch_uid="network-records-changed")
