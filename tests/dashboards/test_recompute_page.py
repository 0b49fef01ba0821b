"""The directors' recompute page: the browser's `POST /api/v1/recompute/` (issue #17),
with the API's rule (directors; managers 403 on both) and the same task."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from metrics.models import RecomputeJob

pytestmark = pytest.mark.django_db


def test_a_director_starts_a_recomputation_and_sees_it_listed(director_client, director):
    page = director_client.get("/scores/recompute/")
    assert page.status_code == 200
    assert "No recomputation requested yet." in page.content.decode()
    response = director_client.post("/scores/recompute/")
    assert response.status_code == 302 and response["Location"] == "/scores/recompute/"
    job = RecomputeJob.objects.get()
    assert job.requested_by == director and job.kind == RecomputeJob.Kind.FULL
    html = director_client.get("/scores/recompute/").content.decode()
    assert 'class="list-group-item recompute-job"' in html and "Dana Director" in html


@pytest.mark.parametrize("role", ["manager", "other_manager", "director"])
def test_page_and_api_agree_on_who_may_recompute(role, request):
    user = request.getfixturevalue(role)
    from tests.clients import signed_in

    page = signed_in(user)
    api = APIClient()
    api.force_login(user)
    page_allows = page.get("/scores/recompute/").status_code == 200
    assert page.post("/scores/recompute/").status_code == (302 if page_allows else 403)
    api_status = api.post("/api/v1/recompute/").status_code
    assert api_status in (202, 403)
    assert page_allows == (api_status == 202)
    assert page_allows == (role == "director")
