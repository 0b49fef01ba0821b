"""Every page, as a manager and as a director, at 390 and 1440 px, in English and
Dutch (issue 18, DESIGN §5b):

- the page is no wider than the screen (`scrollWidth <= innerWidth`);
- axe-core reports no serious or critical violation;
- no score explanation names a record by a bare `#<id>`;
- no date reads as dd/mm/yyyy or mm/dd/yyyy (nor with dashes).

The pages come from the URL conf, so a new page is covered without editing this
file; a page that cannot be visited with GET as an HTML page is listed in EXEMPT
with the reason. One browser, one dataset, one page load per page, role and
language: the width changes in place.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from playwright.sync_api import Page

from metrics.models import RecomputeJob
from relations.models import (
    AuthenticityPulse,
    Commitment,
    Interaction,
    Relationship,
    StakeholderLink,
    Webhook,
    WebhookDelivery,
)
from reviews.models import Review
from tests.dashboards.conftest import _fresh_graph_cache, _tasks_in_process, build_known  # noqa: F401
from tests.factories import CommitmentFactory, OutcomeFactory, TeamFactory
from tests.metrics.history import snapshots_with_a_fall
from tests.mfa import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (390, 1440)
LANGUAGES = ("en", "nl")

# URL names that are not pages to look at, with the reason.
EXEMPT = {
    "logout": "POST only (signs out)",
    "stakeholder-quick-create": "POST only (the log form's inline form; its journey covers it)",
    "set_language": "POST only (the switcher's target)",
    "login": "seen before signing in by every journey; needs no signed-in role",
    "mfa-verify": "only reachable in the middle of signing in",
    "mfa-enrol": "starts an enrolment (writes a device); tests/security covers it",
    "mfa-backup-codes": "shows fresh codes once, after enrolment",
    "mfa-disable": "POST only",
    "password_change": "Django's own form; no Rapport template",
    "password_change_done": "Django's own page; no Rapport template",
    "password_reset": "Django's own form; no Rapport template",
    "password_reset_done": "Django's own page; no Rapport template",
    "password_reset_confirm": "needs a signed reset token",
    "password_reset_complete": "Django's own page; no Rapport template",
    "stakeholder-hand-over": "POST only",
    "api-token-revoke": "POST only",
    "dashboard-export": "CSV download",
    "stakeholder-export": "CSV / JSON download",
    "stakeholder-export-json": "JSON download",
    "organization-export": "CSV download",
    "commitment-export": "CSV download",
    "stakeholder-erase": "POST only (erasure)",
    "relationship-pulse-create": "POST only (the form sits on the relationship page)",
    "interaction-delete": "a confirmation that deletes on POST; its GET is the same shell",
    "commitment-status": "POST only (htmx)",
    "autocomplete-stakeholders": "JSON for the pickers",
    "autocomplete-users": "JSON for the pickers",
    "autocomplete-organizations": "JSON for the pickers",
    "import-detail": "needs an uploaded file; tests/browser/test_journey_import.py",
    "import-preview": "needs an uploaded file; tests/browser/test_journey_import.py",
    "import-status": "htmx fragment of the import page",
    "import-undo": "POST only",
    "import": "redirects to the import list",
    "capture-result": "needs a captured message; tests/browser/test_journey_capture.py",
    "capture-address-create": "POST only",
    "capture-address-ignore": "POST only",
    "stakeholder-merge": "a form that merges on POST; needs two mergeable records",
    "organization-merge": "a form that merges on POST; needs two mergeable records",
    "review-start": "POST only (the button on the relationship page)",
    "review-invite": "POST only (the form on the review page)",
    "review-action-add": "POST only (the form on the review page)",
    "review-answer": "no account needed: tests/browser/test_journey_reviews.py",
    "review-answer-ours": "the owner's form: tests/browser/test_journey_reviews.py",
    "connection-sync": "POST only (sync now)",
    "connection-review-decide": "POST only (the review queue's buttons)",
}
# Whole URL prefixes that are no pages of the app's shell.
EXEMPT_PREFIXES = (
    "api/",  # the REST API and its docs (JSON, Swagger's own page)
    "admin/",  # Django's admin, styled by Django
    "bench/",  # benchmark views, not installed in production
)

# The outermost elements that reach past the right edge, to name in a failure.
WIDEST = """() => {
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right <= window.innerWidth + 1) continue;
    if (out.some((o) => o.contains(el))) continue;
    let clipped = false;
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      const fits = p.getBoundingClientRect().right <= window.innerWidth + 1;
      if (style.overflowX !== 'visible' && fits) {
        clipped = true;
        break;
      }
    }
    if (!clipped) out.push(el);
  }
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.trim() : '');
  return out.slice(0, 3).map(name);
}"""
DATE_NUMERIC = re.compile(r"\b\d{1,2}[/-]\d{1,2}[/-]\d{4}\b")
RAW_ID = re.compile(r"#\d+")


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name, prefix + str(pattern.pattern), pattern


def page_names() -> list[tuple[str, list[str]]]:
    """Every named page of the URL conf but the exempt ones, with its parameters."""
    seen: dict[str, list[str]] = {}
    for name, route, pattern in _walk(get_resolver().url_patterns):
        if name in EXEMPT or route.startswith(EXEMPT_PREFIXES) or name in seen:
            continue
        seen[name] = list(pattern.pattern.converters)
    return sorted(seen.items())


def page_kwargs(data: dict) -> dict[str, dict]:
    """The parameters of every page that takes some, from the dataset."""
    return {
        "goal-detail": {"pk": data["goal"].pk},
        "person-scorecard": {"pk": data["manager"].pk},
        "team-detail-scorecard": {"pk": data["team"].pk},
        "stakeholder-detail": {"pk": data["alba"].pk},
        "stakeholder-privacy": {"pk": data["alba"].pk},
        "organization-detail": {"pk": data["acme"].pk},
        "relationship-detail": {"pk": data["relationship"].pk},
        "interaction-detail": {"pk": data["interaction"].pk},
        "interaction-edit": {"pk": data["interaction"].pk},
        "stakeholder-edit": {"pk": data["alba"].pk},
        "stakeholder-archive": {"pk": data["alba"].pk},
        "stakeholder-link-create": {"pk": data["alba"].pk},
        "stakeholder-link-edit": {"pk": data["link"].pk},
        "organization-edit": {"pk": data["acme"].pk},
        "organization-archive": {"pk": data["acme"].pk},
        "relationship-edit": {"pk": data["relationship"].pk},
        "outcome-edit": {"pk": data["outcome"].pk},
        "outcome-archive": {"pk": data["outcome"].pk},
        "goal-edit": {"pk": data["goal"].pk},
        "goal-archive": {"pk": data["goal"].pk},
        "commitment-edit": {"pk": data["commitment"].pk},
        # Delete pages: a GET only shows what would go; nothing is deleted.
        "commitment-delete": {"pk": data["commitment"].pk},
        "stakeholder-delete": {"pk": data["alba"].pk},
        "organization-delete": {"pk": data["acme"].pk},
        "relationship-delete": {"pk": data["relationship"].pk},
        "outcome-delete": {"pk": data["outcome"].pk},
        "goal-delete": {"pk": data["goal"].pk},
        "pulse-delete": {"pk": data["pulse"].pk},
        "pulse-edit": {"pk": data["pulse"].pk},
        # The organisation's set-up (directors; a manager's 403 is skipped).
        "team-edit": {"pk": data["team"].pk},
        "team-delete": {"pk": data["team"].pk},
        "webhook-edit": {"pk": data["webhook"].pk},
        "webhook-delete": {"pk": data["webhook"].pk},
        "review-detail": {"pk": data["review"].pk},
        # Connected accounts: Maria's own (Dana gets 404 and skips them).
        "connection-add": {"kind": "imap"},
        "connection-edit": {"pk": data["connection"].pk},
        "connection-remove": {"pk": data["connection"].pk},
    }


def connected_accounts(manager):
    """Maria's mailbox in the middle of its first sync, a calendar that needs her attention,
    and people waiting in her review queue (one with a possible match)."""
    from django.utils import timezone

    from connections.models import ConnectedAccount, SuggestedStakeholder
    from relations.models import Stakeholder

    mailbox = ConnectedAccount.objects.create(
        owner=manager,
        kind="imap",
        label="Work mail of Maria at a rather long server name",
        host="imap.a-very-long-mail-server-name-of-the-organisation.example.org",
        username="maria.manager@a-very-long-mail-server-name-of-the-organisation.example.org",
        secret="app-password",
        last_synced_at=timezone.now(),
        progress_done=1500,
        progress_total=10000,
    )
    ConnectedAccount.objects.create(
        owner=manager,
        kind="caldav",
        label="Calendar",
        url="https://dav.example.org/calendars/maria/",
        username="maria",
        secret="app-password",
        status=ConnectedAccount.Status.NEEDS_ATTENTION,
        status_message="The server refused the user name or password.",
    )
    SuggestedStakeholder.objects.create(
        owner=manager, email="ulla@newco.example", name="Ulla Unknown", message_count=3
    )
    SuggestedStakeholder.objects.create(
        owner=manager,
        email="alba.second@elsewhere.example",
        name="Alba",
        organisation_name="Elsewhere",
        meeting_count=2,
        possible_match=Stakeholder.objects.order_by("pk").first(),
    )
    return mailbox


def test_every_page_fits_reads_and_passes_axe(
    page: Page, live_server, manager, other_manager, director
):
    data = build_known(manager, other_manager, director)
    team = TeamFactory(name="North")
    team.members.add(manager, other_manager)
    commitment = CommitmentFactory(
        stakeholder=data["alba"],
        responsible=manager,
        description="Send the grid study",
        status=Commitment.Status.KEPT,
    )
    data.update(
        manager=manager,
        commitment=commitment,
        team=team,
        relationship=Relationship.objects.get(user=manager, stakeholder=data["alba"]),
        interaction=Interaction.objects.filter(stakeholders=data["alba"]).first(),
        outcome=OutcomeFactory(stakeholder=data["alba"], credited_to=manager),
        pulse=AuthenticityPulse.objects.create(
            relationship=Relationship.objects.get(user=manager, stakeholder=data["alba"]),
            assessed_by=manager,
            integrity=4,
            transparency=4,
            reliability=3,
        ),
        review=Review.objects.create(
            relationship=Relationship.objects.get(user=manager, stakeholder=data["alba"]),
            due_on=date(2026, 12, 1),
        ),
        link=StakeholderLink.objects.create(
            from_stakeholder=data["alba"], to_stakeholder=data["bram"], created_by=manager
        ),
        webhook=Webhook.objects.create(
            owner=director,
            url="https://hooks.example.org/rapport/a-rather-long-path-for-narrow-screens",
            events=["interaction.created", "scores.updated"],
            description="CRM sync",
            secret="0" * 64,
        ),
    )
    WebhookDelivery.objects.create(
        webhook=data["webhook"], event="scores.updated", payload={}, status="failed"
    )
    # The recompute page lists its jobs: a failed one with a long error, a running one.
    RecomputeJob.objects.create(
        requested_by=director, status="failed", error="Could not run the job: " + "x" * 250
    )
    RecomputeJob.objects.create(requested_by=director, status="running", progress=0.4)
    # Trust over time draws its chart on both pages (issue 23): snapshots with a fall.
    snapshots_with_a_fall(data["relationship"])
    data["connection"] = connected_accounts(manager)
    kwargs = page_kwargs(data)
    pages = page_names()
    unmapped = [name for name, params in pages if params and name not in kwargs]
    assert not unmapped, f"pages with parameters need a value in page_kwargs or EXEMPT: {unmapped}"
    urls = [reverse(name, kwargs=kwargs.get(name)) for name, _ in pages]

    axe = AXE.read_text()
    failures: list[str] = []
    checked = 0
    for username in ("maria", "dana"):
        page.context.clear_cookies()
        sign_in_through_form(page, live_server, username)
        for language in LANGUAGES:
            page.context.add_cookies(
                [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
            )
            for (name, _), url in zip(pages, urls, strict=True):
                # Load at the phone's width, as a phone would; then widen in place.
                page.set_viewport_size({"width": WIDTHS[0], "height": 900})
                response = page.goto(live_server.url + url)
                assert response is not None
                if response.status in (403, 404) or not page.url.startswith(live_server.url + url):
                    continue  # not this role's page (a redirect or a refusal)
                where = f"{username} {language} {name}"
                if "text/html" not in (response.headers.get("content-type") or ""):
                    failures.append(f"{where}: not HTML")
                    continue
                title = page.title()
                if not title or title.startswith("Rapport ·"):
                    failures.append(f"{where}: page title {title!r} names no page")
                text = page.locator("body").inner_text()
                for bad in DATE_NUMERIC.findall(text):
                    failures.append(f"{where}: numeric date {bad}")
                for item in page.locator(".score-explanation, .score-items").all_inner_texts():
                    if RAW_ID.search(item):
                        failures.append(f"{where}: raw id in {item!r}")
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 900})
                    wide = page.evaluate(
                        "() => [document.documentElement.scrollWidth, window.innerWidth]"
                    )
                    if wide[0] > wide[1]:
                        failures.append(
                            f"{where} @{width}: {wide[0]} px wide in {wide[1]} px"
                            f" ({', '.join(page.evaluate(WIDEST))})"
                        )
                    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
                        page.evaluate(axe)
                    result = page.evaluate(
                        "() => axe.run(document, {resultTypes: ['violations'],"
                        " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa',"
                        " 'best-practice']}})"
                    )
                    for violation in result["violations"]:
                        if violation["impact"] in ("serious", "critical"):
                            targets = [node["target"] for node in violation["nodes"][:3]]
                            failures.append(
                                f"{where} @{width}: axe {violation['id']} ({violation['impact']})"
                                f" {targets}"
                            )
                    checked += 1
    print(f"every page: {checked} page × role × width × language checks")
    assert checked >= len(pages) * len(WIDTHS) * len(LANGUAGES)
    assert not failures, "\n".join(failures)
