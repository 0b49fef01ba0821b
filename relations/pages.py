"""What every app's pages share: the staff-only decorator, pagination, safe
redirects, htmx fragments, and the pickers and inputs of their forms.

Apps above relations import these from here, never from relations' views or forms.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme

from relations.querysets import parse_id
from relations.roles import Action, is_staff_member, may

PAGE_SIZE = 25

# A plain <select> without JavaScript lists at most this many options; the
# type-ahead (Tom Select) fetches the rest, so a page stays small whatever the
# number of stakeholders or organisations.
PICKER_OPTION_LIMIT = 100


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in staff only: anonymous users go to the sign-in page, others get 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_staff_member(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def action_required(
    action: Action,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Only users who `may` do `action` (DESIGN §7): anonymous users go to the sign-in
    page, others get 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @staff_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not may(request.user, action):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def paginate(request: HttpRequest, queryset: QuerySet, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def is_partial(request: HttpRequest) -> bool:
    """An htmx request for a fragment. A boosted link and htmx's history restore
    (the back button after hx-push-url) want the whole page."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def user_label(user: User) -> str:
    return user.get_full_name() or user.username


def selected_pks(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str | int):
        value = [value]
    pks = []
    for item in value:
        pk = getattr(item, "pk", item)
        if parse_id(pk) is not None:
            pks.append(str(pk))
    return pks


def limited_choices(
    queryset: QuerySet, selected: Any, label: Any, *, blank: str | None = None
) -> list[tuple[Any, str]]:
    """Choices for a picker: the selected rows plus the first PICKER_OPTION_LIMIT (2 queries)."""
    pks = selected_pks(selected)
    rows = list(queryset.filter(pk__in=pks)) if pks else []
    seen = {row.pk for row in rows}
    rows += [row for row in queryset[:PICKER_OPTION_LIMIT] if row.pk not in seen]
    choices = [(row.pk, label(row)) for row in rows]
    return [("", blank), *choices] if blank is not None else choices


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def apply_validation_error(form: forms.Form, error: ValidationError) -> None:
    """Attach a model ValidationError raised inside a service to the form's fields."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
