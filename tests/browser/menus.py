"""The header's menus in browser journeys: sections and the user menu are dropdowns."""

from playwright.sync_api import Page


def open_menu(page: Page, name: str | None = None) -> None:
    """Open a menu of the header: a section by its name, or the user menu (the last)."""
    nav = page.get_by_role("navigation").first
    toggles = nav.locator("[data-bs-toggle='dropdown']")
    toggle = toggles.last if name is None else toggles.filter(has_text=name).first
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
