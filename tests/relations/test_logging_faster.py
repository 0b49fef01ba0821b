"""Faster, safer logging (issue 17): a likely duplicate or a future date warns before
saving but never refuses; "Save and log another" returns to an empty form."""

from datetime import timedelta

import pytest
from django.utils import timezone

from relations.models import Interaction
from tests.relations.test_relations_interaction_forms import NEW, form_data

pytestmark = pytest.mark.django_db


def test_a_likely_duplicate_warns_then_saves_when_confirmed(manager_client, manager, stakeholder):
    assert manager_client.post(NEW, form_data([stakeholder], [manager])).status_code == 302
    again = manager_client.post(NEW, form_data([stakeholder], [manager]))
    assert again.status_code == 200
    html = again.content.decode()
    assert 'id="form-warnings"' in html and "was already logged" in html
    assert 'name="confirmed" value="True"' in html
    assert Interaction.objects.count() == 1
    confirmed = manager_client.post(NEW, form_data([stakeholder], [manager], confirmed="True"))
    assert confirmed.status_code == 302
    assert Interaction.objects.count() == 2


def test_a_future_date_warns(manager_client, manager, stakeholder):
    later = (timezone.localtime() + timedelta(days=400)).strftime("%Y-%m-%dT%H:%M")
    response = manager_client.post(NEW, form_data([stakeholder], [manager], occurred_at=later))
    assert response.status_code == 200
    assert "dated in the future" in response.content.decode()
    assert not Interaction.objects.exists()


def test_save_and_log_another(manager_client, manager, stakeholder):
    response = manager_client.post(NEW, form_data([stakeholder], [manager], another="1"))
    assert response.status_code == 302 and response["Location"] == NEW
    page = manager_client.get(NEW).content.decode()
    assert "Save and log another" in page and "due-shortcuts" in page
