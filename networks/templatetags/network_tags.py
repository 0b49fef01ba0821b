"""Network sections that other apps' pages include (the stakeholder page's warm
introductions), so that `relations` never imports `networks`."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import User

from relations.models import Stakeholder

from .. import services

register = template.Library()


def _user_name(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def intro_chains(paths: list[dict]) -> list[dict[str, Any]]:
    """Paths of `{"type", "id"}` nodes as readable chains, with every name resolved
    in one query per node type, whatever the number of paths."""
    user_ids = {n["id"] for p in paths for n in p["nodes"] if n["type"] == "user"}
    stakeholder_ids = {n["id"] for p in paths for n in p["nodes"] if n["type"] == "stakeholder"}
    users = (
        {
            pk: _user_name(first, last, username)
            for pk, first, last, username in User.objects.filter(pk__in=user_ids).values_list(
                "pk", "first_name", "last_name", "username"
            )
        }
        if user_ids
        else {}
    )
    stakeholders = (
        dict(Stakeholder.objects.filter(pk__in=stakeholder_ids).values_list("pk", "name"))
        if stakeholder_ids
        else {}
    )
    chains = []
    for path in paths:
        steps = []
        for node in path["nodes"]:
            if node["type"] == "user":
                steps.append({"type": "user", "id": node["id"], "name": users.get(node["id"])})
            else:
                steps.append(
                    {
                        "type": "stakeholder",
                        "id": node["id"],
                        "name": stakeholders.get(node["id"]),
                        "url": f"/stakeholders/{node['id']}/",
                    }
                )
        # A person deleted since the network was computed leaves a gap: skip the path.
        if all(step["name"] is not None for step in steps):
            chains.append({"strength": path["strength"], "steps": steps})
    return chains


@register.inclusion_tag("networks/partials/warm_introductions.html", takes_context=True)
def warm_introductions(context: dict, stakeholder: Stakeholder) -> dict[str, Any]:
    """The three warmest introduction paths to a stakeholder (DESIGN §4) that the reader
    may see, from the latest stored network: one query for the run, then one per node
    type."""
    run, paths = services.stakeholder_intro_paths(stakeholder.pk, context["request"].user)
    return {
        "stakeholder": stakeholder,
        "chains": intro_chains(paths),
        "computed": run is not None,
        "computed_at": run.finished_at if run else None,
    }
