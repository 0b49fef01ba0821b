"""Issue 21's acceptance journey, in headless Chromium: a manager connects a real
Dovecot mailbox and a real Radicale calendar at /settings/connections/, syncs them, and
finds the interactions matched to the right stakeholders and the unknown people waiting
in the review queue; a second sync adds nothing; a meeting cancelled on the server
disappears. The connections pages fit 390 and 1440 px and pass axe (serious and
critical: none)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from connections.models import ConnectedAccount, SuggestedStakeholder
from relations.models import Interaction
from tests.connections.conftest import dovecot  # noqa: F401 (the Dovecot fixture)
from tests.connections.dav_fixtures import ics, radicale_server  # noqa: F401 (`radicale`)
from tests.connections.mailgen import message
from tests.dashboards.conftest import _tasks_in_process  # noqa: F401 (syncs run in process)
from tests.factories import StakeholderFactory, UserFactory
from tests.mfa import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (390, 1440)


def ago(days: int, hour: int = 10) -> str:
    moment = (timezone.now() - timedelta(days=days)).replace(hour=hour, minute=0)
    return moment.strftime("%Y%m%dT%H%M00Z")


def meeting(uid: str, days: int, summary: str, *, status: str = "") -> bytes:
    return ics(
        uid,
        ago(days),
        summary=summary,
        organizer=("maria@rapport.test", "Maria Manager"),
        attendees=(("sam@example.org", "Sam Stakeholder"), ("nina@newco.example", "Nina Newcomer")),
        status=status,
    )


def check_page(page: Page, axe: str, where: str) -> list[str]:
    """The page at both widths: no horizontal scroll, no serious or critical axe finding."""
    failures = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        if wide[0] > wide[1]:
            failures.append(f"{where} @{width}: {wide[0]} px wide")
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(axe)
        result = page.evaluate(
            "() => axe.run(document, {resultTypes: ['violations'],"
            " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']}})"
        )
        failures += [
            f"{where} @{width}: axe {v['id']} ({v['impact']})"
            f" {[n['target'] for n in v['nodes'][:3]]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
    return failures


def field(page: Page, label: str):
    """A form field by its whole label (required ones end in an asterisk)."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def account_card(page: Page, label: str):
    return page.locator("section.card").filter(has=page.get_by_role("heading", name=label))


def test_manager_connects_a_mailbox_and_a_calendar_and_the_interactions_log_themselves(
    page: Page,
    live_server,
    dovecot,  # noqa: F811 (conn-mail's fixture, imported above)
    radicale,
    problems,
    settings,
):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True
    maria = UserFactory(username="maria", first_name="Maria", last_name="Manager", role="manager")
    UserFactory(username="otto", first_name="Otto", last_name="Other", role="manager")
    sam = StakeholderFactory(name="Sam Stakeholder", owner=maria, email="sam@example.org")
    ann = StakeholderFactory(name="Ann Client", owner=maria, email="ann@client.example")

    # The mailbox: a message from a stakeholder, one from a stranger, one among staff.
    dovecot.add_user("maria", "app-pw-1")
    sent = timezone.now() - timedelta(days=2)
    dovecot.deliver(
        "maria",
        message(
            sender="Ann Client <ann@client.example>",
            to=["maria@rapport.test"],
            subject="Tender questions",
            message_id="<tender@client.example>",
            sent=sent,
        ),
    )
    dovecot.deliver(
        "maria",
        message(
            sender="Zoe Prospect <zoe@prospect.example>",
            to=["maria@rapport.test"],
            subject="Introduction",
            message_id="<intro@prospect.example>",
            sent=sent,
        ),
    )
    dovecot.deliver(
        "maria",
        message(
            sender="Otto Other <otto@rapport.test>",
            to=["maria@rapport.test"],
            subject="Lunch?",
            message_id="<lunch@rapport.test>",
            sent=sent,
        ),
    )
    # The calendar: two past meetings with Sam and a newcomer, and one still to come.
    radicale.make_calendar("/alice/work/")
    radicale.put("/alice/work/review.ics", meeting("review@rapport.test", 3, "Grid review"))
    radicale.put("/alice/work/pricing.ics", meeting("pricing@rapport.test", 1, "Pricing call"))
    radicale.put("/alice/work/later.ics", meeting("later@rapport.test", -4, "Site visit"))

    axe = AXE.read_text()
    failures: list[str] = []
    sign_in_through_form(page, live_server, "maria")
    page.goto(f"{live_server.url}/settings/connections/")
    expect(page.get_by_role("heading", name="Connected accounts")).to_be_visible()
    failures += check_page(page, axe, "connections (empty)")

    # Connect the mailbox (plain IMAP on the test server's port).
    page.get_by_role("link", name="Connect a mailbox").click()
    failures += check_page(page, axe, "connect a mailbox")
    field(page, "Name").fill("Work mail")
    field(page, "Server").fill(dovecot.host)
    field(page, "Port").fill(str(dovecot.port))
    field(page, "Encryption").select_option("none")
    field(page, "User name").fill("maria")
    field(page, "Password").fill("app-pw-1")
    field(page, "Folders").fill("INBOX")
    page.get_by_role("button", name="Connect").click()
    expect(page).to_have_url(re.compile(r"/settings/connections/$"))
    expect(account_card(page, "Work mail")).to_be_visible()

    # Connect the calendar by the server's address: the calendar is found there.
    page.get_by_role("link", name="Connect a calendar").click()
    failures += check_page(page, axe, "connect a calendar")
    field(page, "Name").fill("Work calendar")
    field(page, "Address").fill(radicale.base_url + "/")
    field(page, "User name").fill("alice")
    field(page, "Password").fill("secret")
    page.get_by_role("button", name="Connect").click()
    expect(account_card(page, "Work calendar")).to_be_visible()

    for label in ("Work mail", "Work calendar"):
        account_card(page, label).get_by_role("button", name=re.compile("Sync now")).click()
        expect(account_card(page, label)).to_contain_text("Working")
    failures += check_page(page, axe, "connections (two accounts)")

    calendar = ConnectedAccount.objects.get(label="Work calendar")
    assert calendar.collection_url == radicale.base_url + "/alice/work/"
    tender = Interaction.objects.get(subject="Tender questions")
    assert list(tender.stakeholders.all()) == [ann]
    assert tender.private and list(tender.internal_participants.all()) == [maria]
    assert set(Interaction.objects.values_list("subject", flat=True)) == {
        "Tender questions",
        "Grid review",
        "Pricing call",
    }
    for subject in ("Grid review", "Pricing call"):
        assert list(Interaction.objects.get(subject=subject).stakeholders.all()) == [sam]
    assert not Interaction.objects.filter(subject__in=["Lunch?", "Introduction", "Site visit"])

    # The interactions are on the stakeholders' pages.
    page.goto(f"{live_server.url}{sam.get_absolute_url()}")
    expect(page.locator("main")).to_contain_text("Grid review")
    expect(page.locator("main")).to_contain_text("Pricing call")

    # The strangers wait in the review queue, with what they were met in.
    page.goto(f"{live_server.url}/settings/connections/")
    page.get_by_role("link", name=re.compile("waiting for review")).click()
    queue = page.locator("main")
    expect(queue).to_contain_text("zoe@prospect.example")
    expect(queue).to_contain_text("1 message")
    expect(queue).to_contain_text("nina@newco.example")
    expect(queue).to_contain_text("2 meetings")
    failures += check_page(page, axe, "review queue")
    assert set(SuggestedStakeholder.objects.values_list("email", flat=True)) == {
        "zoe@prospect.example",
        "nina@newco.example",
    }

    # A second sync adds nothing.
    page.goto(f"{live_server.url}/settings/connections/")
    count = Interaction.objects.count()
    for label in ("Work mail", "Work calendar"):
        account_card(page, label).get_by_role("button", name=re.compile("Sync now")).click()
        expect(account_card(page, label)).to_contain_text("Working")
    assert Interaction.objects.count() == count
    nina = SuggestedStakeholder.objects.get(email="nina@newco.example")
    assert nina.meeting_count == 2

    # The pricing call is cancelled in the calendar program: it leaves Rapport.
    radicale.put(
        "/alice/work/pricing.ics",
        meeting("pricing@rapport.test", 1, "Pricing call", status="CANCELLED"),
    )
    account_card(page, "Work calendar").get_by_role("button", name=re.compile("Sync now")).click()
    expect(account_card(page, "Work calendar")).to_contain_text("Working")
    assert not Interaction.objects.filter(subject__contains="Pricing call").exists()
    page.goto(f"{live_server.url}{sam.get_absolute_url()}")
    expect(page.locator("main")).to_contain_text("Grid review")
    expect(page.locator("main")).not_to_contain_text("Pricing call")

    assert failures == []
    assert problems == []
