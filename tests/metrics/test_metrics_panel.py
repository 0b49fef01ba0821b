"""The scores panel partial, and who may read stored scores."""

import pytest
from django.template.loader import render_to_string

from metrics.models import RelationshipScore, StakeholderScore
from tests.factories import StakeholderFactory
from tests.metrics.recomputing import relationship_scores_recompute, stakeholder_scores_recompute
from tests.metrics.timebase import T, days_before


@pytest.fixture
def scored(manager, stakeholder, log):
    log(
        [manager],
        [stakeholder],
        occurred_at=days_before(3),
        value_given=3,
        value_received=1,
        sentiment=1,
    )
    stakeholder_scores_recompute([stakeholder.pk], at=T)
    relationship_scores_recompute(pairs=[(manager.pk, stakeholder.pk)], at=T)
    return StakeholderScore.objects.get(stakeholder=stakeholder)


def test_panel_shows_each_figure_with_its_explanation(scored):
    html = render_to_string("metrics/partials/scores_panel.html", {"score": scored})

    assert html.count("<details>") == 10
    assert f"{scored.trust:.2f}" in html
    assert "<meter" in html and 'value="0.5"' in html  # (3 − 1) / (3 + 1), not localised
    assert "Moved most by" in html and "/interactions/" in html
    assert "style=" not in html and "<script" not in html  # strict CSP


def test_panel_without_scores_says_so():
    html = render_to_string("metrics/partials/scores_panel.html", {"score": None})

    assert "Not computed yet" in html
    assert "<details>" not in html


def test_scores_are_visible_to_directors_and_managers_who_know_the_stakeholder(
    scored, manager, other_manager, director, stakeholder
):
    StakeholderFactory(owner=other_manager)

    assert list(StakeholderScore.objects.visible_to(director)) == [scored]
    assert list(StakeholderScore.objects.visible_to(manager)) == [scored]
    assert not StakeholderScore.objects.visible_to(other_manager).exists()
    assert RelationshipScore.objects.visible_to(manager).count() == 1
    assert not RelationshipScore.objects.visible_to(other_manager).exists()
