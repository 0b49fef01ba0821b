"""What dashboards adds to relations, registered from `DashboardsConfig.ready()` (see
`relations.registry`): the give/take ledger on the stakeholder page, the roll-up on
the organisation page, and the list's contact filter behind the scorecards."""

from __future__ import annotations

from relations import registry

from .scorecards import contact_as_of, stakeholders_in_contact_state
from .templatetags import dashboard_tags


def stakeholders_in_contact(form, stakeholders, state: str):
    """The scorecard's cadence links select exactly the people its figure counted."""
    moment = contact_as_of(form.cleaned_data["as_of"])
    return stakeholders.filter(pk__in=stakeholders_in_contact_state(stakeholders, state, moment))


def register() -> None:
    registry.stakeholder_filter_register("contact", stakeholders_in_contact)
    registry.page_panel_register(
        "stakeholder.ledger",
        registry.template_panel(
            "dashboards/partials/ledger.html", dashboard_tags.stakeholder_ledger
        ),
    )
    registry.page_panel_register(
        "organization.rollup",
        registry.template_panel(
            "dashboards/partials/organization_rollup.html", dashboard_tags.organization_rollup
        ),
    )
