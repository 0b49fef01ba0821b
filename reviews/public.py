"""The stakeholder's answer page, `/r/<link>/`: no account, nothing else of Rapport.

Every link that does not name a usable invitation (wrong, tampered, guessed,
expired, used, or its review closed) gets the same page with the same status, so
the page tells a guesser nothing. Requests are counted per address and per link;
past the limit the answer is 429 with that same page.
"""

from __future__ import annotations

import hashlib
import logging

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from relations.models import Stakeholder

from . import services
from .models import Language, ReviewInvitation, Side

logger = logging.getLogger(__name__)

RATE_WINDOW_SECONDS = 600
SCORE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]


def _client_address(request: HttpRequest) -> str:
    from accounts.security import client_ip

    return client_ip(request) or "unknown"


def _over_limit(request: HttpRequest, link: str) -> bool:
    """Count this request against its address and its link; fail open without a cache."""
    limit = settings.RAPPORT_REVIEW_PAGE_RATE
    link_key = hashlib.sha256(link.encode()).hexdigest()[:32]
    keys = [f"reviews:page:addr:{_client_address(request)}", f"reviews:page:link:{link_key}"]
    try:
        over = False
        for key in keys:
            cache.add(key, 0, RATE_WINDOW_SECONDS)
            over = cache.incr(key) > limit or over
        return over
    except Exception:  # noqa: BLE001 -- the cache (Redis) is down
        logger.warning("Review page rate limit skipped: the cache is unavailable")
        return False


class AnswerForm(forms.Form):
    """The questionnaire, one field per active question (scale as radios 1–5)."""

    def __init__(self, *args, questions, side: str, language: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            if question.is_scale:
                self.fields[question.key] = forms.ChoiceField(
                    label=question.prompt(side, language),
                    choices=SCORE_CHOICES,
                    widget=forms.RadioSelect,
                )
            else:
                self.fields[question.key] = forms.CharField(
                    label=question.prompt(side, language),
                    required=False,
                    max_length=services.OPEN_TEXT_MAX,
                    widget=forms.Textarea(attrs={"rows": 3}),
                )

    def scale_fields(self):
        return [self[q.key] for q in self.questions if q.is_scale]

    def open_fields(self):
        return [self[q.key] for q in self.questions if not q.is_scale]


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=services.DECLINE_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    # The link is the credential: never sent to another site as a referrer, never cached
    # or indexed. (Not "no-referrer": the form's POST would then carry `Origin: null`,
    # which the CSRF check refuses.)
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _unusable(request: HttpRequest, language: str, status: int = 404) -> HttpResponse:
    with translation.override(language):
        return _page(request, "reviews/public/unusable.html", {"lang": language}, status=status)


def _language(request: HttpRequest, invitation: ReviewInvitation | None) -> str:
    chosen = request.POST.get("lang") or request.GET.get("lang") or ""
    if chosen in Language.values:
        return chosen
    if invitation is not None:
        return invitation.language
    # A dead link says nothing of its invitation, its language included: the browser's.
    browser = (getattr(request, "LANGUAGE_CODE", "") or "en")[:2]
    return browser if browser in Language.values else "en"


@never_cache
@csrf_protect
def review_answer(request: HttpRequest, link: str) -> HttpResponse:
    if _over_limit(request, link):
        return _unusable(request, _language(request, None), status=429)
    invitation = services.invitation_for_link(link)
    language = _language(request, invitation)
    if invitation is None:
        return _unusable(request, language)
    with translation.override(language):
        questions = services.questions()
        form = AnswerForm(questions=questions, side=Side.THEIRS, language=language)
        decline_form = DeclineForm()
        if request.method == "POST":
            try:
                if request.POST.get("decline"):
                    decline_form = DeclineForm(request.POST)
                    if decline_form.is_valid():
                        services.review_decline(
                            invitation, reason=decline_form.cleaned_data["reason"]
                        )
                        return _page(
                            request,
                            "reviews/public/thanks.html",
                            {"lang": language, "declined": True},
                        )
                else:
                    form = AnswerForm(
                        request.POST, questions=questions, side=Side.THEIRS, language=language
                    )
                    if form.is_valid():
                        try:
                            services.review_answer_theirs(
                                invitation, answers=form.cleaned_data, language=language
                            )
                        except ValidationError as error:
                            for field, messages in error.message_dict.items():
                                form.add_error(field if field in form.fields else None, messages)
                        else:
                            return _page(request, "reviews/public/thanks.html", {"lang": language})
            except PermissionDenied:
                return _unusable(request, language)
        stakeholder = invitation.review.stakeholder
        owner = invitation.review.relationship.user
        context = {
            "lang": language,
            "form": form,
            "decline_form": decline_form,
            "stakeholder_name": stakeholder.name,
            "owner_name": owner.get_full_name() or owner.username,
            "legal_basis": Stakeholder.LegalBasis(invitation.legal_basis).label,
            "expires_at": invitation.expires_at,
            "controller": settings.RAPPORT_CONTROLLER,
            "languages": [(code, name) for code, name in Language.choices],
        }
        return _page(
            request,
            "reviews/public/answer.html",
            context,
            status=400 if request.method == "POST" else 200,
        )
