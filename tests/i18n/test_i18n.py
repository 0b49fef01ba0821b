"""English and Dutch: a complete, compiled Dutch catalogue; pages in the reader's
language (labels, dates, numbers, money); the switcher, and the choice remembered
in a long-lived cookie."""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from dashboards.templatetags.dashboard_tags import money, ratio, risk_reason, share
from tests.dashboards.conftest import _fresh_graph_cache, _tasks_in_process, known  # noqa: F401
from tests.factories import CommitmentFactory

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "nl" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdfr]")
YEAR_IN_SECONDS = 365 * 24 * 60 * 60
# Top-level directories without Django-domain strings (the documented makemessages
# command in locale/README.md ignores the same).
NOT_SOURCES = {
    ".git",
    ".venv",
    "node_modules",
    "static",
    "staticfiles",
    "rapport.egg-info",
    "tests",
    "docs",
    "scripts",
    "locale",
    ".ruff_cache",
    ".pytest_cache",
}


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file: flags, msgid, msgid_plural and the msgstr forms."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set(), "msgstr": {}}
        key = None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                value = ast.literal_eval(line)
                if key.startswith("msgstr"):
                    entry["msgstr"][key] += value
                else:
                    entry[key] += value
            else:
                key, _, literal = line.partition(" ")
                if key.startswith("msgstr"):
                    entry["msgstr"][key] = ast.literal_eval(literal)
                else:
                    entry[key] = ast.literal_eval(literal)
        if "msgid" in entry:
            entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[dict]:
    return [e for e in read_po(PO) if e["msgid"]]


# --- The catalogue ------------------------------------------------------------


def test_every_dutch_entry_is_translated_and_none_is_fuzzy(po_entries):
    assert len(po_entries) > 500
    fuzzy = [e["msgid"] for e in po_entries if "fuzzy" in e["flags"]]
    assert fuzzy == []
    untranslated = [e["msgid"] for e in po_entries if not all(e["msgstr"].values())]
    assert untranslated == []
    plurals = [e for e in po_entries if "msgid_plural" in e]
    assert plurals and all(set(e["msgstr"]) == {"msgstr[0]", "msgstr[1]"} for e in plurals)
    assert "fuzzy" not in read_po(PO)[0]["flags"]  # the header is final too


def test_translations_keep_their_placeholders(po_entries):
    for entry in po_entries:
        sources = [entry["msgid"], entry.get("msgid_plural", entry["msgid"])]
        for index, text in enumerate(entry["msgstr"].values()):
            source = sources[min(index, 1)]
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), entry[
                "msgid"
            ]
            assert text.count("%%") == source.count("%%"), entry["msgid"]


def test_the_shipped_mo_file_matches_the_po_file(po_entries):
    """The compiled catalogue is committed and current: Django reads only the .mo."""
    with MO.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    for entry in po_entries:
        if "msgid_plural" in entry:
            assert (
                catalogue.ngettext(entry["msgid"], entry["msgid_plural"], 1)
                == entry["msgstr"]["msgstr[0]"]
            )
            assert (
                catalogue.ngettext(entry["msgid"], entry["msgid_plural"], 5)
                == entry["msgstr"]["msgstr[1]"]
            )
        else:
            assert catalogue.gettext(entry["msgid"]) == entry["msgstr"]["msgstr"], entry["msgid"]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext")
def test_no_marked_string_is_missing_from_the_catalogue(tmp_path, settings, po_entries):
    """Run makemessages on a copy of the sources: every marked string must already be
    in the shipped catalogue (a new, untranslated string fails here, not in Dutch).

    A copy, because makemessages writes into the `locale` directory that holds the
    files it reads, whatever LOCALE_PATHS says.
    """
    sources = tmp_path / "src"
    skip = shutil.ignore_patterns("__pycache__", "migrations", "*.pyc")
    for source in ROOT.iterdir():
        if source.is_dir() and source.name not in NOT_SOURCES and not source.name.startswith("."):
            shutil.copytree(source, sources / source.name, ignore=skip)
    settings.LOCALE_PATHS = [str(sources / "locale")]
    (sources / "locale").mkdir()
    before = Path.cwd()
    os.chdir(sources)
    try:
        call_command("makemessages", locale=["nl"], verbosity=0)
    finally:
        os.chdir(before)
    fresh_po = sources / "locale" / "nl" / "LC_MESSAGES" / "django.po"
    fresh = {(e["msgid"], e.get("msgid_plural")) for e in read_po(fresh_po) if e["msgid"]}
    shipped = {(e["msgid"], e.get("msgid_plural")) for e in po_entries}
    assert len(fresh) > 500  # the copy held the sources
    assert sorted(fresh - shipped, key=str) == []


# --- Formats ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        # Scores read 0–100 in both languages (DESIGN §5b).
        ("en", ["€1,234", "−€1,234", "57", "46%", "—"]),
        ("nl", ["€\u00a01.234", "−€\u00a01.234", "57", "46%", "—"]),
    ],
)
def test_money_and_numbers_follow_the_language(language, expected, settings):
    settings.RAPPORT_CURRENCY = "EUR"
    with translation.override(language):
        shown = [money(1234.4), money(-1234.4), ratio(0.5749), share(0.456), money(None)]
    assert shown == expected


def test_risk_reasons_are_shown_in_the_readers_language():
    stored = [
        {"code": "low_trust", "message": "Trust 0.20 is below 0.40"},
        {
            "code": "key_overdue",
            "message": "Key stakeholder last contacted 95 days ago, "
            "more than 50% past its 60-day cadence",
        },
        {"code": "something_new", "message": "A reason this page does not know"},
    ]
    with translation.override("nl"):
        shown = [risk_reason(reason) for reason in stored]
    assert shown == [
        "Vertrouwen 20 ligt onder 40",
        "Kernstakeholder voor het laatst gesproken 95 dagen geleden, meer dan 50% over het "
        "contactritme van 60 dagen",
        "A reason this page does not know",
    ]
    with translation.override("en"):
        assert risk_reason(stored[0]) == "Trust 20 is below 40"


# --- Pages --------------------------------------------------------------------


def test_the_browser_language_picks_dutch_labels(client, manager):
    client.force_login(manager)
    english = client.get("/commitments/").content.decode()
    assert '<html lang="en">' in english and "My commitments" in english

    dutch = client.get("/commitments/", headers={"accept-language": "nl-NL,nl;q=0.9"})
    html = dutch.content.decode()
    assert '<html lang="nl">' in html
    for label in ("Mijn toezeggingen", "Interactie vastleggen", "Netwerk", "Uitloggen"):
        assert label in html
    assert "My commitments" not in html and "Log interaction" not in html


def test_dates_are_written_the_dutch_way(client, manager, stakeholder):
    CommitmentFactory(
        stakeholder=stakeholder,
        responsible=manager,
        description="Send the report",
        due_date=date(2031, 3, 14),
    )
    client.force_login(manager)
    english = client.get("/commitments/").content.decode()
    # The unambiguous medium form (DESIGN §5b), never 03/14/2031 or 14-03-2031.
    assert "14 Mar 2031" in english
    dutch = client.get("/commitments/", headers={"accept-language": "nl"}).content.decode()
    assert "14 mrt 2031" in dutch and "uiterlijk" in dutch
    assert 'datetime="2031-03-14"' in dutch  # the machine-readable date stays ISO


def test_dashboard_figures_in_dutch(client, director, known):  # noqa: F811
    client.force_login(director)
    html = client.get("/dashboard/", headers={"accept-language": "nl"}).content.decode()
    assert "Netwerkgezondheid" in html and "Gezondheidsindex" in html
    assert 'data-figure="return">€\u00a05.000</div>' in html
    assert 'data-figure="investment">€\u00a0800</div>' in html
    assert 'data-figure="trust"><span class="score score-fair"' in html
    assert '<span class="score-value">50</span> <span class="score-band">redelijk</span>' in html
    # Bram's stored reason ("Trust 0.00 is below 0.40") is read in Dutch, 0–100.
    assert "Vertrouwen 0 ligt onder 40" in html
    assert "is below" not in html


# --- The switcher and the remembered choice ---------------------------------------


def test_the_switcher_is_on_every_page_and_on_the_sign_in_page(client, manager):
    login = client.get("/accounts/login/").content.decode()
    assert f'action="{reverse("set_language")}"' in login
    assert '<option value="nl" lang="nl">Nederlands</option>' in login
    client.force_login(manager)
    page = client.get("/stakeholders/?q=a").content.decode()
    assert 'name="next" value="/stakeholders/?q=a"' in page
    assert '<option value="en" lang="en" selected>English</option>' in page


def test_switching_to_dutch_returns_to_the_page_and_is_remembered(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("set_language"), {"language": "nl", "next": "/stakeholders/?q=a"}
    )
    assert response.status_code == 302 and response["Location"] == "/stakeholders/?q=a"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "nl"
    assert cookie["max-age"] == YEAR_IN_SECONDS
    assert cookie["samesite"] == "Lax"

    # Every later page is Dutch, also after signing out and in again (the cookie stays).
    assert "Mijn toezeggingen" in client.get("/stakeholders/").content.decode()
    client.post(reverse("logout"))
    assert "Inloggen bij Rapport" in client.get("/accounts/login/").content.decode()
    client.force_login(manager)
    assert '<html lang="nl">' in client.get("/commitments/").content.decode()

    # And back to English.
    client.post(reverse("set_language"), {"language": "en", "next": "/commitments/"})
    assert "My commitments" in client.get("/commitments/").content.decode()


def test_a_foreign_next_address_or_unknown_language_changes_nothing_harmful(client, manager):
    client.force_login(manager)
    outside = client.post(
        reverse("set_language"), {"language": "nl", "next": "https://evil.example/"}
    )
    assert outside.status_code == 302 and outside["Location"] == "/"
    unknown = client.post(reverse("set_language"), {"language": "xx", "next": "/commitments/"})
    assert unknown.status_code == 302
    assert unknown.cookies.get(settings.LANGUAGE_COOKIE_NAME) is None


def test_production_keeps_the_language_cookie_on_https():
    env = {**os.environ, "DJANGO_SECRET_KEY": "x" * 64}
    code = (
        "import config.settings_production as s;"
        "print(s.LANGUAGE_COOKIE_SECURE, s.LANGUAGE_COOKIE_AGE, s.LANGUAGE_COOKIE_SAMESITE)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["True", str(YEAR_IN_SECONDS), "Lax"]
