"""The pulse on the relationship page: the form, its errors, the history, the value
beside trust with the review flag, and who sees what."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from relations.models import AuthenticityPulse, Relationship
from relations.services import pulse_record

pytestmark = pytest.mark.django_db


def post_pulse(client, relationship, **overrides):
    data = {
        "pulse-assessed_on": timezone.localdate().isoformat(),
        "pulse-integrity": "4",
        "pulse-transparency": "3",
        "pulse-reliability": "5",
        "pulse-note": "Open about the budget",
        **overrides,
    }
    return client.post(reverse("relationship-pulse-create", args=[relationship.pk]), data)


def test_the_page_offers_a_labelled_pulse_form_dated_today(relationship, manager, client_for):
    html = client_for(manager).get(relationship.get_absolute_url()).content.decode()

    assert 'id="pulse-form"' in html
    for label in ("Integrity", "Transparency", "Reliability"):
        assert f'<legend class="form-label fs-6 mb-0">{label}</legend>' in html
    assert f'value="{timezone.localdate():%Y-%m-%d}"' in html
    assert html.count('type="radio"') == 15
    assert "No pulse recorded yet." in html


def test_a_manager_records_a_pulse_and_sees_it_beside_trust(
    relationship, manager, client_for, trust
):
    trust(0.7)
    client = client_for(manager)

    response = post_pulse(client, relationship)

    assert response.status_code == 302
    assert response["Location"] == f"{relationship.get_absolute_url()}#pulses"
    pulse = AuthenticityPulse.objects.get()
    assert (pulse.assessed_by, pulse.integrity, pulse.note) == (manager, 4, "Open about the budget")
    html = client.get(response["Location"]).content.decode()
    assert "Your authenticity pulse was saved." in html
    beside = re.search(r'class="[^"]*pulse-beside-trust.*?</div>', html, re.S).group(0)
    # 0–100 like the scores (DESIGN §5b).
    assert "Your pulse" in beside and '<span class="score-value">75</span>' in beside
    # Trust 0.70 and pulse 0.75 agree: no flag.
    assert "pulse-flag" not in html
    assert 'class="pulse-row"' in html and "Open about the budget" in html
    assert 'class="sparkline pulse-sparkline"' in html


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"pulse-integrity": "6"}, "integrity"),
        ({"pulse-transparency": ""}, "transparency"),
        ({"pulse-reliability": "five"}, "reliability"),
        ({"pulse-assessed_on": "not a date"}, "assessed_on"),
        (
            {"pulse-assessed_on": (timezone.localdate() + timedelta(days=2)).isoformat()},
            "assessed_on",
        ),
    ],
)
def test_bad_input_shows_the_field_error_and_saves_nothing(
    relationship, manager, client_for, overrides, field
):
    response = post_pulse(client_for(manager), relationship, **overrides)

    assert response.status_code == 200
    assert field in response.context["pulse_form"].errors
    assert f'id="id_pulse-{field}_error"' in response.content.decode()
    assert not AuthenticityPulse.objects.exists()


def test_htmx_gets_the_form_back_with_errors_or_a_reload(relationship, manager, client_for):
    client = client_for(manager)
    url = reverse("relationship-pulse-create", args=[relationship.pk])

    invalid = client.post(url, {"pulse-integrity": "9"}, headers={"HX-Request": "true"})
    assert invalid.status_code == 200
    assert invalid.content.decode().lstrip().startswith("<form")
    assert not AuthenticityPulse.objects.exists()

    valid = client.post(
        url,
        {"pulse-integrity": "2", "pulse-transparency": "2", "pulse-reliability": "2"},
        headers={"HX-Request": "true"},
    )
    assert valid["HX-Refresh"] == "true"
    assert AuthenticityPulse.objects.get().assessed_on == timezone.localdate()


def test_the_flag_says_when_the_pulse_is_higher_than_trust(
    relationship, manager, client_for, trust
):
    trust(0.42)
    pulse_record(
        relationship=relationship, by=manager, integrity=5, transparency=4, reliability=4
    )  # 0.8333…

    html = client_for(manager).get(relationship.get_absolute_url()).content.decode()

    assert (
        "Your assessment is higher than the computed trust (83\u00a0strong vs 42\u00a0fair): "
        "check recent broken commitments or negative interactions." in html
    )


def test_the_flag_says_when_the_pulse_is_lower_than_trust(relationship, manager, client_for, trust):
    trust(0.9)
    pulse_record(
        relationship=relationship, by=manager, integrity=2, transparency=2, reliability=3
    )  # 0.3333…

    html = client_for(manager).get(relationship.get_absolute_url()).content.decode()

    assert (
        "Your assessment is lower than the computed trust (33\u00a0weak vs 90\u00a0strong)" in html
    )


def test_the_latest_pulse_is_the_one_compared(relationship, manager, client_for, trust):
    trust(0.5)
    today = timezone.localdate()
    pulse_record(
        relationship=relationship,
        by=manager,
        integrity=5,
        transparency=5,
        reliability=5,
        assessed_on=today - timedelta(days=30),
    )
    pulse_record(
        relationship=relationship,
        by=manager,
        integrity=3,
        transparency=3,
        reliability=3,
        assessed_on=today,
    )

    html = client_for(manager).get(relationship.get_absolute_url()).content.decode()

    assert "pulse-flag" not in html  # 0.50 today agrees with trust; last month's 1.00 is past
    assert html.count('class="pulse-row"') == 2


def test_another_manager_can_neither_see_nor_record(
    relationship, manager, other_manager, client_for
):
    pulse_record(relationship=relationship, by=manager, integrity=3, transparency=3, reliability=3)
    client = client_for(other_manager)

    assert client.get(relationship.get_absolute_url()).status_code == 404
    assert post_pulse(client, relationship).status_code == 404
    assert AuthenticityPulse.objects.count() == 1


def test_the_director_sees_the_managers_pulse_and_whose_it_is(
    relationship, manager, director, client_for, trust
):
    trust(0.2)
    pulse_record(
        relationship=relationship,
        by=manager,
        integrity=4,
        transparency=4,
        reliability=4,
        note="Solid",
    )

    html = client_for(director).get(relationship.get_absolute_url()).content.decode()

    assert "Solid" in html
    assert "Pulse by Maria Manager" in html
    assert "Maria Manager&#x27;s assessment is higher than the computed trust" in html


def test_a_member_neither_sees_nor_records_pulses_on_a_colleagues_relationship(
    relationship, manager, member, director, client_for
):
    pulse_record(
        relationship=relationship,
        by=manager,
        integrity=1,
        transparency=1,
        reliability=1,
        note="Maria's private view",
    )
    client = client_for(member)

    html = client.get(relationship.get_absolute_url()).content.decode()
    assert "Maria&#x27;s private view" not in html and "Maria's private view" not in html
    assert "No pulse recorded yet." in html

    # A relationship's pulses are its user's and the directors' (DESIGN §7).
    assert 'id="pulse-form"' not in html
    assert post_pulse(client, relationship, **{"pulse-note": "Mia's view"}).status_code == 403
    dana = client_for(director)
    assert post_pulse(dana, relationship, **{"pulse-note": "Dana's view"}).status_code == 302
    assert "Dana&#x27;s view" not in client.get(relationship.get_absolute_url()).content.decode()
    # …and Maria sees Dana's pulse on her own relationship.
    assert (
        "Dana&#x27;s view"
        in client_for(manager).get(relationship.get_absolute_url()).content.decode()
    )


def test_the_stakeholders_owner_without_a_relationship_may_look_but_not_assess(
    stakeholder, manager, other_manager, client_for
):
    otto_relationship = Relationship.objects.create(user=other_manager, stakeholder=stakeholder)
    Relationship.objects.filter(user=manager).delete()
    client = client_for(manager)  # Maria owns Sam but has no relationship of her own

    html = client.get(otto_relationship.get_absolute_url()).content.decode()
    assert 'id="pulse-form"' not in html
    assert post_pulse(client, otto_relationship).status_code == 403
    assert not AuthenticityPulse.objects.exists()


def test_the_page_stays_bounded_with_many_pulses(
    relationship, manager, client_for, trust, django_assert_max_num_queries
):
    trust(0.5)
    for days in range(30):
        pulse_record(
            relationship=relationship,
            by=manager,
            integrity=3,
            transparency=4,
            reliability=days % 5 + 1,
            assessed_on=timezone.localdate() - timedelta(days=days * 7),
        )
    client = client_for(manager)
    client.get(relationship.get_absolute_url())  # warm the session and the user's groups

    # session, user, groups; the relationship (+user, stakeholder, organisation, owner);
    # shared interactions: count (page empty); commitments; pulses (+author, capped);
    # the stored score; the latest pulse beside it; the flash messages; trust over
    # time: the snapshots and the span's commitments, interactions and pulses (+author)
    with django_assert_max_num_queries(12 + 4):
        response = client.get(relationship.get_absolute_url())
    assert response.content.decode().count('class="pulse-row"') == 12


def test_an_empty_date_means_today(relationship, manager, client_for):
    assert (
        post_pulse(client_for(manager), relationship, **{"pulse-assessed_on": ""}).status_code
        == 302
    )
    assert AuthenticityPulse.objects.get().assessed_on == timezone.localdate()
