"""The staff's review pages: start, our answers, the invitation, the gap view and its
joint actions. Thin: each write is one service, each rule the model's."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from metrics.models import RelationshipScore
from relations.models import Commitment, Relationship
from relations.pages import DateInput, apply_validation_error, staff_required

from . import figures, services
from .models import Language, Review, Side
from .public import AnswerForm


class InviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Send to"), required=False)
    language = forms.ChoiceField(
        label=gettext_lazy("Their language"), choices=Language.choices, initial="en"
    )


class ActionForm(forms.Form):
    description = forms.CharField(label=gettext_lazy("Agreed action"), max_length=300)
    direction = forms.ChoiceField(
        label=gettext_lazy("Who promised"), choices=Commitment.Direction.choices, initial="us"
    )
    due_date = forms.DateField(label=gettext_lazy("Due"), widget=DateInput())


def _review(request: HttpRequest, pk: int) -> Review:
    return get_object_or_404(
        Review.objects.visible_to(request.user).select_related(
            "relationship__stakeholder", "relationship__user"
        ),
        pk=pk,
    )


@staff_required
@require_POST
def review_start(request: HttpRequest, relationship_pk: int) -> HttpResponse:
    relationship = get_object_or_404(
        Relationship.objects.visible_to(request.user).select_related("stakeholder"),
        pk=relationship_pk,
    )
    try:
        review = services.review_start(relationship=relationship, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(relationship.get_absolute_url())
    return redirect(review.get_absolute_url())


@staff_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review(request, pk)
    user = request.user
    earlier = list(
        Review.objects.completed()
        .filter(relationship=review.relationship, completed_at__lt=review.completed_at)
        .order_by("completed_at")
        if review.completed_at
        else []
    )
    score = RelationshipScore.objects.filter(relationship=review.relationship).first()
    if not review.relationship.scores_visible_to(user):
        score = None
    context = {
        "review": review,
        "relationship": review.relationship,
        "stakeholder": review.stakeholder,
        "rows": figures.gap_rows(review, earlier),
        "open_answers": figures.open_answers(review),
        "mean_words": figures.mean_gap_sentence(review.mean_gap),
        "mean_points": figures.gap_points(review.mean_gap),
        "score": score,
        "invitations": list(review.invitations.all()[:5]),
        "actions": list(review.actions.select_related("commitment__responsible")),
        "can_answer": review.ours_answerable_by(user),
        "can_invite": review.invitable_by(user),
        "can_add_action": review.actions_editable_by(user),
        "invite_form": InviteForm(initial={"email": review.stakeholder.email, "language": "en"}),
        "action_form": ActionForm(),
    }
    return render(request, "reviews/review_detail.html", context)


@staff_required
def review_answer_ours(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review(request, pk)
    if not review.ours_answerable_by(request.user):
        raise PermissionDenied
    questions = services.questions()
    language = request.LANGUAGE_CODE
    form = AnswerForm(questions=questions, side=Side.OURS, language=language)
    status = 200
    if request.method == "POST":
        form = AnswerForm(request.POST, questions=questions, side=Side.OURS, language=language)
        if form.is_valid():
            try:
                services.review_answer_ours(review, by=request.user, answers=form.cleaned_data)
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(request, _("Your answers were saved."))
                return redirect(review.get_absolute_url())
        status = 400
    return render(
        request,
        "reviews/review_answer_ours.html",
        {"review": review, "stakeholder": review.stakeholder, "form": form},
        status=status,
    )


@staff_required
@require_POST
def review_invite(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review(request, pk)
    if not review.invitable_by(request.user):
        raise PermissionDenied
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            services.review_invite(
                review,
                by=request.user,
                email=form.cleaned_data["email"],
                language=form.cleaned_data["language"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The invitation is on its way."))
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect(review.get_absolute_url())


@staff_required
@require_POST
def review_action_add(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review(request, pk)
    if not review.actions_editable_by(request.user):
        raise PermissionDenied
    form = ActionForm(request.POST)
    if form.is_valid():
        try:
            services.review_action_add(review, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The action was added as a commitment."))
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect(review.get_absolute_url() + "#actions")
