"""The scores panel partial, and who may read stored scores."""

import re

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


def test_panel_shows_each_figure_with_its_explanation(scored, manager, rf):
    request = rf.get("/")
    request.user = manager
    html = render_to_string(
        "metrics/partials/scores_panel.html", {"score": scored, "request": request}
    )

    assert html.count("<details>") == 10
    # 0–100 with its band word and colour, the definition on hover (DESIGN §5b).
    points = round(scored.trust * 100)
    assert f'<span class="score-value">{points}</span>' in html
    assert "score-strong" in html or "score-fair" in html or "score-weak" in html
    assert "data-definition=" in html
    assert "<meter" in html and 'value="0.5"' in html  # (3 − 1) / (3 + 1), not localised
    assert "<strong>you give more</strong>" in html
    # The items are named, with their effect in words; never a bare id.
    assert "Moved most by" in html and "/interactions/" in html
    assert "Meeting on " in html and "raising strength" in html
    assert not re.search(r"#\d+", html)
    assert "Weights" not in html and "Kept (weighted)" not in html


def test_a_return_not_recorded_yet_is_said_and_links_to_recording_one(
    manager, stakeholder, log, rf
):
    # An hour's meeting costs time; no outcome is recorded: RoR would be −100 %.
    log([manager], [stakeholder], occurred_at=days_before(3), duration_minutes=60)
    stakeholder_scores_recompute([stakeholder.pk], at=T)
    score = StakeholderScore.objects.get(stakeholder=stakeholder)
    assert score.ror == -1.0
    request = rf.get("/")
    request.user = manager
    html = render_to_string(
        "metrics/partials/scores_panel.html",
        {"score": score, "request": request, "stakeholder_id": stakeholder.pk},
    )

    assert "No return recorded yet" in html and "−100%" not in html
    assert "Record an outcome" in html
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
