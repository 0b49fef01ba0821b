"""The network built from the database: a designed network with known answers."""

import pytest
from django.utils import timezone

from networks import services
from networks.models import NetworkHealth, NetworkRun, NodeMetric, StakeholderThreads


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


def test_strongest_intro_path_goes_through_the_stronger_longer_route(designed, manager):
    paths = services.stakeholder_intro_paths(designed["daan"].pk)

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
