"""`pulse_record`, `pulse_update`, `pulse_delete`: who may, what is validated, what is audited."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from relations.models import AuditEvent, AuthenticityPulse
from relations.services import pulse_delete, pulse_record, pulse_update

RATINGS = {"integrity": 4, "transparency": 3, "reliability": 5}


def audits(action):
    return AuditEvent.objects.filter(object_type="relations.authenticitypulse", action=action)


def test_the_relationships_user_records_a_dated_audited_pulse(relationship, manager):
    assert not AuthenticityPulse.objects.exists()

    pulse = pulse_record(relationship=relationship, by=manager, note="Open about costs", **RATINGS)

    pulse.refresh_from_db()
    assert (pulse.relationship, pulse.assessed_by) == (relationship, manager)
    assert pulse.assessed_on == timezone.localdate()
    assert (pulse.integrity, pulse.transparency, pulse.reliability) == (4, 3, 5)
    assert pulse.score == 0.75
    event = audits("create").get()
    assert event.actor == manager and event.object_id == str(pulse.pk)
    assert event.changes["integrity"] == 4


def test_the_user_and_directors_may_record_on_the_relationship_not_members(
    relationship, manager, member, director
):
    pulse_record(relationship=relationship, by=manager, **RATINGS)
    pulse_record(relationship=relationship, by=director, **RATINGS)
    # A colleague who also knows Sam assesses her own relationship, not Maria's (DESIGN §7).
    with pytest.raises(PermissionDenied):
        pulse_record(relationship=relationship, by=member, **RATINGS)

    assert set(AuthenticityPulse.objects.values_list("assessed_by__username", flat=True)) == {
        "maria",
        "dana",
    }


def test_a_manager_without_a_relationship_to_the_stakeholder_may_not(relationship, other_manager):
    with pytest.raises(PermissionDenied):
        pulse_record(relationship=relationship, by=other_manager, **RATINGS)

    assert not AuthenticityPulse.objects.exists()
    assert not audits("create").exists()


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({**RATINGS, "integrity": 0}, "integrity"),
        ({**RATINGS, "transparency": 6}, "transparency"),
        ({**RATINGS, "reliability": None}, "reliability"),
        # Tomorrow as of the test's own clock, not the moment of collection.
        ({**RATINGS, "assessed_on": "tomorrow"}, "assessed_on"),
        ({**RATINGS, "note": "x" * 2001}, "note"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(relationship, manager, fields, bad_field):
    if fields.get("assessed_on") == "tomorrow":
        fields = {**fields, "assessed_on": timezone.localdate() + timedelta(days=1)}
    with pytest.raises(ValidationError) as caught:
        pulse_record(relationship=relationship, by=manager, **fields)

    assert bad_field in caught.value.message_dict
    assert not AuthenticityPulse.objects.exists()
    assert not audits("create").exists()


def test_the_author_or_a_director_changes_and_deletes_a_pulse(
    relationship, manager, member, director
):
    pulse = pulse_record(relationship=relationship, by=manager, **RATINGS)

    with pytest.raises(PermissionDenied):
        pulse_update(pulse, by=member, integrity=1)
    pulse_update(pulse, by=manager, integrity=2)
    pulse.refresh_from_db()
    assert pulse.integrity == 2
    assert audits("update").get().changes == {"integrity": [4, 2]}

    with pytest.raises(PermissionDenied):
        pulse_delete(pulse, by=member)
    pulse_delete(pulse, by=director)
    assert not AuthenticityPulse.objects.exists()
    assert audits("delete").get().actor == director


def test_an_invalid_update_leaves_the_pulse_unchanged(relationship, manager):
    pulse = pulse_record(relationship=relationship, by=manager, **RATINGS)

    with pytest.raises(ValidationError):
        pulse_update(pulse, by=manager, reliability=9)

    pulse.refresh_from_db()
    assert pulse.reliability == 5
    assert not audits("update").exists()
