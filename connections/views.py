"""`/settings/connections/`: a user's connected accounts and their review queue."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from connections import services
from connections.forms import FORM_BY_KIND, RemoveForm
from connections.models import ConnectedAccount, SuggestedStakeholder
from relations.pages import staff_required

REVIEW_PAGE = 100
ADD_TITLES = {
    ConnectedAccount.Kind.IMAP: gettext_lazy("Connect a mailbox"),
    ConnectedAccount.Kind.CALDAV: gettext_lazy("Connect a calendar"),
    ConnectedAccount.Kind.CARDDAV: gettext_lazy("Connect an address book"),
}


def _own(request: HttpRequest, pk: int) -> ConnectedAccount:
    """The user's own account: anyone else's answers 404 (directors' too)."""
    return get_object_or_404(ConnectedAccount, pk=pk, owner=request.user)


@never_cache
@staff_required
@require_http_methods(["GET"])
def connection_list(request: HttpRequest) -> HttpResponse:
    accounts = list(
        ConnectedAccount.objects.filter(owner=request.user)
        .annotate(
            captured=Count("items", filter=Q(items__interaction__isnull=False)),
        )
        .order_by("label", "pk")
    )
    waiting = SuggestedStakeholder.objects.filter(
        owner=request.user, status=SuggestedStakeholder.Status.PENDING
    ).count()
    return render(
        request,
        "connections/connection_list.html",
        {"accounts": accounts, "waiting": waiting, "kinds": ConnectedAccount.Kind},
    )


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def connection_add(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ConnectedAccount.Kind.values:
        raise Http404
    form_class = FORM_BY_KIND[kind]
    form = form_class(request.POST or None, instance=ConnectedAccount(kind=kind))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        fields["kind"] = kind
        account = services.account_create(by=request.user, **fields)
        messages.success(
            request, _("“%(label)s” is connected; its first sync has started.") % {"label": account}
        )
        return redirect("connection-list")
    return render(
        request,
        "connections/connection_form.html",
        {"form": form, "title": ADD_TITLES[kind], "kind": kind},
    )


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def connection_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = _own(request, pk)
    form_class = FORM_BY_KIND[account.kind]
    form = form_class(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        # Saved by the service from a fresh copy: the form's instance carries its edits.
        services.account_update(
            ConnectedAccount.objects.get(pk=account.pk), by=request.user, **fields
        )
        messages.success(request, _("“%(label)s” is saved.") % {"label": fields["label"]})
        return redirect("connection-list")
    return render(
        request,
        "connections/connection_form.html",
        {"form": form, "title": _("Edit “%(label)s”") % {"label": account}, "account": account},
    )


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def connection_remove(request: HttpRequest, pk: int) -> HttpResponse:
    account = _own(request, pk)
    form = RemoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        delete = form.cleaned_data["captured"] == "delete"
        label = account.label
        deleted = services.account_remove(account, by=request.user, delete_captured=delete)
        if delete:
            messages.success(
                request,
                _("“%(label)s” is removed, with %(count)s interactions only it captured.")
                % {"label": label, "count": deleted},
            )
        else:
            messages.success(
                request, _("“%(label)s” is removed; what it captured is kept.") % {"label": label}
            )
        return redirect("connection-list")
    captured = account.items.filter(interaction__isnull=False).count()
    return render(
        request,
        "connections/connection_remove.html",
        {"account": account, "form": form, "captured": captured},
    )


@staff_required
@require_POST
def connection_sync(request: HttpRequest, pk: int) -> HttpResponse:
    account = _own(request, pk)
    with transaction.atomic():
        services.sync_request(account)
    messages.info(request, _("“%(label)s” is syncing.") % {"label": account})
    return redirect("connection-list")


@never_cache
@staff_required
@require_http_methods(["GET"])
def review_list(request: HttpRequest) -> HttpResponse:
    suggestions = (
        SuggestedStakeholder.objects.filter(
            owner=request.user, status=SuggestedStakeholder.Status.PENDING
        )
        .select_related("possible_match", "possible_match__organization")
        .order_by("-message_count", "-meeting_count", "-last_seen_at", "pk")
    )
    total = suggestions.count()
    return render(
        request,
        "connections/review_list.html",
        {"suggestions": suggestions[:REVIEW_PAGE], "total": total, "shown": REVIEW_PAGE},
    )


@staff_required
@require_POST
def review_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    suggestion = get_object_or_404(
        SuggestedStakeholder,
        pk=pk,
        owner=request.user,
        status=SuggestedStakeholder.Status.PENDING,
    )
    if decision == "accept":
        stakeholder = services.suggestion_accept(suggestion, by=request.user)
        messages.success(request, _("%(name)s is now a stakeholder.") % {"name": stakeholder})
    elif decision == "merge" and suggestion.possible_match_id:
        try:
            stakeholder = services.suggestion_merge(suggestion, by=request.user)
        except ValueError:
            messages.error(request, _("That stakeholder no longer exists."))
        else:
            messages.success(
                request,
                _("%(email)s is now an address of %(name)s.")
                % {"email": suggestion.email, "name": stakeholder},
            )
    elif decision == "ignore":
        services.suggestion_ignore(suggestion, by=request.user)
        messages.info(request, _("%(email)s is ignored.") % {"email": suggestion.email})
    else:
        raise Http404
    return redirect("connection-review")
