"""The director dashboard's figures as CSV: the tiles, the team and goal
breakdowns, the trust and strength distribution and the power/interest grid, in one
long table (section, name, measure, value) that a spreadsheet pivots easily."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpRequest, StreamingHttpResponse
from django.utils.translation import gettext as _

from dashboards import figures as dashboards
from dashboards.views import ScopeForm
from networks.models import NetworkHealth
from networks.services import health_current
from relations.exports.services import csv_stream
from relations.pages import action_required
from relations.roles import Action

HEALTH_MEASURES = (
    "health_index",
    "coverage",
    "single_threaded_share",
    "unthreaded_share",
    "mean_trust",
    "mean_reciprocity",
    "return_value",
    "investment",
    "ror",
    "at_risk_count",
    "key_stakeholders",
)


def _health_rows(section: str, name: str, health: NetworkHealth | None) -> Iterator[list]:
    if health is None:
        yield [section, name, "date", None]
        return
    yield [section, name, "date", health.date.isoformat()]
    for measure in HEALTH_MEASURES:
        label = "return" if measure == "return_value" else measure
        yield [section, name, label, getattr(health, measure)]


@action_required(Action.SEE_NETWORK_HEALTH)
def dashboard_export(request: HttpRequest) -> StreamingHttpResponse:
    scope = ScopeForm(request.GET or None).scope()
    rows: list[list] = []
    rows += _health_rows(
        "network", scope.label or _("Organisation"), health_current(scope.kind, scope.id)
    )
    for section, kind in (("team", NetworkHealth.Scope.TEAM), ("goal", NetworkHealth.Scope.GOAL)):
        for entry in dashboards.health_breakdown(kind):
            rows += _health_rows(section, entry["name"], entry["health"])
    key = dashboards.key_stakeholders(scope)
    labels = dashboards.bucket_labels()
    counts = dashboards.distributions(key, ("trust", "strength"))
    for field in ("trust", "strength"):
        for label, count in zip(labels, counts[field], strict=True):
            rows.append([f"{field}_distribution", label, "key_stakeholders", count])
    for quadrant in dashboards.power_interest_grid(scope):
        rows.append(
            ["power_interest", str(quadrant["label"]), "key_stakeholders", quadrant["count"]]
        )
    for score in dashboards.at_risk_rows(scope):
        rows.append(["at_risk", score.stakeholder.name, "trust", score.trust])
    return csv_stream(["section", "name", "measure", "value"], rows, "dashboard")
