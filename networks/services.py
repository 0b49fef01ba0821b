"""Building the network from the database and storing its metrics (DESIGN §4).

Rows are read column-wise (`values_list`), never as ORM objects per edge; the
metrics run on python-igraph through `networks.graph`; results are written in
bulk. The whole computation runs in the worker on its own queue.
"""

from __future__ import annotations

import io
import json
import logging
import math
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import connection, models, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from metrics import scoring
from metrics.conf import score_settings
from metrics.models import RelationshipScore, StakeholderScore
from metrics.sql import Epoch
from relations.models import (
    GoalStakeholder,
    Interaction,
    Stakeholder,
    StakeholderLink,
    StrategicGoal,
    Team,
)
from relations.roles import figures_people_ids

from . import graph
from .models import NetworkHealth, NetworkRun, NodeMetric, StakeholderThreads

logger = logging.getLogger(__name__)
User = get_user_model()
SECONDS_PER_DAY = 86400.0
# Rows per INSERT: amortises round trips, stays under SQLite's parameter limit.
INSERT_BATCH = 2000


def _array(rows: list, dtype) -> np.ndarray:
    return np.array(rows, dtype=dtype) if rows else np.empty(0, dtype=dtype)


SharedRows = tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]


def _shared_rows(at: datetime) -> SharedRows:
    """(interaction, stakeholder, epoch, kind) of interactions with 2+ stakeholders up to `at`,
    ordered by interaction then stakeholder."""
    through = Interaction.stakeholders.through.objects
    shared = (
        through.values("interaction_id")
        .annotate(n=Count("stakeholder_id"))
        .filter(n__gte=2)
        .values("interaction_id")
    )
    rows = list(
        through.filter(interaction_id__in=shared, interaction__occurred_at__lte=at)
        .annotate(epoch=Epoch("interaction__occurred_at"))
        .order_by("interaction_id", "stakeholder_id")
        .values_list("interaction_id", "stakeholder_id", "epoch", "interaction__kind")
    )
    return (
        _array([r[0] for r in rows], np.int64),
        _array([r[1] for r in rows], np.int64),
        _array([r[2] for r in rows], np.float64),
        [r[3] for r in rows],
    )


def co_participation_edges(at: datetime) -> graph.EdgeList:
    """Stakeholder pairs that met in the same interactions, with the DESIGN §3
    strength `1 − exp(−E/3)` over their shared interactions (decayed as of `at`)."""
    empty = (_array([], np.int64), _array([], np.int64), _array([], np.float64))
    # Reading the interaction-stakeholder ids into numpy and grouping there was
    # tried on PostgreSQL and was slower than this query (docs/benchmarks.md),
    # so the plain query stays.
    interaction, stakeholder, epoch, kinds = _shared_rows(at)
    if not interaction.size:
        return empty
    cfg = score_settings()
    weight = 2.0 ** (
        -(at.timestamp() - epoch) / SECONDS_PER_DAY / cfg.half_life_days
    ) * scoring.kind_weight_array(kinds, cfg)
    _, starts, sizes = np.unique(interaction, return_index=True, return_counts=True)

    # Every unordered pair of stakeholders within each interaction, generated per
    # group size so that no Python loop runs per interaction.
    a_parts, b_parts, w_parts = [], [], []
    for size in np.unique(sizes[sizes >= 2]):
        members = starts[sizes == size][:, None] + np.arange(size)[None, :]
        for i in range(size):
            for j in range(i + 1, size):
                a_parts.append(stakeholder[members[:, i]])
                b_parts.append(stakeholder[members[:, j]])
                w_parts.append(weight[members[:, i]])
    if not a_parts:
        return empty
    a, b, w = (np.concatenate(p) for p in (a_parts, b_parts, w_parts))
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keys, inverse = np.unique(np.column_stack([lo, hi]), axis=0, return_inverse=True)
    engagement = np.bincount(inverse.reshape(-1), weights=w, minlength=len(keys))
    return keys[:, 0], keys[:, 1], 1.0 - np.exp(-engagement / 3.0)


def network_load(at: datetime | None = None) -> graph.NetworkData:
    """The DESIGN §4 graph as of `at`, with the stakeholder figures health needs."""
    at = at or timezone.now()
    user_ids = list(User.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    active = set(user_ids)
    user_edges = [
        row
        for row in RelationshipScore.objects.filter(strength__gte=graph.MIN_EDGE_STRENGTH)
        .order_by("relationship_id")
        .values_list("relationship__user_id", "relationship__stakeholder_id", "strength")
        if row[0] in active
    ]
    stakeholder_ids = list(Stakeholder.objects.order_by("pk").values_list("pk", flat=True))
    key_ids = set(Stakeholder.objects.key().values_list("pk", flat=True))
    scores = {
        row[0]: row[1:]
        for row in StakeholderScore.objects.values_list(
            "stakeholder_id",
            "strength",
            "trust",
            "reciprocity",
            "at_risk",
            "return_value",
            "investment",
        )
    }
    empty = (None, None, None, False, None, None)
    figures = [scores.get(pk, empty) for pk in stakeholder_ids]
    links = list(
        StakeholderLink.objects.values_list("from_stakeholder_id", "to_stakeholder_id", "strength")
    )
    link_edges = (
        _array([r[0] for r in links], np.int64),
        _array([r[1] for r in links], np.int64),
        _array([r[2] for r in links], np.float64),
    )
    return graph.NetworkData.build(
        user_ids,
        stakeholder_ids,
        user_edges=(
            _array([r[0] for r in user_edges], np.int64),
            _array([r[1] for r in user_edges], np.int64),
            _array([r[2] for r in user_edges], np.float64),
        ),
        stakeholder_edges=graph.merge_edges(link_edges, co_participation_edges(at)),
        key=[pk in key_ids for pk in stakeholder_ids],
        stakeholder_strength=[f[0] for f in figures],
        trust=[f[1] for f in figures],
        reciprocity=[f[2] for f in figures],
        at_risk=[bool(f[3]) for f in figures],
        return_value=[f[4] for f in figures],
        investment=[f[5] for f in figures],
    )


def graph_dump(data: graph.NetworkData) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        user_ids=data.user_ids,
        stakeholder_ids=data.stakeholder_ids,
        source=data.source,
        target=data.target,
        strength=data.strength,
    )
    return buffer.getvalue()


def graph_restore(blob: bytes) -> graph.NetworkData:
    arrays = np.load(io.BytesIO(bytes(blob)))
    n = len(arrays["stakeholder_ids"])
    nan = np.full(n, np.nan)
    return graph.NetworkData(
        user_ids=arrays["user_ids"],
        stakeholder_ids=arrays["stakeholder_ids"],
        source=arrays["source"],
        target=arrays["target"],
        strength=arrays["strength"],
        key=np.zeros(n, dtype=bool),
        stakeholder_strength=nan,
        trust=nan,
        reciprocity=nan,
        at_risk=np.zeros(n, dtype=bool),
        return_value=np.zeros(n),
        investment=np.zeros(n),
    )


def _copy_text(model, columns: list[str], lines: Iterable[str]) -> None:
    """Write tab-separated ``lines`` into ``model``'s table with PostgreSQL COPY.

    COPY streams the rows in one statement, several times faster than
    bulk_create's batched INSERTs at the ``large`` size (docs/benchmarks.md).
    Values are numbers, ISO timestamps and JSON lists of ints, none of which
    needs COPY escaping.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        copy.write("".join(lines))


def _text(value: float) -> str:
    return "\\N" if math.isnan(value) else repr(value)


def _copy_node_metrics(
    data: graph.NetworkData,
    degree: np.ndarray,
    betweenness: np.ndarray,
    constraint: np.ndarray,
    membership: np.ndarray,
) -> None:
    kinds = [graph.USER] * data.n_users + [graph.STAKEHOLDER] * len(data.stakeholder_ids)
    ids = np.concatenate([data.user_ids, data.stakeholder_ids]).tolist()
    _copy_text(
        NodeMetric,
        ["node_type", "node_id", "degree", "betweenness", "constraint", "community"],
        (
            f"{kind}\t{pk}\t{deg}\t{_text(b)}\t{_text(c)}\t{m}\n"
            for kind, pk, deg, b, c, m in zip(
                kinds,
                ids,
                degree.tolist(),
                betweenness.tolist(),
                constraint.tolist(),
                membership.tolist(),
                strict=True,
            )
        ),
    )


def _copy_threads(
    data: graph.NetworkData,
    counts: np.ndarray,
    thread_lists: dict[int, list[int]],
    at: datetime,
) -> None:
    stamp = at.isoformat()

    def line(sid: int, key: bool, count: int) -> str:
        users = thread_lists.get(sid, [])
        sole = users[0] if count == 1 else "\\N"
        return f"{sid}\t{'t' if key else 'f'}\t{count}\t{json.dumps(users)}\t{sole}\t{stamp}\n"

    _copy_text(
        StakeholderThreads,
        [
            "stakeholder",
            "is_key",
            "thread_count",
            "thread_user_ids",
            "sole_thread_user",
            "computed_at",
        ],
        (
            line(sid, key, count)
            for sid, key, count in zip(
                data.stakeholder_ids.tolist(), data.key.tolist(), counts.tolist(), strict=True
            )
        ),
    )


def _scope_members() -> dict[tuple[str, int], list[int]]:
    """Stakeholder ids of every team (owned by its members) and every goal (linked)."""
    scopes: dict[tuple[str, int], list[int]] = {}
    for team_id, stakeholder_id in Stakeholder.objects.filter(
        owner__teams__isnull=False
    ).values_list("owner__teams", "pk"):
        scopes.setdefault((NetworkHealth.Scope.TEAM, team_id), []).append(stakeholder_id)
    for team_id in Team.objects.values_list("pk", flat=True):
        scopes.setdefault((NetworkHealth.Scope.TEAM, team_id), [])
    for goal_id, stakeholder_id in GoalStakeholder.objects.values_list("goal_id", "stakeholder_id"):
        scopes.setdefault((NetworkHealth.Scope.GOAL, goal_id), []).append(stakeholder_id)
    for goal_id in StrategicGoal.objects.values_list("pk", flat=True):
        scopes.setdefault((NetworkHealth.Scope.GOAL, goal_id), [])
    return scopes


def _health_rows(data: graph.NetworkData, day, computed_at) -> list[NetworkHealth]:
    scopes = {(NetworkHealth.Scope.ORGANISATION, 0): None, **_scope_members()}
    rows = []
    for (scope, scope_id), members in scopes.items():
        figures = graph.network_health(data, members)
        rows.append(
            NetworkHealth(
                scope=scope,
                scope_id=scope_id,
                date=day,
                computed_at=computed_at,
                return_value=figures.pop("return"),
                **figures,
            )
        )
    return rows


def _health_store(rows: list[NetworkHealth]) -> None:
    """Upsert health rows: one per scope and day, the latest computation wins."""
    NetworkHealth.objects.bulk_create(
        rows,
        batch_size=INSERT_BATCH,
        update_conflicts=True,
        unique_fields=["scope", "scope_id", "date"],
        update_fields=[
            f.name
            for f in NetworkHealth._meta.concrete_fields
            if f.name not in {"id", "scope", "scope_id", "date"}
        ],
    )


def betweenness_options(n_nodes: int) -> dict:
    """The sources and processes for betweenness on a graph of ``n_nodes``, from settings.

    ``RAPPORT_BETWEENNESS_K`` fixes the sampled sources; unset, they follow
    the graph size (:func:`networks.graph.betweenness_k`). The worker forks
    ``RAPPORT_BETWEENNESS_PROCESSES`` processes (2 by default, 1 where forking
    is not allowed).
    """
    configured = getattr(settings, "RAPPORT_BETWEENNESS_K", None)
    k = int(configured) if configured else graph.betweenness_k(n_nodes)
    return {
        "k": k,
        "exact_threshold": graph.exact_threshold(k),
        "processes": max(1, int(getattr(settings, "RAPPORT_BETWEENNESS_PROCESSES", 1))),
    }


def network_recompute(at: datetime | None = None, run: NetworkRun | None = None) -> NetworkRun:
    """Compute and store every network metric as of `at` (now): the worker's job."""
    at = at or timezone.now()
    if run is None:
        run = NetworkRun.objects.create(started_at=timezone.now())
    else:
        run.status = NetworkRun.Status.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 4)
        clock = now

    try:
        data = network_load(at)
        lap("load")
        counts = graph.thread_counts(data)
        thread_lists = graph.threads(data)
        lap("threads")
        between = graph.betweenness(data, **betweenness_options(data.n_nodes))
        lap("betweenness")
        burt = graph.constraint(data)
        lap("constraint")
        groups = graph.communities(data, seed=0)
        lap("communities")
        health = _health_rows(data, at.date(), at)
        lap("health")
        degree = np.bincount(np.concatenate([data.source, data.target]), minlength=data.n_nodes)

        def _node_rows() -> list[NodeMetric]:
            return [
                NodeMetric(
                    node_type=kind,
                    node_id=node_id,
                    degree=int(degree[i]),
                    betweenness=float(between.values[i]),
                    constraint=None if np.isnan(burt[i]) else float(burt[i]),
                    community=int(groups.membership[i]),
                )
                for i, (kind, node_id) in enumerate(data.node_keys())
            ]

        def _thread_rows() -> list[StakeholderThreads]:
            return [
                StakeholderThreads(
                    stakeholder_id=int(sid),
                    is_key=bool(data.key[j]),
                    thread_count=int(counts[j]),
                    thread_user_ids=thread_lists.get(int(sid), []),
                    sole_thread_user_id=(
                        thread_lists[int(sid)][0] if int(counts[j]) == 1 else None
                    ),
                    computed_at=at,
                )
                for j, sid in enumerate(data.stakeholder_ids)
            ]

        with transaction.atomic():
            NodeMetric.objects.all().delete()
            StakeholderThreads.objects.all().delete()
            if connection.vendor == "postgresql":
                _copy_node_metrics(data, degree, between.values, burt, groups.membership)
                _copy_threads(data, counts, thread_lists, at)
            else:
                NodeMetric.objects.bulk_create(_node_rows(), batch_size=INSERT_BATCH)
                StakeholderThreads.objects.bulk_create(_thread_rows(), batch_size=INSERT_BATCH)
            _health_store(health)
            lap("store")
            run.status = NetworkRun.Status.DONE
            run.finished_at = timezone.now()
            run.duration_seconds = sum(timings.values())
            run.node_count = data.n_nodes
            run.edge_count = len(data.strength)
            run.betweenness_sampled = between.sampled
            run.betweenness_k = between.k
            run.community_count = groups.count
            run.timings = timings
            run.graph = graph_dump(data)
            run.save()
        # Older runs' graphs are large and never read again.
        NetworkRun.objects.filter(pk__lt=run.pk).exclude(graph=None).update(graph=None)
    except Exception as exc:
        NetworkRun.objects.filter(pk=run.pk).update(
            status=NetworkRun.Status.FAILED, finished_at=timezone.now(), error=repr(exc)[:2000]
        )
        raise
    return run


# Keyed by run id and finish time: a reused id (a rolled-back test) never serves a stale graph.
_graph_cache: dict[tuple, tuple[graph.NetworkData, graph.IntroPathIndex | None]] = {}


def latest_graph() -> tuple[NetworkRun | None, graph.NetworkData | None]:
    """The latest run and its graph, restored once per process and reused."""
    run = (
        NetworkRun.objects.filter(status=NetworkRun.Status.DONE, graph__isnull=False)
        .defer("graph")
        .order_by("-started_at", "-pk")
        .first()
    )
    if run is None:
        return None, None
    key = (run.pk, run.finished_at)
    if key not in _graph_cache:
        blob = NetworkRun.objects.filter(pk=run.pk).values_list("graph", flat=True).get()
        _graph_cache.clear()
        _graph_cache[key] = (graph_restore(blob), None)
    return run, _graph_cache[key][0]


def intro_path_index() -> tuple[NetworkRun | None, graph.IntroPathIndex | None]:
    """The latest run's graph, prepared once per process for introduction paths."""
    run, data = latest_graph()
    if run is None:
        return None, None
    key = (run.pk, run.finished_at)
    cached_data, index = _graph_cache[key]
    if index is None:
        index = graph.IntroPathIndex(cached_data)
        _graph_cache[key] = (cached_data, index)
    return run, index


def stakeholder_intro_paths(
    stakeholder_id: int, user: User | AnonymousUser, k: int = 3
) -> tuple[NetworkRun | None, list[dict]]:
    """The warmest introduction paths to a stakeholder that `user` may see, with the run
    they come from. A path's strength carries its colleague's relationship strength,
    which is that colleague's and the directors' to see (DESIGN §7,
    `Relationship.scores_visible_to`): a manager gets the paths from herself only."""
    run, index = intro_path_index()
    if index is None:
        return run, []
    paths = graph.intro_paths(index, stakeholder_id, k=k, from_users=figures_people_ids(user))
    return run, [path.as_dict() for path in paths]


def scope_stakeholder_ids(*, team: int | None = None, goal: int | None = None) -> list[int] | None:
    """Stakeholders of a team (owned by its members) or a goal (linked); None for all."""
    if team is None and goal is None:
        return None
    return list(Stakeholder.objects.of_scope(team=team, goal=goal).values_list("pk", flat=True))


def graph_view(
    *,
    allowed_stakeholders: Iterable[int] | None,
    min_strength: float = graph.MIN_EDGE_STRENGTH,
    limit: int = 500,
) -> dict:
    """A bounded subgraph for the network map: the best-connected nodes first.

    `allowed_stakeholders` None means every stakeholder (a director's view).
    """
    run, data = latest_graph()
    if run is None:
        return {"nodes": [], "edges": [], "truncated": False, "message": "", "computed_at": None}
    n_users = data.n_users
    keep_edge = data.strength >= min_strength
    if allowed_stakeholders is not None:
        allowed = np.zeros(data.n_nodes, dtype=bool)
        allowed[:n_users] = True
        allowed[n_users:] = np.isin(
            data.stakeholder_ids, np.fromiter(allowed_stakeholders, np.int64)
        )
        keep_edge &= allowed[data.source] & allowed[data.target]
    source, target, strength = (
        data.source[keep_edge],
        data.target[keep_edge],
        data.strength[keep_edge],
    )
    weight = np.bincount(
        np.concatenate([source, target]),
        weights=np.concatenate([strength, strength]),
        minlength=data.n_nodes,
    )
    candidates = np.flatnonzero(weight > 0)
    truncated = len(candidates) > limit
    chosen = candidates[np.argsort(-weight[candidates], kind="stable")[:limit]]
    in_view = np.zeros(data.n_nodes, dtype=bool)
    in_view[chosen] = True
    edge_mask = in_view[source] & in_view[target]

    user_idx = chosen[chosen < n_users]
    stakeholder_idx = chosen[chosen >= n_users]
    user_ids = data.user_ids[user_idx].tolist()
    stakeholder_ids = data.stakeholder_ids[stakeholder_idx - n_users].tolist()
    users = {
        pk: (first, last, username)
        for pk, first, last, username in User.objects.filter(pk__in=user_ids).values_list(
            "pk", "first_name", "last_name", "username"
        )
    }
    stakeholders = {
        pk: (name, importance)
        for pk, name, importance in Stakeholder.objects.filter(pk__in=stakeholder_ids).values_list(
            "pk", "name", "importance"
        )
    }
    key_ids = set(
        Stakeholder.objects.key().filter(pk__in=stakeholder_ids).values_list("pk", flat=True)
    )
    metrics = {
        (kind, pk): (b, c, community)
        for kind, pk, b, c, community in NodeMetric.objects.filter(
            node_id__in=user_ids + stakeholder_ids
        ).values_list("node_type", "node_id", "betweenness", "constraint", "community")
    }
    nodes = []
    for pk in user_ids:
        first, last, username = users.get(pk, ("", "", str(pk)))
        b, c, community = metrics.get(("user", pk), (None, None, None))
        nodes.append(
            {
                "id": f"user-{pk}",
                "type": "user",
                "object_id": pk,
                "label": f"{first} {last}".strip() or username,
                "importance": None,
                "key": False,
                "community": community,
                "betweenness": b,
                "constraint": c,
                "url": "",
            }
        )
    for pk in stakeholder_ids:
        name, importance = stakeholders.get(pk, (str(pk), None))
        b, c, community = metrics.get(("stakeholder", pk), (None, None, None))
        nodes.append(
            {
                "id": f"stakeholder-{pk}",
                "type": "stakeholder",
                "object_id": pk,
                "label": name,
                "importance": importance,
                "key": pk in key_ids,
                "community": community,
                "betweenness": b,
                "constraint": c,
                "url": f"/stakeholders/{pk}/",
            }
        )

    def node_id(index: int) -> str:
        kind, pk = data.node_key(int(index))
        return f"{kind}-{pk}"

    edges = [
        {"source": node_id(a), "target": node_id(b), "strength": float(s)}
        for a, b, s in zip(source[edge_mask], target[edge_mask], strength[edge_mask], strict=True)
    ]
    message = (
        gettext(
            "Showing the %(limit)d best-connected of %(total)d nodes; "
            "filter by team, goal or a higher minimum strength to see the rest."
        )
        % {"limit": limit, "total": len(candidates)}
        if truncated
        else ""
    )
    return {
        "nodes": nodes,
        "edges": edges,
        "truncated": truncated,
        "message": message,
        "computed_at": run.finished_at,
    }


def key_person_risk_rows(user_ids: Iterable[int] | None = None) -> list[dict]:
    """Users with the key stakeholders for which they are the only thread, most first."""
    rows = (
        StakeholderThreads.objects.key_person_risk()
        .order_by("sole_thread_user_id", "stakeholder_id")
        .values_list("sole_thread_user_id", "stakeholder_id")
    )
    if user_ids is not None:
        rows = rows.filter(sole_thread_user_id__in=list(user_ids))
    by_user: dict[int, list[int]] = {}
    for user_id, stakeholder_id in rows:
        by_user.setdefault(user_id, []).append(stakeholder_id)
    ordered = sorted(by_user.items(), key=lambda item: (-len(item[1]), item[0]))
    return [{"user": user_id, "single_threaded": ids} for user_id, ids in ordered]


def key_person_risk_people() -> models.QuerySet:
    """Colleagues who are the only thread of at least one key stakeholder, each
    annotated with how many (`at_risk`)."""
    at_risk = (
        StakeholderThreads.objects.key_person_risk()
        .filter(sole_thread_user=OuterRef("pk"))
        .values("sole_thread_user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return User.objects.annotate(at_risk=Subquery(at_risk)).filter(at_risk__gt=0)


def health_current(scope: str = NetworkHealth.Scope.ORGANISATION, scope_id: int = 0):
    return (
        NetworkHealth.objects.filter(scope=scope, scope_id=scope_id)
        .order_by(F("date").desc())
        .first()
    )


# --- History: the daily snapshots of a fresh installation --------------------------

# The dashboards' longest trend (and the span of "trust falling": RISK_TRUST_FALL_DAYS).
HISTORY_DAYS = 90


def history_backfill(
    days: int = HISTORY_DAYS,
    now: datetime | None = None,
    progress: Callable[[int, int, date], None] | None = None,
) -> dict:
    """Derive `days` days of daily history from the records, then compute everything
    as of `now`: what a fresh installation (the demo) needs to show trend lines, a
    health index and the network at once, rather than after `days` nightly runs.

    For each past day, oldest first, the scores are recomputed as of the end of that
    day (interactions, commitments and outcomes dated up to it, decayed to it; trust
    falling compares with the snapshots already written 90 days before), that day's
    score snapshots are written, and the network health of every scope is computed
    from that day's scores and interactions, as the nightly run would have stored
    them that day. Two inputs have no history and are taken as they are now: which
    stakeholders are key and the links between stakeholders. Finally the scores,
    today's snapshots and the whole network (threads, key-person risk, brokers,
    introductions, health) are computed as of `now`. Days already stored are
    overwritten with the same derivation, so running it twice changes nothing.
    """
    from metrics.recompute import scores_recompute_all
    from metrics.writeback import snapshots_write

    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    for offset in range(days - 1, 0, -1):
        day = today - timedelta(days=offset)
        end_of_day = datetime.combine(day + timedelta(days=1), dt_time.min, tzinfo=UTC)
        at = end_of_day - timedelta(seconds=1)
        scores_recompute_all(at=at)
        snapshots_write(day)
        _health_store(_health_rows(network_load(at), day, at))
        if progress:
            progress(days - offset, days, day)
    scores_recompute_all(at=now)
    snapshots_write(today)
    run = network_recompute(at=now)
    if progress:
        progress(days, days, today)
    return {"first_day": first, "last_day": today, "days": days, "network_run": run.pk}
