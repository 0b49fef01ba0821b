"""Network pages (DESIGN §4, §5a): the map, key-person risk and the hand-over.

Thin: the map is drawn in the browser from the graph API; key-person risk is
read from the stored `StakeholderThreads`; the hand-over is one service call.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metrics.models import RelationshipScore
from relations.models import Stakeholder, StrategicGoal, Team
from relations.pages import (
    PICKER_OPTION_LIMIT,
    apply_validation_error,
    safe_next,
    staff_required,
    user_label,
)
from relations.roles import figures_people_ids, staff_users
from relations.services import stakeholder_hand_over

from . import graph
from .models import NetworkRun, StakeholderThreads
from .services import key_person_risk_people

# People per key-person-risk page: each brings a table of stakeholders.
KPR_USERS_PER_PAGE = 10
# Stakeholders listed per person, most important first, so a page stays bounded
# even for someone who is the only thread of hundreds of stakeholders.
KPR_STAKEHOLDERS_PER_USER = 50

# The map's strength slider: 0–100 in steps of 5 from the weakest tie the graph keeps.
STRENGTH_STEP = round(graph.MIN_EDGE_STRENGTH * 100)

COLOUR_CHOICES = [("community", gettext_lazy("Community")), ("type", gettext_lazy("Node type"))]


class NetworkFilterForm(forms.Form):
    """The map's filters; the browser passes them to the graph API as they are."""

    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label=gettext_lazy("All teams")
    )
    goal = forms.ModelChoiceField(
        queryset=StrategicGoal.objects.none(), required=False, empty_label=gettext_lazy("All goals")
    )
    # Strength reads 0–100 like everywhere on the pages (DESIGN §5b); the browser
    # passes it to the graph API as its 0–1 `min_strength`.
    strength = forms.IntegerField(
        label=gettext_lazy("Minimum strength"),
        min_value=STRENGTH_STEP,
        max_value=100,
        step_size=STRENGTH_STEP,
        initial=STRENGTH_STEP,
        required=False,
        widget=forms.NumberInput(
            attrs={"type": "range", "step": STRENGTH_STEP, "min": STRENGTH_STEP, "max": 100}
        ),
    )
    colour = forms.ChoiceField(
        label=gettext_lazy("Colour by"), choices=COLOUR_CHOICES, required=False
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("team", "goal", "colour"):
            self.fields[name].widget.attrs["class"] = "form-select"
        self.fields["strength"].widget.attrs["class"] = "form-range"
        self.fields["team"].queryset = Team.objects.visible_to(user).order_by("name")
        self.fields["goal"].queryset = StrategicGoal.objects.visible_to(user).order_by("title")


class HandOverForm(forms.Form):
    successor = forms.ModelChoiceField(
        queryset=staff_users(),
        label=gettext_lazy("Successor"),
        error_messages={
            "required": gettext_lazy("Choose the colleague who takes over."),
            "invalid_choice": gettext_lazy("Choose an active colleague."),
        },
    )

    def __init__(self, *args, stakeholder: Stakeholder, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stakeholder = stakeholder
        self.fields["successor"].label_from_instance = user_label

    def clean_successor(self) -> User:
        successor = self.cleaned_data["successor"]
        if successor.pk == self.stakeholder.owner_id:
            raise ValidationError(
                _("%(name)s already owns this stakeholder: choose someone else.")
                % {"name": user_label(successor)}
            )
        return successor


@staff_required
def network_map(request: HttpRequest) -> HttpResponse:
    form = NetworkFilterForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        # Bad filters in a bookmarked address: show the map unfiltered, say why.
        messages.warning(request, _("Some filters were not valid and were ignored."))
        form = NetworkFilterForm(user=request.user)
    return render(
        request,
        "networks/network_map.html",
        {"form": form, "run": NetworkRun.latest()},
    )


def _successor_choices() -> list[tuple[int, str]]:
    # One list for every row's picker; Tom Select fetches beyond the first ones.
    return [(u.pk, user_label(u)) for u in staff_users()[:PICKER_OPTION_LIMIT]]


@staff_required
def key_person_risk(request: HttpRequest) -> HttpResponse:
    """Per colleague, the key stakeholders for whom they are the only thread."""
    user = request.user
    people = key_person_risk_people()
    if (people_ids := figures_people_ids(user)) is not None:
        people = people.filter(pk__in=people_ids)
    page = Paginator(
        people.order_by("-at_risk", "first_name", "username", "pk"), KPR_USERS_PER_PAGE
    )
    page = page.get_page(request.GET.get("page"))
    on_page = list(page.object_list)

    threads = (
        StakeholderThreads.objects.key_person_risk()
        .filter(sole_thread_user__in=[p.pk for p in on_page])
        .select_related("stakeholder__organization", "stakeholder__owner")
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("sole_thread_user"),
                order_by=[F("stakeholder__importance").desc(), F("stakeholder__name").asc()],
            )
        )
        .filter(rank__lte=KPR_STAKEHOLDERS_PER_USER)
        .order_by("sole_thread_user", "rank")
    )
    threads = list(threads)
    strengths = {
        (user_id, stakeholder_id): strength
        for user_id, stakeholder_id, strength in RelationshipScore.objects.filter(
            relationship__user__in=[p.pk for p in on_page],
            relationship__stakeholder__in=[t.stakeholder_id for t in threads],
        ).values_list("relationship__user_id", "relationship__stakeholder_id", "strength")
    }
    by_user: dict[int, list[dict]] = {p.pk: [] for p in on_page}
    for row in threads:
        stakeholder = row.stakeholder
        by_user[row.sole_thread_user_id].append(
            {
                "stakeholder": stakeholder,
                "strength": strengths.get((row.sole_thread_user_id, stakeholder.pk)),
                "can_hand_over": stakeholder.owner_changeable_by(user),
                "handed_over": stakeholder.owner_id not in (None, row.sole_thread_user_id),
            }
        )
    run = NetworkRun.latest()
    rows = [
        {"person": p, "stakeholders": by_user[p.pk], "more": p.at_risk - len(by_user[p.pk])}
        for p in on_page
    ]
    show_picker = any(s["can_hand_over"] for r in rows for s in r["stakeholders"])
    return render(
        request,
        "networks/key_person_risk.html",
        {
            "page": page,
            "rows": rows,
            "computed_at": run.finished_at if run else None,
            "successors": _successor_choices() if show_picker else [],
            "sees_everyone": figures_people_ids(user) is None,
        },
    )


@staff_required
def stakeholder_hand_over_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose a successor for a stakeholder; the KPR page posts here too."""
    stakeholder = get_object_or_404(
        Stakeholder.objects.visible_to(request.user).select_related("owner", "organization"),
        pk=pk,
    )
    if not stakeholder.owner_changeable_by(request.user):
        raise PermissionDenied
    fallback = reverse("key-person-risk")
    if request.method == "POST":
        form = HandOverForm(request.POST, stakeholder=stakeholder)
        if form.is_valid():
            sole = (
                StakeholderThreads.objects.filter(stakeholder=stakeholder, thread_count=1)
                .select_related("sole_thread_user")
                .first()
            )
            try:
                commitment = stakeholder_hand_over(
                    stakeholder,
                    successor=form.cleaned_data["successor"],
                    by=request.user,
                    introducer=sole.sole_thread_user if sole else None,
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(
                    request,
                    _(
                        "%(successor)s now owns %(stakeholder)s. Planned: “%(plan)s”, "
                        "due %(due)s, for %(responsible)s."
                    )
                    % {
                        "successor": user_label(form.cleaned_data["successor"]),
                        "stakeholder": stakeholder.name,
                        "plan": commitment.description,
                        "due": commitment.due_date.isoformat(),
                        "responsible": user_label(commitment.responsible),
                    },
                )
                return redirect(safe_next(request, fallback))
    else:
        form = HandOverForm(stakeholder=stakeholder)
    return render(
        request,
        "networks/hand_over.html",
        {
            "form": form,
            "stakeholder": stakeholder,
            "next": safe_next(request, fallback),
            "successors": _successor_choices(),
        },
    )
