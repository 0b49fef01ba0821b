"""What a test may change in the provider while it runs: a misbehaviour (`quirk`), a
user's groups, a user's second factor. Guarded by a token only the fixture knows."""

import hmac
import json
import os

from django.contrib.auth.models import Group, User
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

QUIRKS = {"", "wrong_audience", "unknown_issuer", "expired", "bad_signature", "wrong_nonce"}
_state = {"quirk": ""}


def current_quirk() -> str:
    return _state["quirk"]


@csrf_exempt
@require_POST
def control(request):
    if not hmac.compare_digest(
        request.headers.get("X-Control-Token", ""), os.environ["PROVIDER_CONTROL_TOKEN"]
    ):
        return HttpResponseForbidden()
    order = json.loads(request.body)
    if "quirk" in order:
        if order["quirk"] not in QUIRKS:
            return HttpResponse(status=400)
        _state["quirk"] = order["quirk"]
    if "user" in order:
        user = User.objects.get(username=order["user"])
        if "groups" in order:
            user.groups.set([Group.objects.get_or_create(name=n)[0] for n in order["groups"]])
    return JsonResponse({"quirk": _state["quirk"]})
