"""What networks adds to relations, registered from `NetworksConfig.ready()` (see
`relations.registry`): warm introductions on the stakeholder page, the list's
key-person filter, and its tables for erasure and merges."""

from __future__ import annotations

from relations import registry

from .templatetags import network_tags


def register() -> None:
    # Stored network runs name people; their metrics are derived from the relationships.
    registry.personal_data_register("networks")
    registry.derived_data_register("networks")
    registry.stakeholder_filter_register(
        "sole_thread",
        lambda form, stakeholders, user: stakeholders.filter(
            threads__is_key=True,
            threads__thread_count=1,
            threads__sole_thread_user=user,
        ),
    )
    registry.page_panel_register(
        "stakeholder.introductions",
        registry.template_panel(
            "networks/partials/warm_introductions.html",
            lambda context, stakeholder: network_tags.warm_introductions(context, stakeholder),
        ),
    )
