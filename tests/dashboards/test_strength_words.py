"""Strength thresholds on the dashboard read 0–100 like the scores (DESIGN §5b)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_coverage_threshold_reads_0_to_100(known, director, client_for):
    client = client_for(director)
    html = client.get(reverse("dashboard")).content.decode()
    assert "strength 50 or more" in html and "strength ≥" not in html
    figure = client.get(reverse("dashboard-figure"), {"figure": "not_covered"}).content.decode()
    assert "strength below 50" in figure and "strength <" not in figure
    dutch = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "sterkte 50 of meer" in dutch and "sterkte ≥" not in dutch
