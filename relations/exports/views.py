"""“Export CSV” of the browser's lists, with the filters the list shows."""

from __future__ import annotations

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from relations.exports.services import queryset_csv
from relations.forms import StakeholderFilterForm
from relations.models import Commitment, Stakeholder
from relations.pages import staff_required
from relations.views import COMMITMENT_TABS, organizations_listed


def _user(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


@staff_required
@require_GET
def stakeholder_export(request: HttpRequest) -> StreamingHttpResponse:
    form = StakeholderFilterForm(request.GET or None, user=request.user)
    stakeholders = (
        form.filter(Stakeholder.objects.visible_to(request.user))
        .select_related("organization", "owner")
        .prefetch_related("tags")
    )
    return queryset_csv(
        stakeholders,
        [
            ("id", lambda s: s.pk),
            ("name", lambda s: s.name),
            ("organization", lambda s: s.organization.name if s.organization else ""),
            ("title", lambda s: s.title),
            ("email", lambda s: s.email),
            ("phone", lambda s: s.phone),
            ("tags", lambda s: [t.name for t in s.tags.all()]),
            ("importance", lambda s: s.importance),
            ("influence", lambda s: s.influence),
            ("interest", lambda s: s.interest),
            ("owner", lambda s: _user(s.owner)),
            ("cadence_days", lambda s: s.cadence_days),
        ],
        "stakeholders",
    )


@staff_required
@require_GET
def organization_export(request: HttpRequest) -> StreamingHttpResponse:
    organizations, _ = organizations_listed(request)
    return queryset_csv(
        organizations,
        [
            ("id", lambda o: o.pk),
            ("name", lambda o: o.name),
            ("sector", lambda o: o.sector),
            ("country", lambda o: o.country),
            ("website", lambda o: o.website),
            ("tier", lambda o: o.get_tier_display()),
            ("stakeholders", lambda o: o.stakeholder_count),
        ],
        "organizations",
    )


@staff_required
@require_GET
def commitment_export(request: HttpRequest) -> StreamingHttpResponse:
    tab = request.GET.get("show", "open")
    if tab not in COMMITMENT_TABS:
        tab = "open"
    selected = Commitment.objects.filter(responsible=request.user).filter(COMMITMENT_TABS[tab])
    if tab == "overdue":
        selected = selected.filter(due_date__lt=timezone.localdate())
    selected = selected.select_related("stakeholder__organization", "responsible")
    return queryset_csv(
        selected,
        [
            ("id", lambda c: c.pk),
            ("description", lambda c: c.description),
            ("stakeholder", lambda c: c.stakeholder.name),
            ("direction", lambda c: c.get_direction_display()),
            ("due_date", lambda c: c.due_date.isoformat()),
            ("status", lambda c: c.get_status_display()),
            ("completed_on", lambda c: c.completed_on.isoformat() if c.completed_on else ""),
            ("responsible", lambda c: _user(c.responsible)),
        ],
        "commitments",
    )
