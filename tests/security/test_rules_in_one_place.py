"""Who may do what is written once (relations.roles, the models and their querysets);
pages, forms, API views and template tags ask those rules instead of testing roles."""

import ast
from pathlib import Path

import pytest

from relations.roles import (
    DIRECTOR_ACTIONS,
    Action,
    figures_of_person_visible_to,
    figures_people_ids,
    may,
)
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "connections", "dashboards", "metrics", "networks", "relations", "reviews")

# The rooms where a role may be tested: the rules themselves (with the templates' role
# flag, `roles.template_context`), and the second factor, which is for directors.
RULE_ROOMS = {
    "relations/roles.py",
    "relations/models.py",
    "relations/querysets.py",
    "relations/importing/models.py",
    "metrics/querysets.py",
    "accounts/security.py",
}


def _role_tests(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) == "is_director"
    ]


def test_roles_are_tested_only_where_the_rules_live():
    outside = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in RULE_ROOMS:
                continue
            if lines := _role_tests(path):
                outside[relative] = lines
    assert outside == {}, "ask relations.roles.may() or a model/queryset rule instead"


def test_the_scan_finds_a_role_test():
    # The guard above must be able to fail: the rules' own module tests the role.
    assert _role_tests(ROOT / "relations/roles.py")


@pytest.mark.django_db
def test_every_action_is_for_directors_and_superusers_only(manager, director):
    superuser = UserFactory(username="root", is_superuser=True)
    gone = UserFactory(username="gone", role="director", is_active=False)
    assert set(Action) == DIRECTOR_ACTIONS
    for action in Action:
        assert may(director, action) and may(superuser, action), action
        assert not may(manager, action), action
        assert not may(gone, action), action


@pytest.mark.django_db
def test_a_manager_sees_her_own_figures_and_a_director_everyones(manager, other_manager, director):
    assert figures_people_ids(director) is None
    assert figures_people_ids(manager) == {manager.pk}
    assert figures_of_person_visible_to(manager, manager.pk)
    assert not figures_of_person_visible_to(manager, other_manager.pk)
    assert figures_of_person_visible_to(director, other_manager.pk)
    outsider = UserFactory(username="outsider", role="guest")  # no staff role
    assert figures_people_ids(outsider) == set()
    assert not figures_of_person_visible_to(outsider, outsider.pk)
