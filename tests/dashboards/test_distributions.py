"""The dashboard's score distributions: ten buckets of 0.1 on the 0–100 scale, several
scores counted in one query."""

import pytest
from django.utils import timezone

from dashboards.figures import distributions
from metrics.models import StakeholderScore
from relations.models import Stakeholder
from tests.factories import StakeholderFactory

pytestmark = pytest.mark.django_db


def test_each_score_falls_in_its_tenth_and_a_missing_one_nowhere(django_assert_num_queries):
    scores = [(0.0, 1.0), (0.05, 0.3), (0.1, None), (0.55, 0.999), (0.3, 0.7), (None, 0.0)]
    for trust, strength in scores:
        StakeholderScore.objects.create(
            stakeholder=StakeholderFactory(),
            trust=trust,
            strength=strength,
            computed_at=timezone.now(),
        )
    StakeholderFactory()  # no stored scores at all

    with django_assert_num_queries(1):
        counts = distributions(Stakeholder.objects.all(), ("trust", "strength"))

    assert counts["trust"] == [2, 1, 0, 1, 0, 1, 0, 0, 0, 0]
    # 1.0 counts in the last bucket (90–100), as 0.999 does.
    assert counts["strength"] == [1, 0, 0, 1, 0, 0, 0, 1, 0, 2]
