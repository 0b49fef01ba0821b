"""OpenAPI: document the error answers every operation can give, not only the 2xx."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.openapi import AutoSchema

ERROR_BODY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": True,
    "description": (
        'Field errors as `{"field": ["message"]}`, or `{"detail": "message"}` '
        "for errors not tied to a field."
    ),
    "example": {"stakeholders": ["This list may not be empty."]},
}

COMMON_ERRORS = {
    "400": "Invalid input; the body names each offending field. Nothing was saved.",
    "401": "No or invalid credentials (`Authorization: Token <key>`).",
    "403": "Authenticated, but not allowed to do this to a record you may see.",
    "404": "No such record, or one you may not see.",
    "429": "Too many requests for this token; retry after `Retry-After` seconds.",
}
WRITE_ERRORS = {
    "409": "Edit conflict: the record changed since the `version` (or `If-Match`) you sent.",
}
CREATE_ERRORS = {
    "422": "The `Idempotency-Key` was already used for a different request.",
}


class RapportTokenScheme(KnoxTokenScheme):
    """knox's security scheme (`knoxApiToken`) for its one-query subclass."""

    target_class = "accounts.authentication.TokenAuthentication"


class RapportSessionScheme(SessionScheme):
    """The session cookie (`cookieAuth`) for the subclass that also asks for the second factor."""

    target_class = "accounts.authentication.SessionAuthentication"


class RapportAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        errors = dict(COMMON_ERRORS)
        if self.method in {"PUT", "PATCH"}:
            errors.update(WRITE_ERRORS)
        if self.method == "POST":
            errors.update(CREATE_ERRORS)
            errors.update(WRITE_ERRORS)
        for code, description in errors.items():
            if code not in responses:
                responses[code] = {
                    "content": {"application/json": {"schema": ERROR_BODY}},
                    "description": description,
                }
        return responses


def add_links(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """OpenAPI links from each create to the detail operations of what it created.

    Clients and tools (schemathesis' stateful phase) follow them: POST a record,
    then read, change and delete it by the `id` it answered.
    """
    paths = result.get("paths", {})
    for path, operations in paths.items():
        detail = paths.get(f"{path}{{id}}/")
        created = operations.get("post", {}).get("responses", {}).get("201")
        if not detail or not created:
            continue
        parameters = {"id": "$response.body#/id"}
        # A nested collection (e.g. a relationship's pulses): its parent id comes along.
        for name in re.findall(r"{(\w+)}", path):
            parameters[name] = f"$request.path.{name}"
        created["links"] = {
            f"{method.capitalize()}Created": {
                "operationId": operation["operationId"],
                "parameters": parameters,
            }
            for method, operation in detail.items()
            if method in {"get", "put", "patch", "delete"}
        }
    return result
