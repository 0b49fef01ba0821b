"""Roles are Django groups (DESIGN §7): every staff member is a manager; directors see all.

What a role may do that others may not is written here once, as `Action`s and the
people whose figures a user sees; pages, forms, API views and template tags ask
`may(user, action)` and `figures_people_ids(user)` rather than testing the role
themselves. Rules about one record (may this user change this goal?) are methods of
its model or queryset (`editable_by`, `visible_to`), which ask these too.
"""

from enum import StrEnum

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.http import HttpRequest

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


class Action(StrEnum):
    """What only directors (and superusers) may do."""

    # Everyone's personal figures: scorecards, portfolios, a person's commitments,
    # key-person risk and introduction paths through colleagues' relationships.
    SEE_EVERYONES_FIGURES = "see_everyones_figures"
    # Network-health figures of the organisation, its teams and goals (a goal's owner
    # sees that goal's: `StrategicGoal.health_visible_to`).
    SEE_NETWORK_HEALTH = "see_network_health"
    # Team scorecards and the coaching signals on a person's scorecard.
    SEE_TEAM_FIGURES = "see_team_figures"
    # The audit log and each record's change history.
    READ_AUDIT_TRAIL = "read_audit_trail"
    # Export and erase a stakeholder's personal data; read the data-protection register.
    HANDLE_PERSONAL_DATA = "handle_personal_data"
    # Start a full recomputation of every score.
    START_RECOMPUTATION = "start_recomputation"
    # Teams and webhooks: the organisation's set-up.
    SET_UP_ORGANISATION = "set_up_organisation"
    # Every colleague's captures (files, feeds, messages) and their reports.
    SEE_EVERYONES_CAPTURES = "see_everyones_captures"
    # Start a two-sided review of anyone's relationship and invite its stakeholder
    # (a relationship's own user starts reviews of it: reviews.models).
    START_REVIEWS = "start_reviews"


DIRECTOR_ACTIONS = frozenset(Action)


def may(user: User | AnonymousUser, action: Action) -> bool:
    """Whether `user` may do `action` (DESIGN §7)."""
    return action in DIRECTOR_ACTIONS and is_director(user)


def figures_people_ids(user: User | AnonymousUser) -> set[int] | None:
    """The staff members whose personal figures `user` sees: None for everyone (a
    director), else only themselves (nobody for a visitor)."""
    if may(user, Action.SEE_EVERYONES_FIGURES):
        return None
    return {user.pk} if is_staff_member(user) else set()


def figures_of_person_visible_to(user: User | AnonymousUser, person_id: int | None) -> bool:
    """Whether `user` sees the personal figures of staff member `person_id`."""
    people = figures_people_ids(user)
    return people is None or person_id in people


def template_context(request: HttpRequest) -> dict:
    """The roles every template may ask about (a context processor)."""
    user = request.user
    return {"is_director": is_director(user), "is_staff_member": is_staff_member(user)}
