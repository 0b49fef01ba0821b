"""Create, edit and archive pages (DESIGN §5a). Thin: visibility from `visible_to`, the
rule of who may change what from the model, every write through
`relations.editing.services` (the API's services too)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, router, transaction
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from relations.editing import services
from relations.editing.forms import (
    CommitmentForm,
    GoalForm,
    GoalStakeholderFormSet,
    OrganizationForm,
    OutcomeForm,
    QuickStakeholderForm,
    RelationshipForm,
    StakeholderForm,
    StakeholderLinkForm,
    TeamForm,
    VersionedForm,
    WebhookForm,
)
from relations.forms import PulseForm, stakeholder_label
from relations.models import (
    AuthenticityPulse,
    Commitment,
    Organization,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
    StrategicGoal,
    Team,
    Webhook,
)
from relations.pages import apply_validation_error, safe_next, staff_required, user_label
from relations.querysets import parse_id
from relations.roles import Action, may
from relations.services import pulse_delete as pulse_delete_service
from relations.services import pulse_update

EDIT_CONFLICT = gettext_lazy(
    "Someone else saved this record while you were editing it. Nothing was saved. "
    "Their version is shown below; what you typed is kept: save again to replace theirs."
)


def _display(obj: models.Model, name: str) -> str:
    value = getattr(obj, name, "")
    if name in {"tags"}:
        return ", ".join(sorted(t.name for t in obj.tags.all()))
    choices_display = getattr(obj, f"get_{name}_display", None)
    if choices_display is not None:
        return str(choices_display())
    return "" if value is None else str(value)


def conflict_changes(form: forms.ModelForm, current: models.Model) -> list[tuple[str, str]]:
    """The saved values that differ from what the editor sent, and take the editor's
    next save as deliberate (the form now carries the current version)."""
    changes = []
    for name, field in form.fields.items():
        if name == "version" or not hasattr(current, name) or field.disabled:
            continue
        theirs = _display(current, name)
        mine = form.data.get(form.add_prefix(name), "")
        if name == "tags":
            mine = ", ".join(sorted({t.strip() for t in mine.split(",") if t.strip()}))
        if isinstance(field, forms.ModelChoiceField):
            theirs_id = getattr(current, f"{name}_id", None)
            if str(theirs_id or "") != str(mine):
                changes.append((str(field.label), theirs))
        elif isinstance(field, forms.ChoiceField):
            # Compare the stored choice, not its label ("active", not "Active").
            raw = getattr(current, name, None)
            if str("" if raw is None else raw) != str(mine):
                changes.append((str(field.label), theirs))
        elif str(mine).strip() != theirs.strip() and not (isinstance(field, forms.BooleanField)):
            changes.append((str(field.label), theirs))
    data = form.data.copy()
    data[form.add_prefix("version")] = str(current.version)
    form.data = data
    return changes


def _save(
    request: HttpRequest,
    form: VersionedForm,
    write: Callable[[], models.Model],
    *,
    extra_valid: bool = True,
) -> models.Model | None:
    """Run the service `write` for a valid form; errors and conflicts go on the form."""
    if not (form.is_valid() and extra_valid):
        return None
    try:
        with transaction.atomic():
            return write()
    except services.EditConflict as conflict:
        form.add_error(None, EDIT_CONFLICT)
        form.conflict = conflict_changes(form, conflict.current)
    except ValidationError as error:
        apply_validation_error(form, error)
    return None


def _page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context.setdefault("cancel_url", "/")
    return render(request, "relations/editing/record_form.html", context)


# --- Organisations ------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def organization_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None, user=request.user)
    if request.method == "POST":
        saved = _save(
            request,
            form,
            lambda: services.organization_create(by=request.user, **form.service_fields()),
        )
        if saved:
            messages.success(request, _("Organisation “%(name)s” added.") % {"name": saved})
            return redirect(saved)
    return _page(
        request,
        {"form": form, "title": _("New organisation"), "cancel_url": "/organizations/"},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    organization = get_object_or_404(Organization.objects.visible_to(user), pk=pk)
    if not organization.editable_by(user):
        raise PermissionDenied
    form = OrganizationForm(request.POST or None, instance=organization, user=user)
    if request.method == "POST":
        saved = _save(
            request,
            form,
            lambda: services.organization_update(
                organization,
                by=user,
                expected_version=form.expected_version(),
                **form.service_fields(),
            ),
        )
        if saved:
            messages.success(request, _("The organisation was saved."))
            return redirect(saved)
    return _page(
        request,
        {
            "form": form,
            "record": organization,
            "delete_url": _delete_url(organization, user, "organization-delete"),
            "title": _("Edit %(name)s") % {"name": organization.name},
            "cancel_url": organization.get_absolute_url(),
        },
    )


# --- Stakeholders -------------------------------------------------------------------


def _stakeholder_fields(form: StakeholderForm, user: Any) -> dict[str, Any]:
    """The service's fields, with the organisation typed as new created first."""
    fields = form.service_fields()
    name = form.cleaned_data.get("new_organization", "").strip()
    if name:
        existing = Organization.objects.visible_to(user).filter(name__iexact=name).first()
        fields["organization"] = existing or services.organization_create(by=user, name=name)
    return fields


@staff_required
@require_http_methods(["GET", "POST"])
def stakeholder_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = StakeholderForm(request.POST or None, user=user)
    if request.method == "POST":
        saved = _save(
            request,
            form,
            lambda: services.stakeholder_create(by=user, **_stakeholder_fields(form, user)),
        )
        if saved:
            messages.success(request, _("Stakeholder “%(name)s” added.") % {"name": saved})
            return redirect(safe_next(request, saved.get_absolute_url()))
    return _page(
        request,
        {"form": form, "title": _("New stakeholder"), "cancel_url": "/stakeholders/"},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def stakeholder_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    stakeholder = get_object_or_404(
        Stakeholder.objects.visible_to(user).prefetch_related("tags"), pk=pk
    )
    if not stakeholder.editable_by(user):
        raise PermissionDenied
    form = StakeholderForm(request.POST or None, instance=stakeholder, user=user)
    if request.method == "POST":
        saved = _save(
            request,
            form,
            lambda: services.stakeholder_update(
                stakeholder,
                by=user,
                expected_version=form.expected_version(),
                **_stakeholder_fields(form, user),
            ),
        )
        if saved:
            messages.success(request, _("The stakeholder was saved."))
            return redirect(saved)
    return _page(
        request,
        {
            "form": form,
            "record": stakeholder,
            "delete_url": _delete_url(stakeholder, user, "stakeholder-delete"),
            "title": _("Edit %(name)s") % {"name": stakeholder.name},
            "cancel_url": stakeholder.get_absolute_url(),
        },
    )


@staff_required
@require_http_methods(["POST"])
def stakeholder_quick_create(request: HttpRequest) -> HttpResponse:
    """The interaction form's "Create ‘name’": a stakeholder from a name, an organisation
    and an e-mail, answered as JSON for the type-ahead (or the form with its errors)."""
    from django.http import JsonResponse

    user = request.user
    form = QuickStakeholderForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                organization = None
                if data["organization_name"].strip():
                    name = data["organization_name"].strip()
                    organization = Organization.objects.visible_to(user).filter(
                        name__iexact=name
                    ).first() or services.organization_create(by=user, name=name)
                stakeholder = services.stakeholder_create(
                    by=user,
                    name=data["name"],
                    email=data["email"],
                    organization=organization,
                    owner=user,
                )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return JsonResponse(
                {"value": stakeholder.pk, "text": stakeholder_label(stakeholder)}, status=201
            )
    return JsonResponse({"errors": form.errors.get_json_data()}, status=400)


def _archive_page(
    request: HttpRequest,
    record: Any,
    archive: Callable[..., Any],
    *,
    back: str,
) -> HttpResponse:
    user = request.user
    if not record.editable_by(user):
        raise PermissionDenied
    if request.method == "POST":
        restore = request.POST.get("restore") == "1"
        archive(record, by=user, archived=not restore)
        if restore:
            messages.success(request, _("“%(name)s” is back in the lists.") % {"name": record})
            return redirect(record.get_absolute_url())
        messages.success(
            request,
            _("“%(name)s” was archived: it left the lists and still counts in the figures.")
            % {"name": record},
        )
        return redirect(back)
    return render(request, "relations/editing/record_archive.html", {"record": record})


@staff_required
@require_http_methods(["GET", "POST"])
def stakeholder_archive(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(Stakeholder.objects.visible_to(request.user), pk=pk)
    return _archive_page(request, record, services.stakeholder_archive, back="/stakeholders/")


@staff_required
@require_http_methods(["GET", "POST"])
def organization_archive(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(Organization.objects.visible_to(request.user), pk=pk)
    return _archive_page(request, record, services.organization_archive, back="/organizations/")


@staff_required
@require_http_methods(["GET", "POST"])
def goal_archive(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(StrategicGoal.objects.visible_to(request.user), pk=pk)
    return _archive_page(request, record, services.goal_archive, back="/goals/")


@staff_required
@require_http_methods(["GET", "POST"])
def outcome_archive(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(
        Outcome.objects.visible_to(request.user).select_related("stakeholder"), pk=pk
    )
    return _archive_page(
        request,
        record,
        services.outcome_archive,
        back=record.stakeholder.get_absolute_url(),
    )


# --- Deleting -------------------------------------------------------------------------


def _delete_url(record: Any, user: Any, url_name: str) -> str | None:
    """The record's delete page, for whom its `deletable_by` rule lets delete it."""
    return reverse(url_name, args=[record.pk]) if services.may_delete(record, user) else None


def _consequences(record: models.Model) -> list[tuple[str, int]]:
    """What goes with the record: each kind of domain record that cascades, with its
    count. Left out: the many-to-many rows that only tie it to records that stay (its
    interactions), and the stored scores and network rows derived from it, which the
    recomputation rebuilds (the page says so)."""
    collector = Collector(using=router.db_for_write(type(record)))
    collector.collect([record])
    counts: dict[Any, int] = {}
    for model, instances in collector.data.items():
        counts[model] = counts.get(model, 0) + len(instances)
    for queryset in collector.fast_deletes:
        counts[queryset.model] = counts.get(queryset.model, 0) + queryset.count()
    counts[type(record)] = counts.get(type(record), 1) - 1
    return [
        (str(model._meta.verbose_name), count)
        for model, count in sorted(counts.items(), key=lambda item: str(item[0]._meta.verbose_name))
        if count and not model._meta.auto_created and model._meta.app_label == "relations"
    ]


def _delete_page(
    request: HttpRequest,
    record: Any,
    *,
    back: str,
    name: str | None = None,
    delete: Callable[..., None] = services.record_delete,
    note: str | None = None,
) -> HttpResponse:
    """GET: what deleting the record takes with it; POST: delete it through the API's
    service (`record_delete`, or the record's own, e.g. `pulse_delete`: the same rule
    and audit row)."""
    user = request.user
    if not services.may_delete(record, user):
        raise PermissionDenied
    name = name or str(record)
    if request.method == "POST":
        try:
            delete(record, by=user)
        except (ProtectedError, RestrictedError):
            messages.error(
                request, _("“%(name)s” is still in use and was not deleted.") % {"name": name}
            )
            return redirect(request.path)
        messages.success(request, _("“%(name)s” was deleted.") % {"name": name})
        return redirect(back)
    archive_url = None
    if hasattr(record, "archived_at") and not record.is_archived:
        archive_url = _ARCHIVE_URLS.get(type(record))
        archive_url = reverse(archive_url, args=[record.pk]) if archive_url else None
    return render(
        request,
        "relations/editing/record_delete.html",
        {
            "record": record,
            "name": name,
            "kind": record._meta.verbose_name,
            "consequences": _consequences(record),
            "archive_url": archive_url,
            "note": note,
            "cancel_url": safe_next(request, _record_url(record, back)),
        },
    )


def _record_url(record: Any, fallback: str) -> str:
    get_url = getattr(record, "get_absolute_url", None)
    return get_url() if get_url else fallback


_ARCHIVE_URLS = {
    Stakeholder: "stakeholder-archive",
    Organization: "organization-archive",
    StrategicGoal: "goal-archive",
    Outcome: "outcome-archive",
}


def _stakeholder_page(record: Any) -> str:
    return record.stakeholder.get_absolute_url()


def _delete_view(
    model: type[models.Model],
    *,
    back: str | Callable[[Any], str],
    related: tuple[str, ...] = (),
    note: Any = None,
) -> Callable[..., HttpResponse]:
    """The delete page of a record the user can see (`visible_to`); `back`: where
    cancelling goes when the record has no page of its own."""

    @staff_required
    @require_http_methods(["GET", "POST"])
    def delete_view(request: HttpRequest, pk: int) -> HttpResponse:
        records = model.objects.visible_to(request.user)
        if related:
            records = records.select_related(*related)
        record = get_object_or_404(records, pk=pk)
        return _delete_page(
            request,
            record,
            back=back if isinstance(back, str) else back(record),
            note=str(note) if note else None,
        )

    return delete_view


stakeholder_delete = _delete_view(Stakeholder, back="/stakeholders/")
organization_delete = _delete_view(Organization, back="/organizations/")
goal_delete = _delete_view(StrategicGoal, back="/goals/")
outcome_delete = _delete_view(Outcome, back=_stakeholder_page, related=("stakeholder",))
relationship_delete = _delete_view(
    Relationship, back=_stakeholder_page, related=("user", "stakeholder")
)
commitment_delete = _delete_view(Commitment, back=_stakeholder_page, related=("stakeholder",))
team_delete = _delete_view(
    Team,
    back="/teams/",
    note=gettext_lazy(
        "This deletes the team for good: it cannot be undone. Its members keep their "
        "accounts and their records; only the team goes."
    ),
)
webhook_delete = _delete_view(
    Webhook,
    back="/webhooks/",
    note=gettext_lazy(
        "This deletes the webhook for good: it cannot be undone. Its endpoint receives no "
        "more events and its delivery log goes with it."
    ),
)


@staff_required
@require_http_methods(["GET", "POST"])
def pulse_delete(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(
        AuthenticityPulse.objects.visible_to(request.user).select_related(
            "assessed_by", "relationship"
        ),
        pk=pk,
    )
    name = _("Pulse of %(date)s by %(person)s") % {
        "date": date_format(record.assessed_on),
        "person": user_label(record.assessed_by),
    }
    return _delete_page(
        request,
        record,
        back=record.relationship.get_absolute_url(),
        name=name,
        delete=pulse_delete_service,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def pulse_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a pulse: its author or a director, through the API's `pulse_update`."""
    user = request.user
    pulse = get_object_or_404(
        AuthenticityPulse.objects.visible_to(user).select_related(
            "assessed_by", "relationship__user", "relationship__stakeholder"
        ),
        pk=pk,
    )
    if not pulse.editable_by(user):
        raise PermissionDenied
    back = f"{pulse.relationship.get_absolute_url()}#pulses"
    form = PulseForm(request.POST or None, instance=pulse)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                pulse_update(pulse, by=user, **form.service_fields())
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The pulse was saved."))
            return redirect(back)
    return _page(
        request,
        {
            "form": form,
            "record": pulse,
            "delete_url": _delete_url(pulse, user, "pulse-delete"),
            "title": _("Edit pulse of %(date)s by %(person)s")
            % {"date": date_format(pulse.assessed_on), "person": user_label(pulse.assessed_by)},
            "cancel_url": back,
        },
    )


# --- Teams and webhooks (the organisation's set-up: directors) -----------------------


@staff_required
@require_http_methods(["GET"])
def team_list(request: HttpRequest) -> HttpResponse:
    """Every team with its members (every colleague reads them, as in the API)."""
    teams = Team.objects.visible_to(request.user).prefetch_related("members")
    return render(
        request,
        "relations/editing/team_list.html",
        {"teams": teams, "can_set_up": may(request.user, Action.SET_UP_ORGANISATION)},
    )


def _team_form_page(request: HttpRequest, team: Team | None) -> HttpResponse:
    user = request.user
    form = TeamForm(request.POST or None, instance=team, user=user)
    if request.method == "POST":
        if team is None:
            saved = _save(
                request, form, lambda: services.team_create(by=user, **form.service_fields())
            )
        else:
            saved = _save(
                request,
                form,
                lambda: services.team_update(team, by=user, **form.service_fields()),
            )
        if saved:
            messages.success(request, _("Team “%(name)s” saved.") % {"name": saved})
            return redirect("team-list")
    context: dict[str, Any] = {"form": form, "cancel_url": reverse("team-list")}
    if team is None:
        context["title"] = _("New team")
    else:
        context.update(
            record=team,
            title=_("Edit %(name)s") % {"name": team.name},
            delete_url=_delete_url(team, user, "team-delete"),
        )
    return _page(request, context)


@staff_required
@require_http_methods(["GET", "POST"])
def team_create(request: HttpRequest) -> HttpResponse:
    if not may(request.user, Action.SET_UP_ORGANISATION):
        raise PermissionDenied
    return _team_form_page(request, None)


@staff_required
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(Team.objects.visible_to(request.user), pk=pk)
    if not team.editable_by(request.user):
        raise PermissionDenied
    return _team_form_page(request, team)


@staff_required
@require_http_methods(["GET"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    """The director's own endpoints (a webhook carries a secret: nobody else's)."""
    if not may(request.user, Action.SET_UP_ORGANISATION):
        raise PermissionDenied
    webhooks = Webhook.objects.visible_to(request.user).annotate(
        failed=models.Count("deliveries", filter=models.Q(deliveries__status="failed"))
    )
    return render(request, "relations/editing/webhook_list.html", {"webhooks": webhooks})


@staff_required
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    """Register an endpoint; its signing secret is shown on the answer, once."""
    user = request.user
    if not may(user, Action.SET_UP_ORGANISATION):
        raise PermissionDenied
    form = WebhookForm(request.POST or None, user=user)
    if request.method == "POST":
        saved = _save(
            request, form, lambda: services.webhook_create(by=user, **form.service_fields())
        )
        if saved:
            response = render(request, "relations/editing/webhook_created.html", {"webhook": saved})
            # The secret is in this answer only: no cache keeps it.
            response["Cache-Control"] = "no-store"
            return response
    return _page(
        request, {"form": form, "title": _("New webhook"), "cancel_url": reverse("webhook-list")}
    )


@staff_required
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    webhook = get_object_or_404(Webhook.objects.visible_to(user), pk=pk)
    if not webhook.editable_by(user):
        raise PermissionDenied
    form = WebhookForm(request.POST or None, instance=webhook, user=user)
    if request.method == "POST":
        saved = _save(
            request,
            form,
            lambda: services.webhook_update(webhook, by=user, **form.service_fields()),
        )
        if saved:
            messages.success(request, _("The webhook was saved."))
            return redirect("webhook-list")
    return _page(
        request,
        {
            "form": form,
            "record": webhook,
            "delete_url": _delete_url(webhook, user, "webhook-delete"),
            "title": _("Edit webhook"),
            "cancel_url": reverse("webhook-list"),
        },
    )


# --- Relationships and links ----------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def relationship_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    relationship = get_object_or_404(
        Relationship.objects.visible_to(user).select_related("user", "stakeholder"), pk=pk
    )
    if not relationship.editable_by(user):
        raise PermissionDenied
    form = RelationshipForm(request.POST or None, instance=relationship, user=user)
    if request.method == "POST":
        saved = _save(
            request,
            form,
            lambda: services.relationship_update(
                relationship,
                by=user,
                expected_version=form.expected_version(),
                **form.service_fields(),
            ),
        )
        if saved:
            messages.success(request, _("The relationship was saved."))
            return redirect(saved)
    return _page(
        request,
        {
            "form": form,
            "record": relationship,
            "delete_url": _delete_url(relationship, user, "relationship-delete"),
            "title": _("Edit relationship: %(name)s") % {"name": relationship},
            "cancel_url": relationship.get_absolute_url(),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def stakeholder_link_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    source = get_object_or_404(Stakeholder.objects.visible_to(user), pk=pk)
    if not StakeholderLink(from_stakeholder=source).editable_by(user):
        raise PermissionDenied
    form = StakeholderLinkForm(request.POST or None, user=user, source=source)
    if request.method == "POST":
        saved = _save(
            request,
            form,
            lambda: services.stakeholder_link_create(by=user, **form.service_fields()),
        )
        if saved:
            messages.success(request, _("The link was added."))
            return redirect(source)
    return _page(
        request,
        {
            "form": form,
            "title": _("Link %(name)s to someone") % {"name": source.name},
            "cancel_url": source.get_absolute_url(),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def stakeholder_link_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    link = get_object_or_404(
        StakeholderLink.objects.visible_to(user).select_related("from_stakeholder"), pk=pk
    )
    if not link.editable_by(user):
        raise PermissionDenied
    source = link.from_stakeholder
    if request.method == "POST" and request.POST.get("delete") == "1":
        services.stakeholder_link_delete(link, by=user)
        messages.success(request, _("The link was removed."))
        return redirect(source)
    form = StakeholderLinkForm(request.POST or None, instance=link, user=user, source=source)
    if request.method == "POST":
        saved = _save(
            request,
            form,
            lambda: services.stakeholder_link_update(
                link, by=user, expected_version=form.expected_version(), **form.service_fields()
            ),
        )
        if saved:
            messages.success(request, _("The link was saved."))
            return redirect(source)
    return _page(
        request,
        {
            "form": form,
            "record": link,
            "deletable": True,
            "title": _("Edit link: %(name)s") % {"name": link},
            "cancel_url": source.get_absolute_url(),
        },
    )


# --- Commitments ----------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def commitment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    commitment = get_object_or_404(
        Commitment.objects.visible_to(user).select_related("stakeholder", "responsible"), pk=pk
    )
    if not commitment.editable_by(user):
        raise PermissionDenied
    back = commitment.stakeholder.get_absolute_url()
    form = CommitmentForm(request.POST or None, instance=commitment, user=user)
    if request.method == "POST":
        saved = _save(
            request,
            form,
            lambda: services.commitment_update(
                commitment,
                by=user,
                expected_version=form.expected_version(),
                **form.service_fields(),
            ),
        )
        if saved:
            messages.success(request, _("The commitment was saved."))
            return redirect(safe_next(request, back))
    return _page(
        request,
        {
            "form": form,
            "record": commitment,
            "delete_url": _delete_url(commitment, user, "commitment-delete"),
            "title": _("Edit commitment to %(name)s") % {"name": commitment.stakeholder.name},
            "cancel_url": safe_next(request, back),
        },
    )


# --- Outcomes -------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def outcome_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {}
    stakeholder_id = parse_id(request.GET.get("stakeholder", ""))
    if stakeholder_id is not None:
        stakeholder = Stakeholder.objects.visible_to(user).filter(pk=stakeholder_id).first()
        if stakeholder is not None:
            initial["stakeholder"] = stakeholder.pk
    goal_id = parse_id(request.GET.get("goal", ""))
    if goal_id is not None:
        goal = StrategicGoal.objects.visible_to(user).filter(pk=goal_id).first()
        if goal is not None:
            initial["goal"] = goal.pk
    form = OutcomeForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST":
        saved = _save(
            request, form, lambda: services.outcome_create(by=user, **form.service_fields())
        )
        if saved:
            messages.success(request, _("Outcome recorded."))
            return redirect(safe_next(request, saved.stakeholder.get_absolute_url()))
    return _page(request, {"form": form, "title": _("Record an outcome")})


@staff_required
@require_http_methods(["GET", "POST"])
def outcome_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    outcome = get_object_or_404(
        Outcome.objects.visible_to(user).select_related("stakeholder"), pk=pk
    )
    if not outcome.editable_by(user):
        raise PermissionDenied
    form = OutcomeForm(request.POST or None, instance=outcome, user=user)
    if request.method == "POST":
        saved = _save(
            request,
            form,
            lambda: services.outcome_update(
                outcome, by=user, expected_version=form.expected_version(), **form.service_fields()
            ),
        )
        if saved:
            messages.success(request, _("The outcome was saved."))
            return redirect(saved.stakeholder)
    return _page(
        request,
        {
            "form": form,
            "record": outcome,
            "delete_url": _delete_url(outcome, user, "outcome-delete"),
            "archive_url": f"/outcomes/{outcome.pk}/archive/",
            "title": _("Edit outcome"),
            "cancel_url": outcome.stakeholder.get_absolute_url(),
        },
    )


# --- Strategic goals ----------------------------------------------------------------


def _goal_formset(request: HttpRequest, goal: StrategicGoal | None) -> Any:
    initial = None
    if goal is not None and request.method != "POST":
        initial = [
            {"stakeholder": link.stakeholder_id, "role": link.role}
            for link in goal.links.order_by("stakeholder__name")
        ]
    return GoalStakeholderFormSet(
        request.POST or None, prefix="links", user=request.user, initial=initial
    )


@staff_required
@require_http_methods(["GET", "POST"])
def goal_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = GoalForm(request.POST or None, user=user)
    formset = _goal_formset(request, None)
    if request.method == "POST":
        saved = _save(
            request,
            form,
            lambda: services.goal_create(by=user, links=formset.links(), **form.service_fields()),
            extra_valid=formset.is_valid(),
        )
        if saved:
            messages.success(request, _("Goal “%(name)s” created.") % {"name": saved})
            return redirect(saved)
    return _page(
        request,
        {"form": form, "formset": formset, "title": _("New goal"), "cancel_url": "/goals/"},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def goal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    goal = get_object_or_404(StrategicGoal.objects.visible_to(user), pk=pk)
    if not goal.editable_by(user):
        raise PermissionDenied
    form = GoalForm(request.POST or None, instance=goal, user=user)
    formset = _goal_formset(request, goal)
    if request.method == "POST":
        saved = _save(
            request,
            form,
            lambda: services.goal_update(
                goal,
                by=user,
                expected_version=form.expected_version(),
                links=formset.links(),
                **form.service_fields(),
            ),
            extra_valid=formset.is_valid(),
        )
        if saved:
            messages.success(request, _("The goal was saved."))
            return redirect(saved)
    return _page(
        request,
        {
            "form": form,
            "formset": formset,
            "record": goal,
            "delete_url": _delete_url(goal, user, "goal-delete"),
            "title": _("Edit %(name)s") % {"name": goal.title},
            "cancel_url": goal.get_absolute_url(),
        },
    )
