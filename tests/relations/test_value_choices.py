"""Value given and received on the interaction form (issue #17): the model's 0–5 scale as
one labelled radio group each, inside a fieldset with its legend and a line that says
what "given" and "received" mean; the API keeps its integers."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from relations.models import Interaction
from tests.factories import InteractionFactory, StakeholderFactory
from tests.relations.test_relations_interaction_forms import form_data

pytestmark = pytest.mark.django_db

LABELS = ["0 none", "1 a little", "2 some", "3 useful", "4 a lot", "5 exceptional"]


def _radios(html: str, name: str) -> list[tuple[str, bool]]:
    tags = re.findall(rf'<input type="radio"[^>]*name="{name}"[^>]*>', html)
    return [(re.search(r'value="(\d)"', t).group(1), " checked" in t) for t in tags]


def test_the_form_offers_labelled_choices_with_their_meaning(manager_client):
    html = manager_client.get(reverse("interaction-create")).content.decode()
    assert "Given: what we brought them" in html and 'id="value-explained"' in html
    for name, legend in (("value_given", "Value given"), ("value_received", "Value received")):
        assert _radios(html, name) == [(str(n), n == 0) for n in range(6)]  # 0 by default
        fieldset = re.search(rf'<fieldset class="value-choices[^"]*" id="id_{name}"[^>]*>', html)
        assert fieldset and "value-explained" in fieldset.group(0)
        assert f'<legend class="form-label fs-6 mb-0">{legend}</legend>' in html
    for label in LABELS:
        assert f">{label}</label>" in html


def test_a_choice_is_saved_as_its_number(manager_client, manager):
    anna = StakeholderFactory(owner=manager)
    data = form_data([anna], [manager], value_given="4", value_received="0")
    assert manager_client.post(reverse("interaction-create"), data).status_code == 302
    interaction = Interaction.objects.get()
    assert (interaction.value_given, interaction.value_received) == (4, 0)


def test_a_value_off_the_scale_is_a_form_error(manager_client, manager):
    anna = StakeholderFactory(owner=manager)
    response = manager_client.post(
        reverse("interaction-create"), form_data([anna], [manager], value_received="6")
    )
    assert response.status_code == 200
    assert "value_received" in response.context["form"].errors
    assert 'id="id_value_received_error"' in response.content.decode()
    assert not Interaction.objects.exists()


def test_the_edit_page_shows_the_stored_choice(manager_client, manager):
    interaction = InteractionFactory(created_by=manager, value_given=5, value_received=1)
    interaction.internal_participants.add(manager)
    html = manager_client.get(f"/interactions/{interaction.pk}/edit/").content.decode()
    assert ("5", True) in _radios(html, "value_given")
    assert ("1", True) in _radios(html, "value_received")


def test_the_api_keeps_its_integers(manager_api, manager):
    anna = StakeholderFactory(owner=manager)
    response = manager_api.post(
        "/api/v1/interactions/",
        {
            "occurred_at": "2026-11-01T10:00:00Z",
            "kind": "call",
            "subject": "Call",
            "internal_participants": [manager.pk],
            "stakeholders": [anna.pk],
            "value_given": 5,
            "value_received": 3,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["value_given"], response.json()["value_received"]) == (5, 3)
