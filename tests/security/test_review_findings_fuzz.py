"""Security review, item 13: a fuzz pass over every route of the project.

Every URL pattern (django.urls' resolver, admin and API included) is requested
with each path parameter replaced by a NUL character, a lone surrogate, overlong
text and digits, a 20-digit and a negative number; routes without parameters get
out-of-range dates and numbers (and NULs, surrogates, overlong text) in the query
parameters the project's lists and pages read. As an anonymous visitor, a
signed-in manager and with a manager's API token: no answer may be a 500.

An ordinary test module: CI runs the suite on PostgreSQL (NUL and surrogate
handling differ from SQLite there), and it stays well under a minute.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from knox.models import AuthToken

from tests.factories import InteractionFactory

pytestmark = pytest.mark.django_db

# Path parameter values, as they appear in a URL (percent-encoded where needed).
PATH_VALUES = {
    "nul": "%00",
    "surrogate": "%ED%A0%80",
    "overlong-text": "a" * 1000,
    "overlong-digits": "9" * 1000,
    "20-digits": "9" * 20,
    "negative": "-1",
    "negative-20-digits": "-" + "9" * 20,
}
# The query parameters the project's pages and lists read (request.GET and the
# filter sets), by kind.
DATE_PARAMS = [
    "occurred_after",
    "occurred_before",
    "due_after",
    "due_before",
    "due_from",
    "due_to",
    "since",
    "until",
    "as_of",
    "period",
]
NUMBER_PARAMS = [
    "page",
    "user",
    "stakeholder",
    "organization",
    "owner",
    "team",
    "goal",
    "tag",
    "responsible",
    "successor",
    "sole_thread",
    "importance",
    "min_strength",
    "object_id",
    "other",
    "version",
    "participant",
    "created_by",
    "credited_to",
    "interaction",
    "from_stakeholder",
    "to_stakeholder",
    "actor",
]
TEXT_PARAMS = [
    "q",
    "search",
    "sort",
    "ordering",
    "show",
    "next",
    "status",
    "kind",
    "role",
    "fragment",
    "figure",
    "balance",
    "colour",
    "action",
    "object_type",
    "contact",
    "decision",
    "at_risk",
    "direction",
]
DATE_VALUES = [
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00%2B14:00",
    "99999-99-99",
    "%00",
]
NUMBER_VALUES = ["9" * 20, "-" + "9" * 20, "1e309", "NaN", "-1", "%00"]
TEXT_VALUES = ["%00", "%ED%A0%80", "a" * 1000]

_GROUP = re.compile(r"\(\?P<(\w+)>[^()]*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def _template(route: str) -> str:
    """A route of either syntax as a string with `{name}` for each parameter."""
    route = _GROUP.sub(r"{\1}", route)  # first: a group's name looks like a converter
    route = _CONVERTER.sub(r"{\1}", route)
    route = route.replace("^", "").replace("$", "").replace("/?", "/")
    return "/" + route.replace("\\.", ".").replace("\\", "")


def routes() -> list[str]:
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                found.append(_template(prefix + str(entry.pattern)))

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def _params(template: str) -> list[str]:
    return [p for p in re.findall(r"\{(\w+)\}", template) if p != "format"]


def _fill(template: str, value: str, *, bad: str | None = None) -> str:
    """Every parameter `value`, or only `bad` (the others a plausible id)."""
    url = template.replace("{format}", "json")
    for name in _params(template):
        url = url.replace("{" + name + "}", value if bad in (None, name) else "1")
    return url


def path_cases(template: str) -> Iterator[str]:
    names = _params(template)
    for value in PATH_VALUES.values():
        yield _fill(template, value)
        if len(names) > 1:
            for name in names:
                yield _fill(template, value, bad=name)


def query_cases(url: str) -> Iterator[str]:
    """Every value of a kind in every parameter of that kind at once; one kind per
    request, so that a refused date (a 400) hides no crash on a number."""
    for names, values in (
        (DATE_PARAMS, DATE_VALUES),
        (NUMBER_PARAMS, NUMBER_VALUES),
        (TEXT_PARAMS, TEXT_VALUES),
    ):
        for value in values:
            yield f"{url}?{'&'.join(f'{name}={value}' for name in names)}"


# Routes that take no query parameters and cost seconds to answer (the OpenAPI
# schema is generated on each request): asked once.
EXPENSIVE = {"/api/schema/"}


@pytest.fixture
def identities(manager, stakeholder, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": None}}
    InteractionFactory(participants=[manager], with_stakeholders=[stakeholder])
    session = Client(raise_request_exception=False)
    session.force_login(manager)
    _row, key = AuthToken.objects.create(user=manager)
    token = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {key}")
    return {"anonymous": Client(raise_request_exception=False), "manager": session, "token": token}


def test_no_route_answers_500_to_hostile_ids_and_query_parameters(identities):
    templates = routes()
    assert len(templates) > 300, "every pattern of the project, admin and API included"
    failures: list[tuple[str, str, str, int]] = []
    requests = 0

    def check(who: str, method: str, url: str) -> None:
        """One request in a savepoint: on PostgreSQL a failed statement would abort
        the test's transaction, and every later request would fail with it."""
        nonlocal requests
        requests += 1
        try:
            with transaction.atomic():
                status = getattr(identities[who], method)(url).status_code
        except DatabaseError:
            status = 500  # the view swallowed a database error the savepoint met
        if status >= 500:
            failures.append((who, method, url[:160], status))

    for template in templates:
        admin = template.startswith("/admin/")
        if _params(template):
            for url in path_cases(template):
                # The admin lets none of these identities in (staff only): it sends
                # them all to its sign-in page before reading any id; one suffices.
                for who in ["manager"] if admin else identities:
                    check(who, "get", url)
                # Writes look the object up the same way: signed-in callers only (an
                # anonymous write is refused before any look-up).
                if not admin:
                    check("manager", "post", url)
                    check("token", "post", url)
        elif not admin and "{format}" not in template:
            url = _fill(template, "")
            if url.rstrip("/").endswith(("logout", "setlang")):
                continue  # signing out would turn the session into an anonymous one
            if url in EXPENSIVE:
                check("token", "get", next(query_cases(url)))
                continue
            for query_url in query_cases(url):
                for who in identities:
                    check(who, "get", query_url)
    print("FUZZ", len(templates), "routes", requests, "requests")
    assert requests > 4000
    for failure in failures:
        print("FAIL", failure[0], failure[1], failure[2][:60], failure[3])
    assert failures == []
