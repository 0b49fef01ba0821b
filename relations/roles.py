"""Roles are Django groups (DESIGN §7): every staff member is a manager; directors see all."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

MANAGER = "manager"
DIRECTOR = "director"


def _group_names(user: User) -> set[str]:
    # Cached on the user object: a page asks several times per request.
    cached = getattr(user, "_rapport_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._rapport_groups = cached
    return cached


def roles_preload(user: User, names: set[str]) -> None:
    """Set the user's role groups when they came with the user's own query (API
    token authentication), so the role checks of the request cost no query.
    Only the role groups matter: the checks below ask for nothing else."""
    user._rapport_groups = set(names) & {MANAGER, DIRECTOR}


def is_staff_member(user: User | AnonymousUser) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(_group_names(user) & {MANAGER, DIRECTOR})


def is_director(user: User | AnonymousUser) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or DIRECTOR in _group_names(user)


def staff_users() -> QuerySet[User]:
    """Active staff members (every manager, director and superuser), by name: who may
    take part in interactions, be responsible, own stakeholders and goals. Callers that
    need another order say so."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=[MANAGER, DIRECTOR]))
        .distinct()
        .order_by("first_name", "last_name", "username", "pk")
    )
