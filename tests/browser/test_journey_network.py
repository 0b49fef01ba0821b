"""The network in headless Chromium: the map draws the designed network, finds a
person, opens a stakeholder on click; key-person risk lists the single-threaded
stakeholder and hands it over. No console errors, so no CSP violations."""

import re

import pytest
from playwright.sync_api import Page, expect

from networks import services
from relations.models import Commitment
from tests.mfa import sign_in_through_form
from tests.networks.conftest import designed  # noqa: F401, F811  (the designed network)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A function, not an expression: Playwright evaluates a bare expression with eval(),
# which the page's CSP (rightly) refuses.
NODES_DRAWN = "() => window.rapportNetwork && window.rapportNetwork.nodes().length > 0"


@pytest.fixture(autouse=True)
def _fresh_graph_cache():
    # The restored graph is cached per run id; a flushed database reuses ids.
    services._graph_cache.clear()
    yield
    services._graph_cache.clear()


def sign_in(page: Page, live_server, username: str, then: str) -> None:
    sign_in_through_form(page, live_server, username, then=then)
    expect(page).to_have_url(re.compile(rf"{then}$"))


def test_map_draws_the_network_and_opens_a_stakeholder(
    page: Page,
    live_server,
    designed,  # noqa: F811
    manager,
    problems,
):
    alba = designed["alba"]
    sign_in(page, live_server, "maria", "/network/")
    # The map's entry sits in the closed Network menu: found by its address.
    expect(page.locator("nav a.dropdown-item[href='/network/']")).to_have_attribute(
        "aria-current", "page"
    )
    page.wait_for_function(NODES_DRAWN)
    page.wait_for_selector("#network-canvas[data-ready='1']", state="attached")
    labels = page.evaluate("window.rapportNetwork.nodes().map(n => n.data('label')).sort()")
    # Maria sees the part of the network around the stakeholders she knows.
    assert labels == ["Alba", "Bram", "Maria Manager", "Otto Other"]
    assert page.evaluate("window.rapportNetwork.edges().length") == 3
    # The accessible alternative lists the same people.
    page.get_by_text("Table of the people shown").click()
    expect(page.locator("#network-table tbody tr")).to_have_count(4)
    expect(page.locator("#network-legend li").first).to_be_visible()

    # Search centres and highlights a person.
    page.get_by_label("Find a person", exact=True).fill("otto")
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.locator("#network-selection")).to_contain_text("Otto Other")
    assert page.evaluate("window.rapportNetwork.$('.highlighted').map(n => n.data('label'))") == [
        "Otto Other"
    ]

    # Colour by node type restyles without reloading and keeps the choice in the address.
    page.get_by_label("Colour by").select_option("type")
    expect(page.locator("#network-legend")).to_contain_text("Key stakeholder")
    expect(page).to_have_url(re.compile(r"colour=type"))

    # Clicking Alba where she is drawn opens her page. (Functions returning nothing:
    # Playwright would otherwise serialise the whole cytoscape collection back.)
    page.wait_for_function("() => !window.rapportNetwork.animated()")
    page.evaluate(
        "id => { const cy = window.rapportNetwork; cy.center(cy.getElementById(id)); }",
        f"stakeholder-{alba.pk}",
    )
    page.locator("#network-canvas").scroll_into_view_if_needed()
    box = page.locator("#network-canvas").bounding_box()
    position = page.evaluate(
        f"window.rapportNetwork.getElementById('stakeholder-{alba.pk}').renderedPosition()"
    )
    page.mouse.click(box["x"] + position["x"], box["y"] + position["y"])
    expect(page).to_have_url(re.compile(rf"/stakeholders/{alba.pk}/$"))
    intros = page.locator(".warm-introductions")
    expect(intros).to_contain_text("Maria Manager")
    # Otto's path carries his relationship's strength: his and the directors' (DESIGN §7).
    expect(intros).not_to_contain_text("Otto Other")
    assert problems == []


def test_the_strength_slider_reads_0_to_100_and_filters_the_map(
    page: Page,
    live_server,
    designed,  # noqa: F811
    manager,
    problems,
):
    sign_in(page, live_server, "maria", "/network/")
    page.wait_for_function(NODES_DRAWN)
    slider = page.get_by_label("Minimum strength")
    output = page.locator("#min-strength-value")
    expect(output).to_have_text("5\u00a0weak")
    # Moving it words the figure as every page does, and the graph API gets 0–1.
    with page.expect_request(re.compile(r"/graph/.*min_strength=0\.55")):
        slider.fill("55")
    expect(output).to_have_text("55\u00a0fair")
    expect(page).to_have_url(re.compile(r"strength=55"))
    expect(page.locator("#network-canvas[data-ready='1']")).to_be_attached()
    # Only Maria's tie with Alba (≈63) is that strong.
    assert page.evaluate("window.rapportNetwork.edges().length") == 1
    slider.fill("70")
    expect(output).to_have_text("70\u00a0strong")
    assert problems == []


def test_key_person_risk_lists_and_hands_over_alba(
    page: Page,
    live_server,
    designed,  # noqa: F811
    manager,
    other_manager,
    problems,
):
    alba = designed["alba"]
    sign_in(page, live_server, "maria", "/network/key-person-risk/")
    expect(page.get_by_text("If this person leaves, these relationships go")).to_be_visible()
    rows = page.locator("tr.kpr-stakeholder")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Alba")

    # Submitting without a successor names the problem and changes nothing.
    rows.first.get_by_role("button", name="Hand over").click()
    error = page.locator(".invalid-feedback")
    expect(error).to_contain_text("Choose the colleague who takes over.")
    assert not Commitment.objects.filter(stakeholder=alba).exists()

    # Tom Select fetches colleagues as one types.
    page.locator(f"#successor-{alba.pk}-ts-control").fill("Otto")
    page.locator(".ts-dropdown .option", has_text="Otto Other").click()
    page.get_by_role("button", name="Hand over").click()
    expect(page).to_have_url(re.compile(r"/network/key-person-risk/$"))
    expect(page.get_by_role("alert")).to_contain_text("Otto Other now owns Alba")
    expect(page.locator("tr.kpr-stakeholder").first).to_contain_text("handed over")
    alba.refresh_from_db()
    assert alba.owner == other_manager
    assert Commitment.objects.get(stakeholder=alba).description == "Introduce Otto Other to Alba"
    assert problems == []
