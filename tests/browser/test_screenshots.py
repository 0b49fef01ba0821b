"""The README's screenshots: home, a stakeholder, the dashboard and the network map at
1440 and 390 px, from the known dataset of the dashboard tests.

Not part of the normal run: `RAPPORT_SCREENSHOTS=1 pytest tests/browser/test_screenshots.py`
writes them into docs/screenshots/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page

from tests.dashboards.conftest import _fresh_graph_cache, _tasks_in_process, build_known  # noqa: F401
from tests.mfa import sign_in_through_form

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("RAPPORT_SCREENSHOTS"), reason="set RAPPORT_SCREENSHOTS=1 to write them"
    ),
]

OUT = Path(settings.BASE_DIR) / "docs" / "screenshots"


def test_write_the_readme_screenshots(page: Page, live_server, manager, other_manager, director):
    data = build_known(manager, other_manager, director)
    OUT.mkdir(parents=True, exist_ok=True)
    shots = [
        ("maria", "home", "/"),
        ("maria", "stakeholder", data["alba"].get_absolute_url()),
        ("dana", "dashboard", "/dashboard/"),
        ("dana", "network-map", "/network/"),
    ]
    signed_in = None
    for username, name, url in shots:
        if username != signed_in:
            page.context.clear_cookies()
            sign_in_through_form(page, live_server, username)
            signed_in = username
        for width in (1440, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(live_server.url + url)
            page.wait_for_load_state("networkidle")
            if name == "network-map":
                page.wait_for_selector("#network-canvas[data-ready='1']", state="attached")
            page.screenshot(path=str(OUT / f"{name}-{width}.png"), full_page=width == 390)
    assert len(list(OUT.glob("*.png"))) >= 8
