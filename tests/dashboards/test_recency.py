"""Where recency matters (losing touch, the portfolio's relationships, the timeline) a
date reads as its relative age, "3 days ago" / "3 dagen geleden", in a <time> whose
title is the full medium date (DESIGN §5b), worded by Django's humanize."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from metrics.recompute import scores_recompute_all
from tests.dashboards.conftest import meet
from tests.factories import StakeholderFactory

# 13:00 in Amsterdam, the pages' time zone.
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]


def ages(html: str) -> list[tuple[str, str, str]]:
    """Every <time> of a page: (datetime, title, text), non-breaking spaces as spaces."""
    found = re.findall(r'<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>', html)
    return [tuple(part.replace("\xa0", " ") for part in time) for time in found]


@pytest.fixture
def hugo(manager):
    """Maria last met Hugo three days ago; his cadence is two days (losing touch)."""
    hugo = StakeholderFactory(name="Hugo", owner=manager, importance=3, cadence_days=2)
    meet(manager, hugo, 3)
    scores_recompute_all()
    return hugo


def test_the_filter_words_a_past_moment_with_its_date_in_the_title():
    template = Template("{% load rapport %}{{ when|recency }}")
    cases = [
        (NOW - timedelta(days=3, hours=4), "3 days ago", "3 dagen geleden"),
        (NOW - timedelta(days=40), "1 month ago", "1 maand geleden"),
        (NOW - timedelta(hours=5), "5 hours ago", "5 uur geleden"),
    ]
    for when, english, dutch in cases:
        for language, words in (("en", english), ("nl", dutch)):
            with translation.override(language):
                html = template.render(Context({"when": when}))
            [(stamp, title, text)] = ages(html)
            assert text == words, (language, html)
            assert stamp == when.isoformat()
    with translation.override("nl"):
        html = template.render(Context({"when": NOW - timedelta(days=3)}))
    assert ages(html)[0][1] == "2 dec 2026, 13:00"
    assert Template("{% load rapport %}{{ when|recency }}").render(Context({"when": None})) == "—"


def test_losing_touch_shows_the_age_of_the_last_contact(hugo, manager, client_for):
    html = client_for(manager).get(reverse("home")).content.decode()
    row = html.split('id="losing-touch"')[1].split("</section>")[0]
    assert "Last contact <time" in row
    assert ages(row)[0][1:] == ("2 Dec 2026, 13:00", "3 days ago")


def test_losing_touch_in_dutch(hugo, manager, client_for):
    client = client_for(manager)
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    row = html.split('id="losing-touch"')[1].split("</section>")[0]
    assert "Laatste contact <time" in row
    assert ages(row)[0][1:] == ("2 dec 2026, 13:00", "3 dagen geleden")


def test_the_portfolio_shows_the_age_of_each_relationships_last_contact(hugo, manager, client_for):
    html = client_for(manager).get(reverse("portfolio")).content.decode()
    row = html.split("Hugo")[1].split("</tr>")[0]
    assert ages(row)[0][1:] == ("2 Dec 2026, 13:00", "3 days ago")


def test_the_timeline_shows_the_age_of_each_interaction(hugo, manager, client_for):
    html = client_for(manager).get(hugo.get_absolute_url()).content.decode()
    timeline = html.split('id="timeline"')[1]
    assert ("2 Dec 2026, 13:00", "3 days ago") in [time[1:] for time in ages(timeline)]


def test_the_stakeholder_list_shows_the_age_of_the_last_contact_the_reader_may_see(
    hugo, manager, other_manager, client_for
):
    from relations.models import Relationship

    # Otto met Hugo five days ago and has no relationship with him: he sees only his
    # own interaction, Maria (the owner) both, the latest three days old.
    meet(other_manager, hugo, 5)
    Relationship.objects.filter(user=other_manager, stakeholder=hugo).delete()
    url = reverse("stakeholder-list")

    def row(client, **headers):
        html = client.get(url, **headers).content.decode()
        return ages(html.split("Hugo")[1].split("</tr>")[0])[0]

    assert row(client_for(manager))[1:] == ("2 Dec 2026, 13:00", "3 days ago")
    assert row(client_for(manager), HTTP_ACCEPT_LANGUAGE="nl")[2] == "3 dagen geleden"
    assert row(client_for(other_manager))[1:] == ("30 Nov 2026, 13:00", "5 days ago")
