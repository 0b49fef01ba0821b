"""Who may call the API and who may change what (DESIGN §7).

Visibility is the queryset's job (`visible_to`): what a caller may not see is a
404 before these checks run. These decide, for a visible object, whether the
caller may change it (403 otherwise).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework import permissions

from relations.roles import Action, is_staff_member, may

if TYPE_CHECKING:  # importing them at run time is circular (DRF settings)
    from rest_framework.request import Request
    from rest_framework.views import APIView


class IsStaffMember(permissions.BasePermission):
    """Signed in (401 otherwise) and a member of the `manager` or `director` group (403)."""

    message = "Only staff members (the manager or director role) may use the API."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated) and is_staff_member(
            request.user
        )


class CanChangeObject(permissions.BasePermission):
    """Reads for every staff member; writes as the viewset's `can_change`/`can_delete` say."""

    message = "You may see this record but not change it."

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        if request.method == "DELETE":
            return view.can_delete(request.user, obj)
        return view.can_change(request.user, obj)


class DirectorWrites(permissions.BasePermission):
    """Collection-level writes (create) reserved for directors, e.g. teams."""

    message = "Only directors may do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.method in permissions.SAFE_METHODS or may(
            request.user, Action.SET_UP_ORGANISATION
        )
