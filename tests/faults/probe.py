"""Django code the fault tests run against the private database, in a process of its own:
`python -m tests.faults.probe COMMAND '{"json": "arguments"}'` prints one JSON line.

The test process itself stays a client (HTTP, SQL), so its own test database, the
one pytest-django set up on the shared server, is never involved.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import django

RELATIVE_TOLERANCE = 1e-4
# Incremental scores were computed a minute or so before the comparison: decay with a
# half life of months moves them by ~3e-6 relatively in that time, a lost or doubled
# interaction by orders of magnitude more (and interaction counts must match exactly).
IGNORED = {"computed_at"}
# The moment of computation inside the explanation, like computed_at.
IGNORED_EXPLANATION_KEYS = {"as_of"}


def seed(*, managers: int, stakeholders: int) -> dict:
    from django.contrib.auth.models import Group, User

    from accounts.tokens import api_token_create
    from relations.models import Organization, Stakeholder, Team

    manager_group, _ = Group.objects.get_or_create(name="manager")
    director_group, _ = Group.objects.get_or_create(name="director")
    director = User.objects.create_user("dana", password="pw", first_name="Dana")
    director.groups.add(director_group, manager_group)
    team = Team.objects.create(name="Fault team")
    users = []
    for n in range(managers):
        user = User.objects.create_user(f"manager{n}", password="pw", first_name=f"M{n}")
        user.groups.add(manager_group)
        team.members.add(user)
        users.append(user)
    organization = Organization.objects.create(name="Acme", sector="Energy", country="NL")
    people = [
        Stakeholder.objects.create(
            name=f"Person {n}",
            organization=organization,
            owner=users[n % managers],
            importance=1 + n % 5,
        )
        for n in range(stakeholders)
    ]
    return {
        "director": {"id": director.pk, "token": api_token_create(director)[1]},
        "managers": [
            {"id": u.pk, "username": u.username, "token": api_token_create(u)[1]} for u in users
        ],
        "stakeholders": [p.pk for p in people],
    }


def _rows(model, key: str) -> dict[int, dict]:
    from metrics.writeback import CURRENT_FIELDS

    # .values() hands back the explanation as stored (packed numbers); compare it
    # the way every reader sees it, rendered.
    explanation = model._meta.get_field("explanation")
    rows = model.objects.values(key, *(f for f in CURRENT_FIELDS if f not in IGNORED))
    for row in rows:
        if "explanation" in row:
            row["explanation"] = explanation.to_python(row["explanation"])
    return {row[key]: row for row in rows}


# Whole days since the last contact: a minute between the two computations crosses a
# day boundary for an interaction logged at that time of day (one day, never more).
DAY_COUNTS = ("days_since_contact",)


def _differences(path: str, stored: Any, fresh: Any, out: list[str]) -> None:
    if path.endswith(DAY_COUNTS) and isinstance(stored, int) and isinstance(fresh, int):
        if fresh - stored not in (0, 1):
            out.append(f"{path}: stored {stored!r}, full recomputation {fresh!r}")
    elif isinstance(stored, dict) and isinstance(fresh, dict):
        for name in stored.keys() | fresh.keys():
            if name in IGNORED_EXPLANATION_KEYS:
                continue
            _differences(f"{path}.{name}", stored.get(name), fresh.get(name), out)
    elif isinstance(stored, list) and isinstance(fresh, list) and len(stored) == len(fresh):
        for i, (a, b) in enumerate(zip(stored, fresh, strict=True)):
            _differences(f"{path}[{i}]", a, b, out)
    elif (
        isinstance(stored, float) and isinstance(fresh, float | int) and not isinstance(fresh, bool)
    ) or (isinstance(fresh, float) and isinstance(stored, int) and not isinstance(stored, bool)):
        if not math.isclose(stored, fresh, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-9):
            out.append(f"{path}: stored {stored!r}, full recomputation {fresh!r}")
    elif stored != fresh:
        out.append(f"{path}: stored {stored!r}, full recomputation {fresh!r}")


def compare_with_full_recomputation() -> dict:
    """Every stored score against a clean full recomputation made now.

    The stored scores are read first; the full recomputation then overwrites them
    (it is what a clean run would store)."""
    from metrics import recompute
    from metrics.models import PendingRecompute, RelationshipScore, StakeholderScore

    pending = PendingRecompute.objects.count()
    stored_stakeholders = _rows(StakeholderScore, "stakeholder_id")
    stored_relationships = _rows(RelationshipScore, "relationship_id")
    recompute.scores_recompute_all()
    fresh_stakeholders = _rows(StakeholderScore, "stakeholder_id")
    fresh_relationships = _rows(RelationshipScore, "relationship_id")
    differences: list[str] = []
    _differences("stakeholder", stored_stakeholders, fresh_stakeholders, differences)
    _differences("relationship", stored_relationships, fresh_relationships, differences)
    return {
        "pending_markers_before": pending,
        "stakeholder_scores": len(fresh_stakeholders),
        "relationship_scores": len(fresh_relationships),
        "differences": differences[:10],
        "differing_keys": sorted({d.split(":")[0].split(".", 2)[-1] for d in differences})[:30],
        "difference_count": len(differences),
    }


def scores_corrupt() -> dict:
    """Make every stored score wrong, so that only a complete recomputation repairs it."""
    from metrics.models import RelationshipScore, StakeholderScore

    return {
        "stakeholders": StakeholderScore.objects.update(strength=-1.0, trust=-1.0, given=-1.0),
        "relationships": RelationshipScore.objects.update(strength=-1.0, trust=-1.0, given=-1.0),
    }


def recompute_all() -> dict:
    """A full recomputation: every stakeholder has a stored score row from then on,
    whichever test of the module runs first."""
    from metrics import recompute
    from metrics.models import StakeholderScore

    recompute.scores_recompute_all()
    return {"stakeholder_scores": StakeholderScore.objects.count()}


def network_enqueue() -> dict:
    """Queue one network computation now (on the graph queue); its run's id."""
    from networks.models import NetworkRun
    from networks.tasks import network_recompute

    run = NetworkRun.objects.create(status=NetworkRun.Status.SCHEDULED)
    network_recompute.apply_async(kwargs={"run_id": run.pk})
    return {"run": run.pk}


COMMANDS = {
    "recompute_all": recompute_all,
    "network_enqueue": network_enqueue,
    "seed": seed,
    "compare_with_full_recomputation": compare_with_full_recomputation,
    "scores_corrupt": scores_corrupt,
}


if __name__ == "__main__":
    django.setup()
    command, arguments = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    print(json.dumps(COMMANDS[command](**arguments), default=str))
