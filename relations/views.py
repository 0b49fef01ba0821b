"""Server-rendered pages. Thin: visibility from the querysets, writes through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relations.editing.services import relationship_update
from relations.editing.views import EDIT_CONFLICT, conflict_changes
from relations.forms import (
    CommitmentFilterForm,
    CommitmentStatusForm,
    InteractionForm,
    PulseForm,
    RelationshipPlanForm,
    StakeholderFilterForm,
    commitment_formset,
    stakeholder_label,
)
from relations.importing.models import ImportJob
from relations.matching import match_key
from relations.models import (
    AuthenticityPulse,
    Commitment,
    Interaction,
    Organization,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
)
from relations.pages import (
    apply_validation_error,
    is_partial,
    paginate,
    safe_next,
    staff_required,
    user_label,
)
from relations.querysets import parse_id
from relations.roles import figures_of_person_visible_to, staff_users
from relations.search.groups import ORGANIZATION_FIELDS
from relations.search.matching import search
from relations.services import (
    EditConflict,
    commitment_set_status,
    interaction_delete,
    interaction_log,
    interaction_update,
    pulse_record,
)

# Type-ahead answers stay short: the user refines the query rather than scrolls.
AUTOCOMPLETE_LIMIT = 20
# Side lists on detail pages (open commitments) are capped so the page stays bounded.
SIDE_LIST_LIMIT = 50
# A year of monthly pulses: enough for the trend, and the page stays bounded.
PULSE_HISTORY_ROWS = 12

EDIT_CONFLICT_MESSAGE = gettext_lazy(
    "Someone else changed this interaction while you were editing it. "
    "Nothing was saved: reload the page to see their changes, then edit again."
)


# --- Stakeholders and organisations ---------------------------------------------


@staff_required
@require_GET
def stakeholder_list(request: HttpRequest) -> HttpResponse:
    form = StakeholderFilterForm(request.GET or None, user=request.user)
    stakeholders = form.filter(Stakeholder.objects.visible_to(request.user).listed())
    page = paginate(
        request, stakeholders.select_related("organization", "owner").prefetch_related("tags")
    )
    page.object_list = list(page.object_list)
    contacts = Stakeholder.objects.last_contacts(request.user, [s.pk for s in page.object_list])
    for shown in page.object_list:
        shown.last_contact = contacts.get(shown.pk)
    context = {"form": form, "page": page}
    if is_partial(request):
        return render(request, "relations/partials/stakeholder_table.html", context)
    return render(request, "relations/stakeholder_list.html", context)


@staff_required
@require_GET
def stakeholder_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    stakeholder = get_object_or_404(
        Stakeholder.objects.visible_to(user)
        .select_related("organization", "owner")
        .prefetch_related("tags"),
        pk=pk,
    )
    timeline = paginate(
        request,
        Interaction.objects.visible_to(user).of_stakeholder(stakeholder.pk).with_people(),
    )
    open_commitments = (
        Commitment.objects.visible_to(user)
        .filter(stakeholder=stakeholder, status=Commitment.Status.OPEN)
        .select_related("responsible", "stakeholder")[:SIDE_LIST_LIMIT]
    )
    relationships = stakeholder.relationships.select_related("user").order_by(
        "role", "user__first_name", "user__username"
    )
    # Every colleague may see who knows this stakeholder; the plan behind each
    # relationship only those the relationship rules allow.
    linkable = set(
        Relationship.objects.visible_to(user)
        .filter(stakeholder=stakeholder)
        .values_list("pk", flat=True)
    )
    outcomes = (
        Outcome.objects.visible_to(user)
        .filter(stakeholder=stakeholder)
        .select_related("credited_to", "goal", "stakeholder__owner")[:SIDE_LIST_LIMIT]
    )
    links = (
        StakeholderLink.objects.visible_to(user)
        .filter(Q(from_stakeholder=stakeholder) | Q(to_stakeholder=stakeholder))
        .select_related("from_stakeholder", "to_stakeholder")[:SIDE_LIST_LIMIT]
    )
    context = {
        "stakeholder": stakeholder,
        "can_edit": stakeholder.editable_by(user),
        "outcomes": outcomes,
        "links": links,
        "timeline": timeline,
        "open_commitments": open_commitments,
        "relationships": relationships,
        "linkable_relationships": linkable,
    }
    if is_partial(request) and request.GET.get("fragment") == "timeline":
        return render(request, "relations/partials/timeline.html", context)
    return render(request, "relations/stakeholder_detail.html", context)


def search_text(request: HttpRequest) -> str:
    """The `?q=` of a page's search, as the API's SafeSearchFilter reads `?search=`:
    NUL characters (which PostgreSQL rejects) dropped, long input cut."""
    return request.GET.get("q", "").replace("\x00", "").strip()[:200]


def organizations_listed(request: HttpRequest) -> tuple[QuerySet, str]:
    """The organisations the list shows (and its CSV export writes), with the search."""
    query = search_text(request)
    organizations = (
        Organization.objects.visible_to(request.user)
        .listed()
        .annotate(stakeholder_count=Count("stakeholders"))
        .order_by("name", "pk")
    )
    organizations = search(organizations, ORGANIZATION_FIELDS, query)
    job = imported_by(request)
    if job is not None:
        organizations = organizations.filter(job.created_filter("relations.organization"))
    return organizations, query


def imported_by(request: HttpRequest) -> ImportJob | None:
    """The import of `?import_job=` ("See the records"), if the user may see it."""
    if not hasattr(request, "_imported_by"):  # read once per request
        job_id = parse_id(request.GET.get("import_job", ""))
        request._imported_by = (
            ImportJob.objects.visible_to(request.user).defer("content").filter(pk=job_id).first()
            if job_id is not None
            else None
        )
    return request._imported_by


@staff_required
@require_GET
def organization_list(request: HttpRequest) -> HttpResponse:
    organizations, query = organizations_listed(request)
    context = {
        "page": paginate(request, organizations),
        "q": query,
        "import_job": imported_by(request),
    }
    if is_partial(request):
        return render(request, "relations/partials/organization_table.html", context)
    return render(request, "relations/organization_list.html", context)


@staff_required
@require_GET
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = get_object_or_404(Organization.objects.visible_to(request.user), pk=pk)
    stakeholders = paginate(
        request,
        Stakeholder.objects.visible_to(request.user)
        .filter(organization=organization)
        .select_related("owner"),
    )
    return render(
        request,
        "relations/organization_detail.html",
        {"organization": organization, "stakeholders": stakeholders},
    )


# --- Relationships -----------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def relationship_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    relationship = get_object_or_404(
        Relationship.objects.visible_to(user).select_related(
            "user", "stakeholder__organization", "stakeholder__owner"
        ),
        pk=pk,
    )
    can_edit = relationship.editable_by(user)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        # A separate instance, so that invalid input never shows as the saved plan.
        instance = Relationship.objects.select_related("stakeholder").get(pk=pk)
        form = RelationshipPlanForm(request.POST, instance=instance)
        if form.is_valid():
            # The API's service: the same checks, audit and version bump; a plan saved
            # by someone else since this page was read is refused, theirs shown.
            try:
                with transaction.atomic():
                    relationship_update(
                        instance,
                        by=user,
                        expected_version=form.expected_version(),
                        **form.service_fields(),
                    )
            except EditConflict as conflict:
                form.add_error(None, EDIT_CONFLICT)
                form.conflict = conflict_changes(form, conflict.current)
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(request, _("The relationship plan was saved."))
                return redirect(relationship)
    else:
        form = RelationshipPlanForm(instance=relationship)
    return _relationship_page(request, relationship, form=form, can_edit=can_edit)


def _relationship_page(
    request: HttpRequest,
    relationship: Relationship,
    *,
    form: RelationshipPlanForm | None = None,
    can_edit: bool | None = None,
    pulse_form: PulseForm | None = None,
) -> HttpResponse:
    """The relationship page, with whichever of its forms was just submitted bound."""
    user = request.user
    if can_edit is None:
        can_edit = relationship.editable_by(user)
    if form is None:
        form = RelationshipPlanForm(instance=relationship)
    shared = paginate(
        request,
        Interaction.objects.visible_to(user)
        .of_stakeholder(relationship.stakeholder_id)
        .filter(internal_participants=relationship.user)
        .with_people(),
    )
    commitments = (
        Commitment.objects.visible_to(user)
        .filter(stakeholder=relationship.stakeholder_id, responsible=relationship.user_id)
        .select_related("responsible", "stakeholder")
        .order_by("status", "due_date")[:SIDE_LIST_LIMIT]
    )
    # Pulses are personal: the viewer sees those the pulse rules allow (their own,
    # all of them on their own relationship, everything for directors).
    pulses = list(
        AuthenticityPulse.objects.visible_to(user)
        .filter(relationship=relationship)
        .select_related("assessed_by")[:PULSE_HISTORY_ROWS]
    )
    can_record_pulse = relationship.pulse_recordable_by(user)
    context = {
        "relationship": relationship,
        "stakeholder": relationship.stakeholder,
        "form": form,
        "can_edit": can_edit,
        "timeline": shared,
        "commitments": commitments,
        "pulses": pulses,
        "can_record_pulse": can_record_pulse,
        "pulse_form": pulse_form or (PulseForm() if can_record_pulse else None),
    }
    return render(request, "relations/relationship_detail.html", context, status=200)


@staff_required
@require_POST
def relationship_pulse_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record an authenticity pulse: one POST; an htmx request gets the form back with
    its errors, or a reload of the page so the pulse shows beside trust."""
    user = request.user
    relationship = get_object_or_404(
        Relationship.objects.visible_to(user).select_related(
            "user", "stakeholder__organization", "stakeholder__owner"
        ),
        pk=pk,
    )
    if not relationship.pulse_recordable_by(user):
        raise PermissionDenied
    pulse_form = PulseForm(request.POST)
    if pulse_form.is_valid():
        try:
            pulse_record(relationship=relationship, by=user, **pulse_form.service_fields())
        except ValidationError as error:
            apply_validation_error(pulse_form, error)
        else:
            messages.success(request, _("Your authenticity pulse was saved."))
            if request.htmx:
                # Reload the page the form is on (a redirect to the same page with
                # another #fragment would only scroll), so the pulse shows beside trust.
                response = HttpResponse()
                response["HX-Refresh"] = "true"
                return response
            return redirect(f"{relationship.get_absolute_url()}#pulses")
    if is_partial(request):
        return render(
            request,
            "relations/partials/pulse_form.html",
            {"relationship": relationship, "pulse_form": pulse_form},
        )
    return _relationship_page(request, relationship, pulse_form=pulse_form)


# --- Interactions ------------------------------------------------------------------


def _visible_interaction(user: User, pk: int) -> Interaction:
    return get_object_or_404(
        Interaction.objects.visible_to(user)
        .select_related("created_by")
        .with_people(organizations=True),
        pk=pk,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def interaction_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = InteractionForm(request.POST, user=user)
        formset = commitment_formset(request.POST, user=user, interaction_form=form)
        warnings: list[str] = []
        if form.is_valid() and formset.is_valid():
            stakeholders = form.cleaned_data["stakeholders"]
            commitments = formset.commitments_for(stakeholders)
            warnings = form.warnings() if commitments is not None else []
            if warnings:
                form.confirm()
            elif commitments is not None:
                try:
                    interaction = interaction_log(
                        by=user,
                        participants=list(form.cleaned_data["internal_participants"]),
                        stakeholders=stakeholders,
                        commitments=commitments,
                        **form.service_fields(),
                    )
                except ValidationError as error:
                    apply_validation_error(form, error)
                else:
                    messages.success(
                        request,
                        _("Interaction “%(subject)s” logged.") % {"subject": interaction.subject},
                    )
                    if request.POST.get("another"):
                        return redirect("interaction-create")
                    return redirect(safe_next(request, stakeholders[0].get_absolute_url()))
    else:
        initial = {}
        preselect = request.GET.get("stakeholder", "")
        if (
            parse_id(preselect) is not None
            and Stakeholder.objects.visible_to(user).filter(pk=preselect).exists()
        ):
            initial["stakeholders"] = [int(preselect)]
        form = InteractionForm(user=user, initial=initial)
        formset = commitment_formset(None, user=user, interaction_form=form)
        warnings = []
    return render(
        request,
        "relations/interaction_form.html",
        {"form": form, "formset": formset, "interaction": None, "warnings": warnings},
    )


@staff_required
@require_GET
def interaction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = _visible_interaction(request.user, pk)
    commitments = interaction.commitments.select_related("responsible", "stakeholder")
    return render(
        request,
        "relations/interaction_detail.html",
        {
            "interaction": interaction,
            "commitments": commitments,
            "show_notes": interaction.notes_visible_to(request.user),
            "can_edit": interaction.editable_by(request.user),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def interaction_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    interaction = _visible_interaction(user, pk)
    if not interaction.editable_by(user):
        raise PermissionDenied
    if request.method == "POST":
        form = InteractionForm(request.POST, instance=interaction, user=user)
        if form.is_valid():
            try:
                interaction_update(
                    interaction,
                    by=user,
                    expected_version=form.cleaned_data["version"],
                    participants=list(form.cleaned_data["internal_participants"]),
                    stakeholders=form.cleaned_data["stakeholders"],
                    **form.service_fields(),
                )
            except EditConflict:
                form.add_error(None, EDIT_CONFLICT_MESSAGE)
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(request, _("The interaction was saved."))
                return redirect(interaction)
    else:
        form = InteractionForm(instance=interaction, user=user)
    return render(
        request,
        "relations/interaction_form.html",
        {"form": form, "formset": None, "interaction": interaction},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def interaction_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    interaction = _visible_interaction(user, pk)
    if not interaction.editable_by(user):
        raise PermissionDenied
    if request.method == "POST":
        first = interaction.stakeholders.all()[:1]
        fallback = first[0].get_absolute_url() if first else "/"
        interaction_delete(interaction, by=user)
        messages.success(request, _("The interaction was deleted."))
        return redirect(fallback)
    return render(
        request, "relations/interaction_confirm_delete.html", {"interaction": interaction}
    )


# --- Commitments -------------------------------------------------------------------

COMMITMENT_TABS = {
    "open": Q(status=Commitment.Status.OPEN),
    "overdue": Q(status=Commitment.Status.OPEN),  # narrowed by due date below
    "closed": ~Q(status=Commitment.Status.OPEN),
}


@staff_required
@require_GET
def commitment_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    filters = CommitmentFilterForm(request.GET)
    if filters.is_filtering():
        return _commitments_filtered(request, filters, today)
    tab = request.GET.get("show", "open")
    if tab not in COMMITMENT_TABS:
        tab = "open"
    mine = Commitment.objects.filter(responsible=user)
    overdue = Q(status=Commitment.Status.OPEN, due_date__lt=today)
    selected = mine.filter(overdue if tab == "overdue" else COMMITMENT_TABS[tab])
    if tab == "closed":
        selected = selected.order_by("-completed_on", "-pk")
    counts = mine.aggregate(
        open=Count("pk", filter=Q(status=Commitment.Status.OPEN)),
        overdue=Count("pk", filter=overdue),
    )
    page = paginate(request, selected.select_related("stakeholder__organization", "responsible"))
    return render(
        request,
        "relations/commitment_list.html",
        {"page": page, "tab": tab, "counts": counts},
    )


def _commitments_filtered(
    request: HttpRequest, filters: CommitmentFilterForm, today: Any
) -> HttpResponse:
    """The commitments behind a scorecard figure: one person's (self, or anyone's for a
    director; another's for a manager is 404), by outcome and due date."""
    user = request.user
    if not filters.is_valid():
        person = user
        selected = Commitment.objects.none()
    else:
        person = filters.cleaned_data["responsible"] or user
        if not figures_of_person_visible_to(user, person.pk):
            raise Http404
        selected = filters.filter(Commitment.objects.filter(responsible=person), today)
    page = paginate(
        request,
        selected.select_related("stakeholder__organization", "responsible").order_by(
            "due_date", "pk"
        ),
    )
    return render(
        request,
        "relations/commitment_filtered.html",
        {"page": page, "filters": filters, "person": person, "is_self": person.pk == user.pk},
    )


@staff_required
@require_POST
def commitment_status(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    commitment = get_object_or_404(
        Commitment.objects.visible_to(user).select_related("stakeholder", "responsible"), pk=pk
    )
    if not commitment.can_be_closed_by(user):
        raise PermissionDenied
    form = CommitmentStatusForm(request.POST)
    if not form.is_valid():
        if is_partial(request):
            return HttpResponseBadRequest(_("Unknown status."))
        messages.error(request, _("Unknown status."))
        return redirect(safe_next(request, "/commitments/"))
    commitment_set_status(commitment, by=user, status=form.cleaned_data["status"])
    if is_partial(request):
        return render(
            request,
            "relations/partials/commitment_item.html",
            # The page the list is on, for the item's links (not this POST's address).
            {"commitment": commitment, "next_url": safe_next(request, "/commitments/")},
        )
    messages.success(
        request,
        _("“%(description)s” marked %(status)s.")
        % {"description": commitment.description, "status": commitment.get_status_display()},
    )
    return redirect(safe_next(request, "/commitments/"))


# --- Type-ahead endpoints -------------------------------------------------------------


@staff_required
@require_GET
def autocomplete_stakeholders(request: HttpRequest) -> JsonResponse:
    query = search_text(request)
    stakeholders = (
        Stakeholder.objects.visible_to(request.user).listed().select_related("organization")
    )
    stakeholders = search(stakeholders, ("name", "organization__name", "email"), query)
    results = [
        {"value": s.pk, "text": stakeholder_label(s)} for s in stakeholders[:AUTOCOMPLETE_LIMIT]
    ]
    return JsonResponse({"results": results})


@staff_required
@require_GET
def autocomplete_users(request: HttpRequest) -> JsonResponse:
    query = search_text(request)
    users = staff_users()
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
        )
    results = [{"value": u.pk, "text": user_label(u)} for u in users[:AUTOCOMPLETE_LIMIT]]
    return JsonResponse({"results": results})


@staff_required
@require_GET
def autocomplete_organizations(request: HttpRequest) -> JsonResponse:
    query = search_text(request)
    organizations = Organization.objects.visible_to(request.user).listed()
    if query:
        organizations = organizations.filter(
            Q(name__icontains=query) | Q(name_key__contains=match_key(query) or query)
        )
    results = [{"value": o.pk, "text": o.name} for o in organizations[:AUTOCOMPLETE_LIMIT]]
    return JsonResponse({"results": results})
