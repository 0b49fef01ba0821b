"""The network built from the database: a designed network with known answers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from metrics.models import RelationshipScore
from networks import graph, services
from networks.models import NetworkHealth, NetworkRun, NodeMetric, StakeholderThreads
from relations.models import Relationship
from relations.services import interaction_log
from tests.factories import StakeholderFactory, UserFactory


def test_threads_and_key_person_risk(designed, manager, other_manager):
    threads = {t.stakeholder_id: t for t in StakeholderThreads.objects.all()}
    assert threads[designed["alba"].pk].thread_user_ids == [manager.pk]
    assert threads[designed["alba"].pk].sole_thread_user_id == manager.pk
    assert sorted(threads[designed["bram"].pk].thread_user_ids) == sorted(
        [manager.pk, other_manager.pk]
    )
    assert threads[designed["cleo"].pk].thread_count == 0
    # Daan's only tie to Otto is below the 0.3 thread threshold.
    assert threads[designed["daan"].pk].thread_count == 0
    assert not threads[designed["daan"].pk].is_key

    assert services.key_person_risk_rows() == [
        {"user": manager.pk, "single_threaded": [designed["alba"].pk]}
    ]


def test_key_person_risk_puts_the_user_holding_most_key_stakeholders_alone_first(db):
    # U3 is the only thread of three key stakeholders, U1 and U2 of two each
    # (tie: lower id first), U4 shares all of its stakeholders, U5 is the only
    # thread of a stakeholder that is not key.
    users = {n: UserFactory() for n in (1, 2, 3, 4, 5)}
    stakeholders = {
        n: StakeholderFactory(importance=1 if n == 51 else 5)
        for n in (11, 12, 21, 22, 31, 32, 33, 41, 51)
    }
    edges = [(3, 31, 0.8), (3, 32, 0.8), (3, 33, 0.8)]
    edges += [(2, 21, 0.5), (2, 22, 0.5), (1, 11, 0.5), (1, 12, 0.5)]
    edges += [(4, 41, 0.9), (3, 41, 0.9), (5, 51, 0.9)]
    for user, stakeholder, strength in edges:
        relationship = Relationship.objects.create(
            user=users[user], stakeholder=stakeholders[stakeholder], role="owner"
        )
        RelationshipScore.objects.create(
            relationship=relationship, strength=strength, computed_at=timezone.now()
        )

    services.network_recompute()

    def ids(*numbers: int) -> list[int]:
        return [stakeholders[n].pk for n in numbers]

    assert services.key_person_risk_rows() == [
        {"user": users[3].pk, "single_threaded": ids(31, 32, 33)},
        {"user": users[1].pk, "single_threaded": ids(11, 12)},
        {"user": users[2].pk, "single_threaded": ids(21, 22)},
    ]
    # The page's people: the same colleagues, with the same counts.
    assert {user.pk: user.at_risk for user in services.key_person_risk_people()} == {
        users[3].pk: 3,
        users[1].pk: 2,
        users[2].pk: 2,
    }


def test_strongest_intro_path_goes_through_the_stronger_longer_route(designed, manager, director):
    _run, paths = services.stakeholder_intro_paths(designed["daan"].pk, director)

    best = paths[0]
    # Maria–Alba (≈0.63) × Alba–Daan (0.9) ≈ 0.57 beats Otto's direct e-mail tie (≈0.095).
    assert best["nodes"] == [
        {"type": "user", "id": manager.pk},
        {"type": "stakeholder", "id": designed["alba"].pk},
        {"type": "stakeholder", "id": designed["daan"].pk},
    ]
    assert best["strength"] == pytest.approx((1 - 2.718281828**-1) * 0.9, rel=0.05)
    assert [p["strength"] for p in paths] == sorted((p["strength"] for p in paths), reverse=True)
    assert len(paths) <= 3


def test_network_health_of_the_organisation(designed):
    health = services.health_current()
    figures = health.figures()
    assert figures["key_stakeholders"] == 3  # Alba, Bram, Cleo
    assert figures["single_threaded_share"] == pytest.approx(1 / 3)
    assert figures["unthreaded_share"] == pytest.approx(1 / 3)
    # Coverage: key stakeholders with stakeholder-level strength ≥ 0.5: Alba and Bram.
    assert figures["coverage"] == pytest.approx(2 / 3)
    terms = [figures["coverage"], 1 - 1 / 3 - 1 / 3]
    terms += [t for t in (figures["mean_trust"], figures["mean_reciprocity"]) if t is not None]
    assert figures["health_index"] == pytest.approx(100 * sum(terms) / len(terms))
    assert health.date == timezone.now().date()


def test_run_is_recorded_with_its_graph_and_node_metrics(designed):
    run = NetworkRun.objects.get(pk=designed["run"].pk)
    assert run.status == NetworkRun.Status.DONE
    assert run.node_count == 3 + 4
    assert run.edge_count >= 5
    assert not run.betweenness_sampled
    assert NodeMetric.objects.count() == run.node_count
    # Alba bridges Maria and Daan: she lies on shortest paths, the isolated Cleo does not.
    alba = NodeMetric.objects.get(node_type="stakeholder", node_id=designed["alba"].pk)
    cleo = NodeMetric.objects.get(node_type="stakeholder", node_id=designed["cleo"].pk)
    assert alba.betweenness > 0
    assert cleo.betweenness == 0


def test_a_second_run_replaces_results_and_keeps_one_health_row_per_day(designed):
    services.network_recompute()
    assert NetworkHealth.objects.filter(scope="organisation").count() == 1
    assert StakeholderThreads.objects.count() == 4


def test_stored_rows_keep_nulls_lists_and_times(designed, manager, other_manager):
    # PostgreSQL stores these rows with COPY, SQLite with bulk_create: both
    # must give back the same values, nulls included.
    run = NetworkRun.objects.get(pk=designed["run"].pk)
    cleo = NodeMetric.objects.get(node_type="stakeholder", node_id=designed["cleo"].pk)
    assert cleo.constraint is None  # isolated: constraint undefined, not 0
    assert cleo.degree == 0
    maria = NodeMetric.objects.get(node_type="user", node_id=manager.pk)
    assert maria.degree == 2  # Alba and Bram
    assert maria.constraint is not None
    bram = StakeholderThreads.objects.get(stakeholder=designed["bram"])
    assert bram.is_key
    assert bram.thread_count == 2
    assert bram.sole_thread_user_id is None
    assert sorted(bram.thread_user_ids) == sorted([manager.pk, other_manager.pk])
    cleo_threads = StakeholderThreads.objects.get(stakeholder=designed["cleo"])
    assert cleo_threads.thread_user_ids == []
    assert cleo_threads.sole_thread_user_id is None
    assert abs((bram.computed_at - run.finished_at).total_seconds()) < 60


def test_betweenness_options_follow_settings_and_graph_size(settings):
    settings.RAPPORT_BETWEENNESS_K = None
    settings.RAPPORT_BETWEENNESS_PROCESSES = 2
    options = services.betweenness_options(52_000)
    assert options["k"] == graph.DEFAULT_BETWEENNESS_K
    assert options["exact_threshold"] == 2 * options["k"]
    assert options["processes"] == 2

    settings.RAPPORT_BETWEENNESS_K = 300
    settings.RAPPORT_BETWEENNESS_PROCESSES = 0
    assert services.betweenness_options(52_000) == {
        "k": 300,
        "exact_threshold": 600,
        "processes": 1,
    }


def test_run_records_the_sampled_k(designed, settings):
    # Seven nodes, more than the 2k = 4 threshold: sampled, and the run says with what k.
    settings.RAPPORT_BETWEENNESS_K = 2
    run = services.network_recompute()
    assert run.betweenness_sampled
    assert run.betweenness_k == 2


def _meeting(user, stakeholders, ago):
    interaction_log(
        by=user,
        participants=[user],
        stakeholders=stakeholders,
        subject="joint meeting",
        kind="meeting",
        occurred_at=timezone.now() - ago,
        value_given=1,
        value_received=1,
        duration_minutes=30,
    )


def test_co_participation_pairs_stakeholders_met_together_up_to_the_date(manager):
    a, b, c, alone = (StakeholderFactory(owner=manager) for _ in range(4))
    _meeting(manager, [a, b, c], timedelta(days=3))
    _meeting(manager, [a, b], timedelta(days=3))
    _meeting(manager, [alone], timedelta(days=3))
    _meeting(manager, [b, c], timedelta(hours=1))  # after `at`: not counted
    at = timezone.now() - timedelta(days=1)

    lo, hi, strength = services.co_participation_edges(at)

    pairs = {
        (int(x), int(y)): float(s)
        for x, y, s in zip(lo.tolist(), hi.tolist(), strength.tolist(), strict=True)
    }
    ids = sorted([a.pk, b.pk, c.pk])
    assert set(pairs) == {(ids[0], ids[1]), (ids[0], ids[2]), (ids[1], ids[2])}
    ab = pairs[(min(a.pk, b.pk), max(a.pk, b.pk))]
    bc = pairs[(min(b.pk, c.pk), max(b.pk, c.pk))]
    ac = pairs[(min(a.pk, c.pk), max(a.pk, c.pk))]
    assert ab > ac  # two shared meetings against one
    assert bc == pytest.approx(ac)  # the later B-C meeting is after `at`
    assert 0 < ac < 1
