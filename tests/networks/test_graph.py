"""The network maths on small hand-built graphs whose answers are known.

Pure functions: no database, no Django. Each graph is drawn in a comment;
``U1`` is the user with id 1, ``S10`` the stakeholder with id 10.
"""

from __future__ import annotations

import math
import multiprocessing

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from networks.graph import (
    DEFAULT_BETWEENNESS_K,
    MIN_EDGE_STRENGTH,
    IntroPathIndex,
    NetworkData,
    betweenness,
    betweenness_k,
    communities,
    constraint,
    exact_threshold,
    intro_paths,
    merge_edges,
    network_health,
    threads,
)

ENGINES = ["igraph", "networkx"]


def network(
    user_edges: list[tuple[int, int, float]],
    stakeholder_edges: list[tuple[int, int, float]] = (),
    *,
    users: list[int] | None = None,
    stakeholders: list[int] | None = None,
    **per_stakeholder,
) -> NetworkData:
    """A network from ``(user, stakeholder, strength)`` and stakeholder-stakeholder triples."""
    if users is None:
        users = sorted({u for u, _, _ in user_edges})
    if stakeholders is None:
        stakeholders = sorted(
            {s for _, s, _ in user_edges}
            | {a for a, _, _ in stakeholder_edges}
            | {b for _, b, _ in stakeholder_edges}
        )

    def columns(edges):
        edges = list(edges)
        return tuple(np.array([e[i] for e in edges]) for i in range(3)) if edges else None

    return NetworkData.build(
        users,
        stakeholders,
        user_edges=columns(user_edges),
        stakeholder_edges=columns(stakeholder_edges),
        **per_stakeholder,
    )


def by_key(data: NetworkData, values: np.ndarray) -> dict[tuple[str, int], float]:
    return dict(zip(data.node_keys(), values.tolist(), strict=True))


# --- Building the graph -----------------------------------------------------------


def test_merge_edges_keeps_the_strongest_tie_per_undirected_pair():
    links = (np.array([10, 20, 30]), np.array([20, 10, 30]), np.array([0.4, 0.7, 0.9]))
    co_participation = (np.array([20, 40]), np.array([10, 10]), np.array([0.5, np.nan]))

    a, b, strength = merge_edges(links, co_participation)

    # (10, 20) three times -> once at 0.7; the self-loop and the null strength go.
    assert a.tolist() == [10] and b.tolist() == [20]
    assert strength.tolist() == [0.7]


@settings(deadline=None)  # the example budget comes from the Hypothesis profile
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 6), st.floats(0, 1, allow_nan=False)),
        max_size=30,
    )
)
def test_merge_edges_matches_a_dictionary_of_maxima(triples):
    expected: dict[tuple[int, int], float] = {}
    for a, b, strength in triples:
        if a != b:
            pair = (min(a, b), max(a, b))
            expected[pair] = max(expected.get(pair, 0.0), strength)
    columns = tuple(np.array([t[i] for t in triples]) for i in range(3))

    a, b, strength = merge_edges(columns)

    got = dict(zip(zip(a.tolist(), b.tolist(), strict=True), strength.tolist(), strict=True))
    assert got == expected
    assert list(got) == sorted(expected)


def test_merge_edges_directed_keeps_the_order_of_user_stakeholder_pairs():
    a, b, strength = merge_edges(
        (np.array([1, 7, 1]), np.array([7, 1, 7]), np.array([0.2, 0.3, 0.6])), directed=True
    )
    assert list(zip(a.tolist(), b.tolist(), strength.tolist(), strict=True)) == [
        (1, 7, 0.6),
        (7, 1, 0.3),
    ]


def test_edges_below_the_cut_are_left_out_of_every_metric():
    # U1 -0.049- S10 -0.05- S20: the first edge is under the 0.05 cut, the second exactly on it.
    data = network([(1, 10, 0.049)], [(10, 20, MIN_EDGE_STRENGTH)])

    assert len(data.source) == 1
    assert data.strength.tolist() == [MIN_EDGE_STRENGTH]
    assert intro_paths(IntroPathIndex(data), 10) == []
    assert data.igraph().ecount() == 1 and data.networkx().number_of_edges() == 1


def test_an_edge_to_an_unknown_id_is_refused():
    with pytest.raises(ValueError, match="unknown stakeholder id 99"):
        NetworkData.build([1], [10], user_edges=([1], [99], [0.5]))


# --- Threads ---------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_single_threaded_and_unthreaded_key_stakeholders(engine):
    # S10 key: U1 at 0.6 (a thread), U2 at 0.29 (below 0.3: not a thread) -> single-threaded.
    # S20 key: U2 at 0.29 only -> unthreaded.  S30 key: U1 and U2 at 0.3 -> two threads.
    # S40 not key, one thread -> not listed.  S50 key, no edge at all -> unthreaded.
    data = network(
        [(1, 10, 0.6), (2, 10, 0.29), (2, 20, 0.29), (1, 30, 0.3), (2, 30, 0.3), (1, 40, 0.9)],
        stakeholders=[10, 20, 30, 40, 50],
        key=[True, True, True, False, True],
    )

    assert threads(data, engine) == {10: [1], 20: [], 30: [1, 2], 40: [1], 50: []}
    # Of the four key stakeholders S10 is single-threaded, S20 and S50 unthreaded.
    health = network_health(data)
    assert (health["single_threaded_share"], health["unthreaded_share"]) == (1 / 4, 2 / 4)


# --- Warm introduction paths --------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_intro_path_prefers_the_longer_stronger_route(engine):
    # U1 -0.2- S99 directly, and U1 -0.9- S10 -0.9- S20 -0.9- S99: the three-hop
    # route (0.9^3 = 0.729) beats the direct one (0.2).  U2 -0.5- S99 directly.
    data = network(
        [(1, 99, 0.2), (1, 10, 0.9), (2, 99, 0.5)],
        [(10, 20, 0.9), (20, 99, 0.9)],
    )

    paths = intro_paths(IntroPathIndex(data, engine), 99)

    assert [p.nodes for p in paths] == [
        [("user", 1), ("stakeholder", 10), ("stakeholder", 20), ("stakeholder", 99)],
        [("user", 2), ("stakeholder", 99)],
    ]
    assert paths[0].strength == pytest.approx(0.9**3)
    assert paths[1].strength == pytest.approx(0.5)
    assert paths[0].as_dict()["nodes"][0] == {"type": "user", "id": 1}


@pytest.mark.parametrize("engine", ENGINES)
def test_intro_paths_give_three_colleagues_and_never_route_through_one(engine):
    # Four users reach S99: U1 via S10 (0.8 * 0.9), U2 directly (0.6), U3
    # directly (0.4), U4 directly (0.1).  U5 knows only S50, and S50 knows only
    # U1: U5 -> S50 -> U1 -> ... would pass through a colleague, so U5 has no path.
    data = network(
        [(1, 10, 0.8), (2, 99, 0.6), (3, 99, 0.4), (4, 99, 0.1), (5, 50, 0.9), (1, 50, 0.9)],
        [(10, 99, 0.9)],
    )
    index = IntroPathIndex(data, engine)

    paths = intro_paths(index, 99)

    assert [p.nodes[0] for p in paths] == [("user", 1), ("user", 2), ("user", 3)]
    assert [p.strength for p in paths] == pytest.approx([0.72, 0.6, 0.4])
    assert all(p.nodes[-1] == ("stakeholder", 99) for p in paths)
    assert len(intro_paths(index, 99, k=5)) == 4
    assert intro_paths(index, 12345) == []  # not in the network

    # A manager's own introductions: only paths from the users asked for, whatever
    # their rank among everyone's; a user with no path gives none.
    assert [p.nodes[0] for p in intro_paths(index, 99, from_users={3})] == [("user", 3)]
    assert [p.nodes[0] for p in intro_paths(index, 99, from_users=[4, 2])] == [
        ("user", 2),
        ("user", 4),
    ]
    assert intro_paths(index, 99, from_users={5}) == []
    assert intro_paths(index, 99, from_users=set()) == []


# --- Brokers and communities ------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_star_centre_lies_on_every_path_and_is_least_constrained(engine):
    # S1 in the middle, S2..S6 around it, all ties 0.5.
    data = network([], [(1, leaf, 0.5) for leaf in range(2, 7)], users=[])

    between = by_key(data, betweenness(data, engine=engine).values)
    burt = by_key(data, constraint(data, engine=engine))

    assert between[("stakeholder", 1)] == pytest.approx(1.0)
    assert all(between[("stakeholder", leaf)] == 0 for leaf in range(2, 7))
    # Five equal, unconnected contacts: 5 * (1/5)^2; a leaf depends on one contact.
    assert burt[("stakeholder", 1)] == pytest.approx(0.2)
    assert burt[("stakeholder", 2)] == pytest.approx(1.0)


def two_cliques_with_a_bridge() -> NetworkData:
    # S1..S4 all tied (0.8), S5..S8 all tied (0.8), one bridge S4 -0.5- S5.
    left = [(a, b, 0.8) for a in range(1, 5) for b in range(a + 1, 5)]
    right = [(a, b, 0.8) for a in range(5, 9) for b in range(a + 1, 9)]
    return network([], left + right + [(4, 5, 0.5)], users=[])


@pytest.mark.parametrize("engine", ENGINES)
def test_bridge_between_two_cliques_marks_its_ends_as_brokers(engine):
    data = two_cliques_with_a_bridge()

    between = by_key(data, betweenness(data, engine=engine).values)
    burt = by_key(data, constraint(data, engine=engine))

    top_two = sorted(between, key=between.get, reverse=True)[:2]
    assert set(top_two) == {("stakeholder", 4), ("stakeholder", 5)}
    inside = [("stakeholder", i) for i in (2, 3, 6, 7)]
    assert all(between[node] == 0 for node in inside)
    stakeholders = [key for key in burt if key[0] == "stakeholder"]
    least = sorted(stakeholders, key=burt.get)[:2]
    assert set(least) == {("stakeholder", 4), ("stakeholder", 5)}


@pytest.mark.parametrize("engine", ENGINES)
def test_two_cliques_form_two_communities(engine):
    data = two_cliques_with_a_bridge()

    found = communities(data, seed=1, engine=engine)

    groups = by_key(data, found.membership)
    assert found.count == 2
    assert len({groups[("stakeholder", i)] for i in (1, 2, 3, 4)}) == 1
    assert len({groups[("stakeholder", i)] for i in (5, 6, 7, 8)}) == 1
    assert groups[("stakeholder", 1)] != groups[("stakeholder", 8)]
    assert found.modularity > 0.3


@pytest.mark.parametrize("engine", ENGINES)
def test_weighted_betweenness_follows_strong_ties_and_hop_count_does_not(engine):
    # S1 -0.9- S2 -0.9- S3 and a weak direct tie S1 -0.1- S3.  Counting hops,
    # S1 and S3 are neighbours and S2 brokers nothing; measuring 1 / strength,
    # the route through S2 (2.2) is shorter than the direct tie (10).
    data = network([], [(1, 2, 0.9), (2, 3, 0.9), (1, 3, 0.1)], users=[])

    hops = by_key(data, betweenness(data, engine=engine, weighted=False).values)
    weighted = by_key(data, betweenness(data, engine=engine, weighted=True).values)

    assert hops[("stakeholder", 2)] == 0
    assert weighted[("stakeholder", 2)] == pytest.approx(1.0)


def test_betweenness_is_sampled_and_labelled_so_above_the_threshold():
    data = two_cliques_with_a_bridge()  # 8 nodes

    exact = betweenness(data, exact_threshold=8, k=4)
    sampled = betweenness(data, exact_threshold=7, k=4, seed=3)
    every_source = betweenness(data, exact_threshold=7, k=8)

    assert exact.meta() == {"sampled": False, "k": None}
    assert sampled.meta() == {"sampled": True, "k": 4}
    assert (sampled.values != exact.values).any()
    # Asking for as many sources as nodes is the exact computation.
    assert every_source.meta() == {"sampled": False, "k": None}
    np.testing.assert_allclose(every_source.values, exact.values)


def test_sampled_betweenness_split_over_two_processes_equals_one_process():
    data = random_network(np.random.default_rng(3), n_users=5, n_stakeholders=40, n_links=90)

    one = betweenness(data, exact_threshold=0, k=20, seed=5)
    two = betweenness(data, exact_threshold=0, k=20, seed=5, processes=2)

    assert two.meta() == one.meta() == {"sampled": True, "k": 20}
    np.testing.assert_allclose(two.values, one.values, atol=1e-12)


def _betweenness_in_a_daemonic_process(data: NetworkData, queue) -> None:
    queue.put(betweenness(data, exact_threshold=0, k=20, seed=5, processes=2).values)


def test_sampled_betweenness_in_a_daemonic_process_falls_back_to_one_process():
    # A prefork Celery pool child is daemonic and may not fork: the same
    # figures must come back, computed serially, instead of an error.
    data = random_network(np.random.default_rng(3), n_users=5, n_stakeholders=40, n_links=90)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_betweenness_in_a_daemonic_process, args=(data, queue))
    child.daemon = True
    child.start()
    values = queue.get(timeout=30)
    child.join(timeout=30)

    assert child.exitcode == 0
    one = betweenness(data, exact_threshold=0, k=20, seed=5).values
    np.testing.assert_allclose(values, one, atol=1e-12)


def test_sources_and_exact_threshold_follow_the_graph_size():
    # Small graphs are exact; above, the measured k; never more sources than nodes.
    assert exact_threshold(DEFAULT_BETWEENNESS_K) == 2 * DEFAULT_BETWEENNESS_K
    assert betweenness_k(52_000) == DEFAULT_BETWEENNESS_K
    assert betweenness_k(100) <= 100
    small = two_cliques_with_a_bridge()
    assert betweenness(small, exact_threshold=exact_threshold(betweenness_k(8))).meta() == {
        "sampled": False,
        "k": None,
    }


def test_node_metrics_align_with_node_keys():
    data = two_cliques_with_a_bridge()

    brokers, burt = betweenness(data, seed=1), constraint(data)

    assert len(brokers.values) == len(burt) == len(data.node_keys())
    assert communities(data, seed=1).count == 2


def test_sampled_betweenness_is_unbiased():
    data = random_network(np.random.default_rng(7), n_users=5, n_stakeholders=25, n_links=50)
    exact = betweenness(data).values

    runs = [betweenness(data, exact_threshold=0, k=10, seed=s).values for s in range(400)]

    # The mean of many estimates converges on the exact value; the per-node
    # tolerance is loose because 400 runs still leave some spread.
    mean = np.mean(runs, axis=0)
    assert np.abs(mean - exact).max() < 0.02 + 0.1 * exact.max()


# --- Network health -----------------------------------------------------------------


def test_health_index_over_the_terms_that_are_not_null():
    # Four key stakeholders: S10 strength 0.8 (covered), two threads; S20 strength
    # 0.5 (covered, on the threshold), one thread; S30 strength 0.2, no thread;
    # S40 strength null (not covered), one thread.  S50 is not key.
    data = network(
        [(1, 10, 0.7), (2, 10, 0.4), (1, 20, 0.6), (3, 40, 0.3), (1, 50, 0.9)],
        stakeholders=[10, 20, 30, 40, 50],
        key=[True, True, True, True, False],
        stakeholder_strength=[0.8, 0.5, 0.2, None, 0.9],
        trust=[0.6, None, 0.8, None, 0.1],  # S50's 0.1 is not key: ignored
        reciprocity=[None, None, None, None, 0.5],  # no key value: null term
        at_risk=[False, True, False, True, True],
        return_value=[1000, 0, 0, 0, 500],
        investment=[200, 100, 0, 0, 200],
    )

    health = network_health(data)

    assert health["key_stakeholders"] == 4
    assert health["coverage"] == pytest.approx(2 / 4)
    assert health["single_threaded_share"] == pytest.approx(2 / 4)
    assert health["unthreaded_share"] == pytest.approx(1 / 4)
    assert health["mean_trust"] == pytest.approx(0.7)
    assert health["mean_reciprocity"] is None
    assert health["return"] == 1500 and health["investment"] == 500
    assert health["ror"] == pytest.approx((1500 - 500) / 500)
    assert health["at_risk_count"] == 3
    # Three non-null terms: coverage 0.5, 1 - 0.5 - 0.25 = 0.25, trust 0.7.
    assert health["health_index"] == pytest.approx(100 * (0.5 + 0.25 + 0.7) / 3)

    # A team owning S20 and S50 only: one key stakeholder, single-threaded, no trust.
    team = network_health(data, stakeholder_ids=[20, 50, 777])
    assert team["key_stakeholders"] == 1
    assert (team["coverage"], team["single_threaded_share"], team["unthreaded_share"]) == (
        1.0,
        1.0,
        0.0,
    )
    assert team["mean_trust"] is None
    assert team["health_index"] == pytest.approx(100 * (1.0 + 0.0) / 2)
    assert team["return"] == 500 and team["investment"] == 300


def test_health_without_key_stakeholders_or_investment_is_null_not_zero():
    data = network([(1, 10, 0.7)], key=[False], trust=[0.9], investment=[0], return_value=[250])

    health = network_health(data)

    assert health["key_stakeholders"] == 0
    for figure in (
        "coverage",
        "single_threaded_share",
        "unthreaded_share",
        "mean_trust",
        "mean_reciprocity",
        "ror",
        "health_index",
    ):
        assert health[figure] is None, figure
    assert health["return"] == 250 and health["investment"] == 0
    assert network_health(data, stakeholder_ids=[])["health_index"] is None


# --- Both engines agree --------------------------------------------------------------


def random_network(
    rng: np.random.Generator, n_users: int = 6, n_stakeholders: int = 30, n_links: int = 60
) -> NetworkData:
    users = (np.arange(n_users) + 1) * 3
    stakeholders = (np.arange(n_stakeholders) + 1) * 5
    n_user_edges = n_users * 4
    user_edges = (
        rng.choice(users, n_user_edges),
        rng.choice(stakeholders, n_user_edges),
        rng.uniform(0.0, 1.0, n_user_edges),
    )
    links = (
        rng.choice(stakeholders, n_links),
        rng.choice(stakeholders, n_links),
        rng.uniform(0.0, 1.0, n_links),
    )
    return NetworkData.build(
        users,
        stakeholders,
        user_edges=user_edges,
        stakeholder_edges=links,
        key=rng.random(n_stakeholders) < 0.5,
    )


@pytest.mark.parametrize("seed", range(8))
def test_engines_agree_on_random_graphs(seed):
    data = random_network(np.random.default_rng(seed))

    assert threads(data, "igraph") == threads(data, "networkx")

    fast, reference = IntroPathIndex(data, "igraph"), IntroPathIndex(data, "networkx")
    for stakeholder_id in data.stakeholder_ids[:10]:
        got = intro_paths(fast, int(stakeholder_id))
        want = intro_paths(reference, int(stakeholder_id))
        assert [p.nodes for p in got] == [p.nodes for p in want]
        assert [p.strength for p in got] == pytest.approx([p.strength for p in want])

    for weighted in (False, True):
        np.testing.assert_allclose(
            betweenness(data, engine="igraph", weighted=weighted).values,
            betweenness(data, engine="networkx", weighted=weighted).values,
            atol=1e-12,
        )
        sampled = [
            betweenness(data, exact_threshold=0, k=12, seed=seed, engine=e, weighted=weighted)
            for e in ENGINES
        ]
        np.testing.assert_allclose(sampled[0].values, sampled[1].values, atol=1e-12)

    np.testing.assert_allclose(
        constraint(data, "igraph"), constraint(data, "networkx"), rtol=1e-9, equal_nan=True
    )
    q_fast = communities(data, seed=seed, engine="igraph").modularity
    q_reference = communities(data, seed=seed, engine="networkx").modularity
    assert q_fast == pytest.approx(q_reference, abs=0.05)


def test_isolated_nodes_have_no_constraint_and_their_own_community():
    data = network([(1, 10, 0.5)], users=[1, 2], stakeholders=[10, 20])

    for engine in ENGINES:
        burt = by_key(data, constraint(data, engine))
        assert math.isnan(burt[("user", 2)]) and math.isnan(burt[("stakeholder", 20)])
        found = communities(data, seed=0, engine=engine)
        assert found.count == 3


def test_an_empty_network_gives_empty_answers_not_errors():
    data = NetworkData.build([], [])

    assert threads(data) == {}
    assert betweenness(data).values.size == 0 and constraint(data).size == 0
    assert communities(data).count == 0
    assert intro_paths(IntroPathIndex(data), 5) == []
    assert network_health(data)["health_index"] is None
