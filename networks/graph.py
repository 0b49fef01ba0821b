"""The network maths of DESIGN §4 as pure functions over arrays.

Nothing here touches Django or the ORM: the caller reads ids, strengths and the
stored per-stakeholder scores into arrays, builds one :class:`NetworkData`, and
hands it to the functions below; the dashboard, the API and the worker all call
the same functions.

Two engines compute the graph metrics. python-igraph (and scipy for paths) is
the production engine: at the sizes Rapport serves it is an order of magnitude
or more faster than networkx (docs/benchmarks.md). networkx is the readable
reference implementation; the tests check on small graphs that both engines give
the same answers, so a reviewer can read the networkx branch to know what the
igraph branch means.

Node identity: a node is ``("user", id)`` or ``("stakeholder", id)``. Internally
nodes are indexed ``0 .. n_users - 1`` for users (in the order of
``user_ids``) and ``n_users .. n_users + n_stakeholders - 1`` for stakeholders.
"""

from __future__ import annotations

import math
import multiprocessing
import random
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypedDict, TypeVar

import igraph as ig
import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

Engine = Literal["igraph", "networkx"]
NodeKey = tuple[str, int]
EdgeList = tuple[np.ndarray, np.ndarray, np.ndarray]
T = TypeVar("T")

USER = "user"
STAKEHOLDER = "stakeholder"

# DESIGN §4: "edges below strength 0.05 are left out". Applied in one place,
# NetworkData.build, so no metric can see a weaker edge.
MIN_EDGE_STRENGTH = 0.05
# DESIGN §4: a thread is a user whose relationship strength is >= 0.3.
THREAD_STRENGTH = 0.3
# DESIGN §4: a key stakeholder is covered when its stakeholder-level strength is >= 0.5.
COVERAGE_STRENGTH = 0.5

# Sources sampled on graphs larger than exact_threshold(k) = 2k nodes
# (RAPPORT_BETWEENNESS_K overrides it): the smallest round k whose median error
# over the top-100 nodes of the `large` demo graph stays under the 15% target with
# a margin (the measurements: docs/benchmarks.md, "Design notes behind the
# numbers"). The error depends on the graph's shape, not its size, so re-measure
# if real data differs. It falls as 1/sqrt(k): halving it costs four times the
# sources.
DEFAULT_BETWEENNESS_K = 1_000
# Up to this many nodes betweenness is exact (see exact_threshold()).
DEFAULT_EXACT_THRESHOLD = 2 * DEFAULT_BETWEENNESS_K


def betweenness_k(n_nodes: int) -> int:
    """Sources to sample for a graph of ``n_nodes`` (the default of the stored runs).

    The relative error of a sampled value depends on how concentrated a node's
    betweenness is among nearby sources, not on n itself, so k is the measured
    constant DEFAULT_BETWEENNESS_K, capped at n (all nodes as sources is the
    exact computation). Graphs up to :func:`exact_threshold` are computed exactly.
    """
    return max(2, min(DEFAULT_BETWEENNESS_K, n_nodes))


def exact_threshold(k: int) -> int:
    """Largest graph computed exactly when ``k`` sources would be sampled: 2k nodes.

    An exact pass is one search per node, so up to 2k nodes it costs at most
    twice the sampled pass, and has no error.
    """
    return 2 * k


# Hop-count paths by default: see betweenness() for why.
DEFAULT_BETWEENNESS_WEIGHTED = False

# Added to every -ln(strength) path cost: scipy's sparse graphs cannot store a
# zero-cost edge (a link of strength 1.0), and among routes of equal product the
# one with fewer hops is the warmer introduction.
_HOP_COST = 1e-9


def _as_float(
    values: Sequence[float | None] | np.ndarray | None, n: int, default: float
) -> np.ndarray:
    if values is None:
        return np.full(n, default, dtype=np.float64)
    # None becomes NaN: a null score stays null rather than turning into 0.
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.shape[0] != n:
        raise ValueError(f"expected {n} per-stakeholder values, got {array.shape[0]}")
    return array


def _as_bool(values: Sequence[bool] | np.ndarray | None, n: int) -> np.ndarray:
    if values is None:
        return np.zeros(n, dtype=bool)
    array = np.asarray(values, dtype=bool).reshape(-1)
    if array.shape[0] != n:
        raise ValueError(f"expected {n} per-stakeholder flags, got {array.shape[0]}")
    return array


def _edge_arrays(edges: EdgeList | Sequence | None) -> EdgeList:
    if edges is None:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), np.zeros(0, dtype=np.float64)
    a, b, strength = edges
    return (
        np.asarray(a, dtype=np.int64).reshape(-1),
        np.asarray(b, dtype=np.int64).reshape(-1),
        np.asarray(strength, dtype=np.float64).reshape(-1),
    )


def merge_edges(*edge_lists: EdgeList, directed: bool = False) -> EdgeList:
    """Merge several ``(a_ids, b_ids, strengths)`` lists, keeping the maximum strength per pair.

    Undirected (the default, for stakeholder-stakeholder ties from links and from
    co-participation): ``(a, b)`` and ``(b, a)`` are the same pair, returned as
    ``a < b``, and self-loops are dropped. ``directed=True`` keeps the order, for
    user -> stakeholder edges whose two ids live in different id spaces.
    Pairs whose strength is NaN (a null score) are dropped. The result is sorted
    by pair, so it is deterministic whatever the input order.
    """
    parts = [_edge_arrays(edges) for edges in edge_lists]
    if not parts:
        return _edge_arrays(None)
    a = np.concatenate([p[0] for p in parts])
    b = np.concatenate([p[1] for p in parts])
    strength = np.concatenate([p[2] for p in parts])
    keep = ~np.isnan(strength)
    if not directed:
        keep &= a != b
        a, b = np.minimum(a, b), np.maximum(a, b)
    a, b, strength = a[keep], b[keep], strength[keep]
    if a.size == 0:
        return a, b, strength
    order = np.lexsort((b, a))
    a, b, strength = a[order], b[order], strength[order]
    starts = np.flatnonzero(np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])])
    return a[starts], b[starts], np.maximum.reduceat(strength, starts)


def _index_of(ids: np.ndarray, wanted: np.ndarray, what: str) -> np.ndarray:
    """Positions of ``wanted`` ids in ``ids`` (any order), or ValueError naming an unknown id."""
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    pos = np.searchsorted(sorted_ids, wanted)
    pos = np.minimum(pos, max(len(ids) - 1, 0))
    found = (sorted_ids[pos] == wanted) if len(ids) else np.zeros(len(wanted), dtype=bool)
    if not found.all():
        raise ValueError(f"edge refers to unknown {what} id {int(wanted[~found][0])}")
    return order[pos]


@dataclass(frozen=True, eq=False)
class NetworkData:
    """The whole network as arrays; build it with :meth:`build`.

    ``source``/``target`` are node indices of undirected edges (a user edge has
    the user as ``source``), ``strength`` in [0.05, 1]. The per-stakeholder
    arrays are aligned with ``stakeholder_ids``; NaN means null.
    """

    user_ids: np.ndarray
    stakeholder_ids: np.ndarray
    source: np.ndarray
    target: np.ndarray
    strength: np.ndarray
    key: np.ndarray
    stakeholder_strength: np.ndarray
    trust: np.ndarray
    reciprocity: np.ndarray
    at_risk: np.ndarray
    return_value: np.ndarray
    investment: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        user_ids: Sequence[int] | np.ndarray,
        stakeholder_ids: Sequence[int] | np.ndarray,
        *,
        user_edges: EdgeList | None = None,
        stakeholder_edges: EdgeList | None = None,
        key: Sequence[bool] | np.ndarray | None = None,
        stakeholder_strength: Sequence[float | None] | np.ndarray | None = None,
        trust: Sequence[float | None] | np.ndarray | None = None,
        reciprocity: Sequence[float | None] | np.ndarray | None = None,
        at_risk: Sequence[bool] | np.ndarray | None = None,
        return_value: Sequence[float | None] | np.ndarray | None = None,
        investment: Sequence[float | None] | np.ndarray | None = None,
    ) -> NetworkData:
        """Build the network from ids.

        ``user_edges`` is ``(user_ids, stakeholder_ids, relationship strengths)``;
        ``stakeholder_edges`` is ``(stakeholder_ids, stakeholder_ids, strengths)``,
        already merged with :func:`merge_edges` or not (duplicates keep their
        maximum here too). Edges with a null strength or one below
        ``MIN_EDGE_STRENGTH`` are left out. Edges naming an id missing from
        ``user_ids``/``stakeholder_ids`` raise ValueError.
        """
        users = np.asarray(user_ids, dtype=np.int64).reshape(-1)
        stakeholders = np.asarray(stakeholder_ids, dtype=np.int64).reshape(-1)
        if len(np.unique(users)) != len(users) or len(np.unique(stakeholders)) != len(stakeholders):
            raise ValueError("user_ids and stakeholder_ids must not repeat")
        n_users, n_stakeholders = len(users), len(stakeholders)

        ua, ub, us = merge_edges(_edge_arrays(user_edges), directed=True)
        sa, sb, ss = merge_edges(_edge_arrays(stakeholder_edges))
        source = np.concatenate(
            [_index_of(users, ua, USER), n_users + _index_of(stakeholders, sa, STAKEHOLDER)]
        )
        target = n_users + np.concatenate(
            [_index_of(stakeholders, ub, STAKEHOLDER), _index_of(stakeholders, sb, STAKEHOLDER)]
        )
        strength = np.concatenate([us, ss])
        keep = strength >= MIN_EDGE_STRENGTH
        return cls(
            user_ids=users,
            stakeholder_ids=stakeholders,
            source=source[keep].astype(np.int64),
            target=target[keep].astype(np.int64),
            strength=np.minimum(strength[keep], 1.0),
            key=_as_bool(key, n_stakeholders),
            stakeholder_strength=_as_float(stakeholder_strength, n_stakeholders, math.nan),
            trust=_as_float(trust, n_stakeholders, math.nan),
            reciprocity=_as_float(reciprocity, n_stakeholders, math.nan),
            at_risk=_as_bool(at_risk, n_stakeholders),
            return_value=_as_float(return_value, n_stakeholders, 0.0),
            investment=_as_float(investment, n_stakeholders, 0.0),
        )

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_nodes(self) -> int:
        return len(self.user_ids) + len(self.stakeholder_ids)

    def node_key(self, index: int) -> NodeKey:
        """``("user", id)`` or ``("stakeholder", id)`` of a node index."""
        if index < self.n_users:
            return (USER, int(self.user_ids[index]))
        return (STAKEHOLDER, int(self.stakeholder_ids[index - self.n_users]))

    def node_keys(self) -> list[NodeKey]:
        return [(USER, int(i)) for i in self.user_ids] + [
            (STAKEHOLDER, int(i)) for i in self.stakeholder_ids
        ]

    def stakeholder_index(self, stakeholder_id: int) -> int | None:
        """Node index of a stakeholder, or None when it is not in the network."""
        lookup = self._cached("stakeholder_lookup", self._stakeholder_lookup)
        return lookup.get(int(stakeholder_id))

    def _stakeholder_lookup(self) -> dict[int, int]:
        return {int(sid): self.n_users + i for i, sid in enumerate(self.stakeholder_ids)}

    def _cached(self, name: str, make: Callable[[], T]) -> T:
        # The dataclass is frozen (its arrays are the caller's snapshot); derived
        # structures are built once on first use and reused by every metric.
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    @property
    def is_user_edge(self) -> np.ndarray:
        return self.source < self.n_users

    def igraph(self) -> ig.Graph:
        """Undirected igraph graph with edge attributes ``strength`` and ``distance``."""

        def make() -> ig.Graph:
            graph = ig.Graph(n=self.n_nodes, edges=np.column_stack([self.source, self.target]))
            graph.es["strength"] = self.strength.tolist()
            graph.es["distance"] = (1.0 / self.strength).tolist()
            return graph

        return self._cached("igraph", make)

    def networkx(self) -> nx.Graph:
        """Undirected networkx graph on node indices, edge attributes as in :meth:`igraph`."""

        def make() -> nx.Graph:
            graph = nx.Graph()
            graph.add_nodes_from(range(self.n_nodes))
            graph.add_edges_from(
                (int(a), int(b), {"strength": float(s), "distance": 1.0 / float(s)})
                for a, b, s in zip(self.source, self.target, self.strength, strict=True)
            )
            return graph

        return self._cached("networkx", make)


# --- Threads -------------------------------------------------------------------


def _thread_lists(data: NetworkData, engine: Engine) -> list[list[int]]:
    """Per stakeholder (in ``stakeholder_ids`` order), the sorted user ids of its threads."""
    n_users = data.n_users
    lists: list[list[int]] = [[] for _ in range(len(data.stakeholder_ids))]
    if engine == "networkx":
        graph = data.networkx()
        for s in range(len(data.stakeholder_ids)):
            for neighbour, attrs in graph[n_users + s].items():
                if neighbour < n_users and attrs["strength"] >= THREAD_STRENGTH:
                    lists[s].append(int(data.user_ids[neighbour]))
            lists[s].sort()
        return lists
    _check_engine(engine)
    mask = data.is_user_edge & (data.strength >= THREAD_STRENGTH)
    users = data.user_ids[data.source[mask]]
    stakeholders = data.target[mask] - n_users
    for s, u in sorted(zip(stakeholders.tolist(), users.tolist(), strict=True)):
        lists[s].append(u)
    return lists


def _check_engine(engine: str) -> None:
    if engine not in ("igraph", "networkx"):
        raise ValueError(f"unknown engine {engine!r}: use 'igraph' or 'networkx'")


def thread_counts(data: NetworkData) -> np.ndarray:
    """Number of threads of each stakeholder, aligned with ``stakeholder_ids``."""

    def make() -> np.ndarray:
        mask = data.is_user_edge & (data.strength >= THREAD_STRENGTH)
        return np.bincount(data.target[mask] - data.n_users, minlength=len(data.stakeholder_ids))

    return data._cached("thread_counts", make)


def threads(data: NetworkData, engine: Engine = "igraph") -> dict[int, list[int]]:
    """Stakeholder id -> sorted ids of the users with relationship strength >= 0.3.

    Every stakeholder of the network is a key, an unthreaded one with ``[]``.
    """
    lists = _thread_lists(data, engine)
    return {int(sid): lists[i] for i, sid in enumerate(data.stakeholder_ids)}


# --- Warm introduction paths ------------------------------------------------


@dataclass(frozen=True)
class IntroPath:
    """One warm introduction: ``nodes`` runs from an internal user to the target."""

    strength: float
    nodes: list[NodeKey]

    def as_dict(self) -> dict:
        return {
            "strength": self.strength,
            "nodes": [{"type": kind, "id": node_id} for kind, node_id in self.nodes],
        }


class IntroPathIndex:
    """A graph prepared once for many :func:`intro_paths` requests.

    Build it once per network computation and keep it (in process memory) for
    the requests that follow: each request then costs one single-source
    Dijkstra (timed in docs/benchmarks.md).

    The search runs from the target outwards over a directed copy of the graph
    in which stakeholder-stakeholder edges go both ways and user-stakeholder
    edges only towards the user, so users are endpoints and never intermediate
    hops (see :func:`intro_paths` for why). ``engine="igraph"`` names the fast
    engine, which for paths is scipy's ``csgraph.dijkstra`` (it returns the
    predecessor tree of one search directly); ``"networkx"`` is the reference.
    """

    def __init__(self, data: NetworkData, engine: Engine = "igraph") -> None:
        _check_engine(engine)
        self.data = data
        self.engine = engine
        n = data.n_nodes
        user_edge = data.is_user_edge
        cost = -np.log(data.strength) + _HOP_COST
        # stakeholder -> stakeholder in both directions; stakeholder -> user only.
        stake = ~user_edge
        rows = np.concatenate([data.source[stake], data.target[stake], data.target[user_edge]])
        cols = np.concatenate([data.target[stake], data.source[stake], data.source[user_edge]])
        costs = np.concatenate([cost[stake], cost[stake], cost[user_edge]])
        strengths = np.concatenate(
            [data.strength[stake], data.strength[stake], data.strength[user_edge]]
        )
        self._edge_strength: dict[tuple[int, int], float] | None = None
        if engine == "networkx":
            self._edge_strength = {
                (int(r), int(c)): float(s) for r, c, s in zip(rows, cols, strengths, strict=True)
            }
            graph = nx.DiGraph()
            graph.add_nodes_from(range(n))
            graph.add_weighted_edges_from(
                zip(rows.tolist(), cols.tolist(), costs.tolist(), strict=True), weight="cost"
            )
            self._nx = graph
        else:
            self._matrix = sp.csr_matrix((costs, (rows, cols)), shape=(n, n))
            self._strength_matrix = sp.csr_matrix((strengths, (rows, cols)), shape=(n, n))

    def _strength(self, a: int, b: int) -> float:
        if self._edge_strength is not None:
            return self._edge_strength[(a, b)]
        return float(self._strength_matrix[a, b])

    def search(self, target: int) -> tuple[np.ndarray, np.ndarray | dict[int, list[int]]]:
        """Distances from ``target`` to every node, and the means to walk back to it."""
        if self.engine == "networkx":
            dist, paths = nx.single_source_dijkstra(self._nx, target, weight="cost")
            distances = np.full(self.data.n_nodes, np.inf)
            distances[list(dist)] = list(dist.values())
            return distances, paths
        distances, predecessors = csgraph.dijkstra(
            self._matrix, directed=True, indices=target, return_predecessors=True
        )
        return distances, predecessors

    def path(self, target: int, user: int, walk: np.ndarray | dict[int, list[int]]) -> list[int]:
        """Node indices from ``user`` to ``target``, from what :meth:`search` returned."""
        if isinstance(walk, dict):
            return list(reversed(walk[user]))
        nodes = [user]
        while nodes[-1] != target:
            nodes.append(int(walk[nodes[-1]]))
        return nodes


def intro_paths(
    index: IntroPathIndex,
    target_stakeholder_id: int,
    k: int = 3,
    from_users: Collection[int] | None = None,
) -> list[IntroPath]:
    """The ``k`` warmest introductions to a stakeholder, strongest first.

    A path's strength is the product of its edge strengths, so the strongest
    path is the shortest one under the edge cost ``-ln(strength)`` (one
    Dijkstra from the target). "The best three" means the best path of each of
    the three internal users who can reach the target most strongly: three
    different colleagues to ask. We chose that over Yen's k shortest simple
    paths because Yen's second and third paths are usually the first with one
    hop swapped, starting from the same colleague, so they tell the user
    nothing new, and each costs many more searches.

    Paths never pass through another internal user: a route
    ``u -> s1 -> u2 -> ... -> target`` is always weaker than its own tail from
    ``u2`` (strengths are <= 1), and that tail is what the list shows, with
    ``u2`` as the colleague to ask; allowing the detour would only fill the
    three places with the same introduction. An introduction through a
    colleague is therefore offered, as that colleague's own path.

    A user directly tied to the target gives the path ``[user, target]``. A
    target unknown to the network, or one nobody can reach, gives ``[]``.
    Ties in strength are broken by fewer hops, then by user id.

    ``from_users``: only paths starting at these internal user ids (all when None):
    a manager sees her own introductions, not her colleagues' strengths.
    """
    data = index.data
    target = data.stakeholder_index(target_stakeholder_id)
    if target is None or k <= 0:
        return []
    distances, predecessors = index.search(target)
    user_distances = distances[: data.n_users]
    reachable = np.flatnonzero(np.isfinite(user_distances))
    if from_users is not None:
        wanted = np.fromiter(from_users, dtype=data.user_ids.dtype)
        reachable = reachable[np.isin(data.user_ids[reachable], wanted)]
    if reachable.size == 0:
        return []
    order = np.lexsort((data.user_ids[reachable], user_distances[reachable]))
    result = []
    for user in reachable[order[:k]]:
        nodes = index.path(target, int(user), predecessors)
        strength = 1.0
        for a, b in zip(nodes[1:], nodes[:-1], strict=True):
            # Walk the search's direction (from the target side) to read the edge.
            strength *= index._strength(a, b)
        result.append(IntroPath(strength=strength, nodes=[data.node_key(i) for i in nodes]))
    result.sort(key=lambda path: (-path.strength, len(path.nodes)))
    return result


# --- Brokers: betweenness and constraint -----------------------------------


@dataclass(frozen=True)
class Betweenness:
    """Betweenness per node index; ``sampled`` says whether it is an estimate from ``k`` sources."""

    values: np.ndarray
    sampled: bool
    k: int | None

    def meta(self) -> dict:
        return {"sampled": self.sampled, "k": self.k}


def betweenness(
    data: NetworkData,
    exact_threshold: int = DEFAULT_EXACT_THRESHOLD,
    k: int = DEFAULT_BETWEENNESS_K,
    seed: int = 0,
    engine: Engine = "igraph",
    weighted: bool = DEFAULT_BETWEENNESS_WEIGHTED,
    processes: int = 1,
) -> Betweenness:
    """Betweenness centrality of every node, normalised like networkx.

    Values equal networkx's ``betweenness_centrality(G, weight=..., normalized=True)``:
    the share of ordered pairs (s, t), s != t != v, whose shortest paths run
    through v. Both engines give the same figures (tested).

    Path length: by default (``weighted=False``) every tie is one hop, a broker
    being whoever sits on the shortest chains of acquaintance. A weighted pass
    (Dijkstra) costs about four times a breadth-first one, and the 1,000
    sources that accuracy needs (DEFAULT_BETWEENNESS_K) are costly already
    unweighted (docs/benchmarks.md). Tie strength still shapes brokerage
    through Burt's constraint and the warm introduction paths, both weighted.
    ``weighted=True`` measures paths with the length ``1 / strength`` (a strong
    tie is a short hop); we chose it over ``-ln(strength)`` because it is never
    zero (a link of strength 1.0 would give a zero-length edge, which makes
    shortest-path counts ill-defined) and stays within [1, 20].

    Sampling: with more than ``exact_threshold`` nodes the value is estimated
    from ``k`` source nodes drawn with numpy from ``seed`` (uniformly, without
    replacement) and rescaled as networkx 3.7 does: a node's sum over the
    sampled sources is divided by ``k * (n - 2)``, or by ``(k - 1) * (n - 2)``
    for a node that was itself a source (it cannot lie between itself and a
    target). The estimate is unbiased and labelled ``sampled=True`` with its k.
    See DEFAULT_BETWEENNESS_K for the measured error.

    ``processes > 1`` (igraph engine, sampled only) splits the sources among
    forked worker processes: python-igraph holds the GIL, so threads do not
    help. Pass it only from a process that may fork (the network task of a
    worker); where forking is refused (a daemonic process) it runs serially.
    """
    _check_engine(engine)
    n = data.n_nodes
    if n < 3:
        return Betweenness(np.zeros(n), sampled=False, k=None)
    sources: np.ndarray | None = None
    if n > exact_threshold and k < n:
        sources = np.sort(np.random.default_rng(seed).choice(n, size=max(k, 2), replace=False))

    weight = "distance" if weighted else None
    if engine == "networkx":
        graph = data.networkx()
        if sources is None:
            raw = nx.betweenness_centrality(graph, weight=weight, normalized=False)
            # networkx halves the ordered-pair sum on undirected graphs.
            ordered = np.array([raw[i] for i in range(n)]) * 2.0
        else:
            raw = nx.betweenness_centrality_subset(
                graph, sources.tolist(), list(range(n)), weight=weight, normalized=False
            )
            ordered = np.array([raw[i] for i in range(n)]) * 2.0
    else:
        graph = data.igraph()
        if sources is None:
            raw = np.asarray(graph.betweenness(directed=False, weights=weight))
        else:
            raw = _igraph_subset_betweenness(graph, sources, weight, processes)
        # igraph counts each unordered pair once, as networkx does after halving.
        ordered = raw.astype(np.float64) * 2.0

    if sources is None:
        return Betweenness(ordered / ((n - 1) * (n - 2)), sampled=False, k=None)
    size = len(sources)
    scale = np.full(n, 1.0 / (size * (n - 2)))
    scale[sources] = 1.0 / ((size - 1) * (n - 2))
    return Betweenness(ordered * scale, sampled=True, k=size)


_forked_graph: ig.Graph | None = None


def _subset_betweenness_in_child(job: tuple[list[int], str | None]) -> np.ndarray:
    sources, weight = job
    assert _forked_graph is not None
    return np.asarray(_forked_graph.betweenness(directed=False, weights=weight, sources=sources))


def _igraph_subset_betweenness(
    graph: ig.Graph, sources: np.ndarray, weight: str | None, processes: int
) -> np.ndarray:
    """Sum over ``sources`` of igraph's subset betweenness, in ``processes`` forked processes."""
    global _forked_graph
    # A daemonic process (a prefork pool child) may not fork: don't try.
    if multiprocessing.current_process().daemon:
        processes = 1
    if processes > 1 and len(sources) >= 2 * processes:
        chunks = [chunk.tolist() for chunk in np.array_split(sources, processes)]
        # The children inherit the graph through fork instead of pickling it.
        _forked_graph = graph
        try:
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                parts = pool.map(_subset_betweenness_in_child, [(c, weight) for c in chunks])
            return np.sum(parts, axis=0)
        except (AssertionError, OSError, ValueError):
            pass  # daemonic process or no fork here: fall back to one process
        finally:
            _forked_graph = None
    return np.asarray(graph.betweenness(directed=False, weights=weight, sources=sources.tolist()))


def constraint(data: NetworkData, engine: Engine = "igraph") -> np.ndarray:
    """Burt's constraint per node index, with tie strength as the weight; NaN for isolated nodes.

    Both engines use Burt's proportional tie strength
    ``p_ij = (a_ij + a_ji) / sum_k (a_ik + a_ki)`` with ``a`` the strengths of
    the undirected graph, and agree on it (tested). A low constraint marks a
    broker whose contacts are not tied to each other.
    """
    if engine == "networkx":
        graph = data.networkx()
        values = nx.constraint(graph, weight="strength")
        return np.array([values.get(i, math.nan) for i in range(data.n_nodes)], dtype=np.float64)
    _check_engine(engine)
    values = np.asarray(data.igraph().constraint(weights="strength"), dtype=np.float64)
    # igraph reports 0 or NaN for a node without ties depending on the version;
    # networkx reports NaN: constraint is undefined there, so say so.
    degree = np.bincount(np.r_[data.source, data.target], minlength=data.n_nodes)
    values[degree == 0] = math.nan
    return values


# --- Communities -------------------------------------------------------------


@dataclass(frozen=True)
class Communities:
    """Louvain communities: ``membership[i]`` is node i's community (numbered by first node)."""

    membership: np.ndarray
    modularity: float

    @property
    def count(self) -> int:
        return int(self.membership.max()) + 1 if self.membership.size else 0


def _canonical_membership(membership: Sequence[int] | np.ndarray) -> np.ndarray:
    # Number communities by their lowest node index, so labels do not depend
    # on the engine's internal numbering.
    membership = np.asarray(membership, dtype=np.int64)
    _, first = np.unique(membership, return_index=True)
    relabel = np.empty(membership.max() + 1 if membership.size else 0, dtype=np.int64)
    relabel[membership[np.sort(first)]] = np.arange(len(first))
    return relabel[membership]


def communities(data: NetworkData, seed: int = 0, engine: Engine = "igraph") -> Communities:
    """Louvain communities weighted by strength, with their weighted modularity.

    Louvain is randomised: the same ``seed`` gives the same partition with the
    same engine; the two engines reach partitions of (within a few per cent)
    the same modularity, not the same labels. Modularity is computed by igraph
    for both, so the figures are comparable.
    """
    n = data.n_nodes
    if n == 0:
        return Communities(np.zeros(0, dtype=np.int64), 0.0)
    graph = data.igraph()
    if engine == "networkx":
        parts = nx.community.louvain_communities(data.networkx(), weight="strength", seed=seed)
        membership = np.empty(n, dtype=np.int64)
        for label, part in enumerate(parts):
            membership[list(part)] = label
    else:
        _check_engine(engine)
        # python-igraph draws from a Python RNG object; give it a private,
        # seeded one and put the default back, so other code is unaffected.
        igraph_rng = random.Random(seed)
        ig.set_random_number_generator(igraph_rng)
        try:
            membership = np.asarray(
                graph.community_multilevel(weights="strength").membership, dtype=np.int64
            )
        finally:
            ig.set_random_number_generator(random)
    membership = _canonical_membership(membership)
    if graph.ecount() == 0:
        return Communities(membership, 0.0)
    modularity = graph.modularity(membership.tolist(), weights="strength")
    return Communities(membership, float(modularity))


# --- Network health ------------------------------------------------------------

HealthFigures = TypedDict(
    "HealthFigures",
    {
        "coverage": float | None,
        "single_threaded_share": float | None,
        "unthreaded_share": float | None,
        "mean_trust": float | None,
        "mean_reciprocity": float | None,
        "return": float,
        "investment": float,
        "ror": float | None,
        "at_risk_count": int,
        "key_stakeholders": int,
        "health_index": float | None,
    },
)


def _nan_mean(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else None


def network_health(
    data: NetworkData, stakeholder_ids: Iterable[int] | None = None
) -> HealthFigures:
    """DESIGN §4 network health over a set of stakeholders (all of them when None).

    The set is the organisation (None), a team (the stakeholders its members
    own) or a strategic goal (its linked stakeholders); threads are counted
    over the whole network either way (a colleague outside the team is still a
    thread). Ids not in the network are ignored.

    Null rules: with no key stakeholder in the set, coverage and both shares
    are null; mean trust / reciprocity are null when no key stakeholder has a
    value (a null score never counts as 0); a key stakeholder with a null
    stakeholder-level strength is not covered; RoR is null when investment is
    0; the health index is 100 x the mean of coverage,
    1 - single_threaded_share - unthreaded_share, mean trust and mean
    reciprocity over the terms that are not null, and null when all are.
    Return and investment are totals over every stakeholder of the set (null
    values count as 0: nothing invested, nothing returned); at_risk_count
    counts every stakeholder of the set, key or not.
    """
    n_stakeholders = len(data.stakeholder_ids)
    if stakeholder_ids is None:
        in_set = np.ones(n_stakeholders, dtype=bool)
    else:
        wanted = np.fromiter((int(i) for i in stakeholder_ids), dtype=np.int64)
        in_set = np.isin(data.stakeholder_ids, wanted)
    key = in_set & data.key
    n_key = int(key.sum())
    counts = thread_counts(data)

    coverage = single_share = unthreaded_share = None
    if n_key:
        strength = data.stakeholder_strength[key]
        coverage = float(np.sum(strength >= COVERAGE_STRENGTH) / n_key)
        single_share = float(np.sum(counts[key] == 1) / n_key)
        unthreaded_share = float(np.sum(counts[key] == 0) / n_key)
    mean_trust = _nan_mean(data.trust[key])
    mean_reciprocity = _nan_mean(data.reciprocity[key])

    total_return = float(np.nansum(data.return_value[in_set]))
    total_investment = float(np.nansum(data.investment[in_set]))
    ror = (total_return - total_investment) / total_investment if total_investment > 0 else None

    terms = [
        coverage,
        None if single_share is None else 1.0 - single_share - unthreaded_share,
        mean_trust,
        mean_reciprocity,
    ]
    present = [t for t in terms if t is not None]
    health_index = 100.0 * sum(present) / len(present) if present else None
    return {
        "coverage": coverage,
        "single_threaded_share": single_share,
        "unthreaded_share": unthreaded_share,
        "mean_trust": mean_trust,
        "mean_reciprocity": mean_reciprocity,
        "return": total_return,
        "investment": total_investment,
        "ror": ror,
        "at_risk_count": int(np.sum(data.at_risk & in_set)),
        "key_stakeholders": n_key,
        "health_index": health_index,
    }
