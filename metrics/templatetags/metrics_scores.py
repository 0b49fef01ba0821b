"""Template helpers of the scores panel: labelled figures with their explanations."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from metrics.formatting import (
    BAND_FAIR,
    BAND_LABELS,
    BAND_STRONG,
    NO_RETURN,
    SCORE_NAMES,
    balance_words,
    format_money,
    localized,
    medium_date,
    no_return_recorded,
    number,
    risk_reason,
    ror,
    score_html,
    score_words,
)
from metrics.models import CurrentScore
from metrics.pulse import PulseGap, sparkline_points

register = template.Library()
# The at-risk reasons in the reader's language, as on the dashboards.
register.filter("risk_reason", risk_reason)

register.filter("balance_words", balance_words)
register.filter("medium_date", medium_date)


@register.filter(is_safe=True)
def score(value: Any, kind: str = "trust") -> str:
    """A 0–1 score as its 0–100 badge with band word, colour and definition."""
    return score_html(value, kind)


@register.filter(is_safe=True)
def score_number(value: Any, kind: str = "trust") -> str:
    """The compact badge (number and colour; the band word for screen readers only)."""
    return score_html(value, kind, words=False)


@register.filter(is_safe=True)
def score_in_link(value: Any, kind: str = "trust") -> str:
    """The badge inside a link, which holds the focus itself."""
    return score_html(value, kind, focus=False)


register.filter("score_words", score_words)
register.filter("no_return", no_return_recorded)


@register.filter
def points_words(value: Any) -> str:
    """A figure already on the 0–100 scale (a slider's) as "30 weak"."""
    try:
        return score_words(float(value) / 100)
    except (TypeError, ValueError):
        return "—"


@register.simple_tag
def score_band_data() -> str:
    """The bands as data attributes, for scripts that word a 0–100 figure as the pages do."""
    return format_html(
        'data-strong-from="{}" data-fair-from="{}" data-strong="{}" data-fair="{}" data-weak="{}"',
        BAND_STRONG,
        BAND_FAIR,
        BAND_LABELS["strong"],
        BAND_LABELS["fair"],
        BAND_LABELS["weak"],
    )


@register.simple_tag(takes_context=True)
def ror_figure(
    context: template.Context, value: Any, return_value: Any, record: bool = False, **prefill: Any
) -> str:
    """Return on relationship as every page shows it (DESIGN §5b): a percentage, or
    "No return recorded yet" instead of −100 % when the window holds no return; with
    `record`, and for a reader who may record one, a link to recording an outcome
    (`stakeholder=` or `goal=` fill in the form)."""
    from django.urls import reverse
    from django.utils.http import urlencode

    from relations.roles import is_staff_member

    if not no_return_recorded(value, return_value):
        return ror(value)
    text = format_html('<span class="ror-none">{}</span>', NO_RETURN)
    user = context["request"].user if "request" in context else None
    if not record or user is None or not is_staff_member(user):
        return text
    query = urlencode({key: pk for key, pk in prefill.items() if pk})
    return format_html(
        '{} <a class="ror-record" href="{}{}">{}</a>',
        text,
        reverse("outcome-create"),
        f"?{query}" if query else "",
        _("Record an outcome"),
    )


# (field on the model, key in the explanation, label, how to show it)
PANEL_ROWS = [
    ("trust", "trust", _("Trust"), "score"),
    ("reciprocity", "reciprocity", _("Reciprocity"), "score"),
    ("strength", "strength", _("Strength"), "score"),
    ("sentiment", "sentiment", _("Sentiment"), "score"),
    ("reliability", "reliability", _("Reliability"), "score"),
    ("given", "given", _("Given"), "amount"),
    ("received", "received", _("Received"), "amount"),
    ("investment", "investment", _("Investment"), "money"),
    ("return_value", "return", _("Return"), "money"),
    ("ror", "ror", _("Return on relationship"), "percent"),
]


def _shown(value: float | None, how: str, key: str) -> str:
    if how == "score":
        return score_html(value, key, focus=False)
    if value is None:
        return "—"
    # Formatted for the active language ("1.234", "0,57"), like the dashboards.
    if how == "money":
        return format_money(value)
    if how == "percent":
        return ror(value)
    return localized(value, 1)


@register.simple_tag(takes_context=True)
def score_rows(context: template.Context, score: CurrentScore) -> list[dict[str, Any]]:
    """The panel's figures: label, shown value, the explanation in words and its items."""
    explanation = score.explanation or {}
    user = context["request"].user if "request" in context else None
    items = explained_items(explanation, user)
    rows = []
    for field, key, label, how in PANEL_ROWS:
        entry = explanation.get(key) or {}
        value = getattr(score, field)
        row = {
            "key": key,
            "label": label,
            "value": value,
            "shown": _shown(value, how, key),
            "summary": entry_summary(key, entry, score),
            "items": [item_sentence(key, item, items) for item in entry.get("top") or []],
            "no_return": False,
        }
        if key == "ror" and no_return_recorded(value, score.return_value):
            row["no_return"] = True
            row["shown"] = str(NO_RETURN)
        rows.append(row)
    return rows


def explained_items(explanation: dict, user: Any) -> dict[tuple[str, int], Any]:
    """The interactions, commitments and outcomes an explanation names, by (type, id):
    at most one query per type, and only the records the reader may see."""
    from relations.models import Commitment, Interaction, Outcome

    wanted: dict[str, set[int]] = {}
    for entry in explanation.values():
        if isinstance(entry, dict):
            for item in entry.get("top") or []:
                wanted.setdefault(str(item.get("type")), set()).add(int(item.get("id", 0)))
    models = {"interaction": Interaction, "commitment": Commitment, "outcome": Outcome}
    found: dict[tuple[str, int], Any] = {}
    for kind, ids in wanted.items():
        model = models.get(kind)
        if model is None or user is None:
            continue
        for obj in model.objects.visible_to(user).filter(pk__in=ids):
            found[(kind, obj.pk)] = obj
    return found


def _weighted(value: Any) -> str:
    value = number(value)
    return "—" if value is None else localized(abs(value), 1)


def item_sentence(key: str, item: dict, found: dict[tuple[str, int], Any]) -> dict[str, Any]:
    """One "moved most by" item in words: what it was and what it did, never a bare id."""
    kind = str(item.get("type"))
    obj = found.get((kind, int(item.get("id", 0))))
    contribution = number(item.get("contribution")) or 0.0
    url = ""
    if obj is None:
        what = {
            "interaction": _("an interaction you may not see"),
            "commitment": _("a commitment you may not see"),
            "outcome": _("an outcome you may not see"),
        }.get(kind, _("a record you may not see"))
    elif kind == "interaction":
        what = _("%(kind)s on %(date)s: “%(subject)s”") % {
            "kind": obj.get_kind_display(),
            "date": medium_date(obj.occurred_at),
            "subject": obj.subject,
        }
        url = obj.get_absolute_url()
    elif kind == "commitment":
        what = _("commitment due %(date)s: “%(text)s”") % {
            "date": medium_date(obj.due_date),
            "text": obj.description,
        }
    else:
        what = _("%(kind)s outcome on %(date)s%(text)s") % {
            "kind": obj.get_kind_display(),
            "date": medium_date(obj.occurred_on),
            "text": f": “{obj.description[:80]}”" if obj.description else "",
        }
    via = str(item.get("via") or "")
    effect_key = {"reliability": "reliability", "sentiment": "sentiment", "reciprocity": "balance"}
    return {
        "what": str(what),
        "url": url,
        "effect": str(
            item_effect(
                effect_key.get(via, key) if key == "trust" else key,
                contribution,
                via if key == "trust" else "",
            )
        ),
    }


def item_effect(key: str, contribution: float, via: str = "") -> str:
    """What one item did to a score, in a sentence."""
    amount = _weighted(contribution)
    up = contribution > 0
    if key == "given":
        text = _("you gave %(n)s (weighted by recency)") % {"n": amount}
    elif key == "received":
        text = _("they gave %(n)s (weighted by recency)") % {"n": amount}
    elif key in ("reciprocity", "reciprocity_balance", "balance"):
        text = (
            _("you gave more than you received (%(n)s weighted points)")
            if up
            else _("you received more than you gave (%(n)s weighted points)")
        ) % {"n": amount}
    elif key == "strength":
        text = _("added %(n)s to engagement, raising strength") % {"n": amount}
    elif key == "sentiment":
        text = (
            _("a positive tone, raising sentiment")
            if up
            else _("a negative tone, lowering sentiment")
        )
    elif key == "reliability":
        text = (
            _("kept, raising reliability") if up else _("broken or overdue, lowering reliability")
        )
    elif key == "investment":
        text = _("cost %(money)s of time and expenses") % {"money": format_money(abs(contribution))}
    elif key in ("return", "ror"):
        text = (
            _("brought a return of %(money)s") if up else _("cost %(money)s of time and expenses")
        ) % {"money": format_money(abs(contribution))}
    else:
        text = amount
    if via:
        text = _("%(effect)s (through %(score)s)") % {
            "effect": text,
            "score": str(SCORE_NAMES.get(via, via)).lower(),
        }
    return str(text)


def entry_summary(key: str, entry: dict, score: Any) -> str:
    """How a score came about, in a sentence, from its explanation's components."""
    c = entry.get("components") or {}

    def n(name: str) -> str:
        return localized(number(c.get(name)) or 0.0, 1)

    def count(name: str) -> int:
        return int(number(c.get(name)) or 0)

    if key == "trust":
        weights = c.get("weights") or {}
        parts = [
            _("%(score)s %(value)s (weight %(weight)s%%)")
            % {
                "score": str(SCORE_NAMES[name]).lower(),
                "value": score_words(c.get(name)),
                "weight": localized((number(weights.get(name)) or 0.0) * 100, 0),
            }
            for name in ("reliability", "sentiment", "reciprocity")
            if number(c.get(name)) is not None
        ]
        if not parts:
            return str(_("Not enough data yet."))
        return str(_("Combines %(parts)s.") % {"parts": ", ".join(str(p) for p in parts)})
    if key in ("reciprocity", "reciprocity_balance"):
        return str(
            _("You gave %(given)s and received %(received)s (weighted by recency): %(words)s.")
            % {
                "given": _weighted(c.get("given")),
                "received": _weighted(c.get("received")),
                "words": balance_words(score.reciprocity_balance),
            }
        )
    if key in ("given", "received"):
        return str(
            _("Over %(n)d interactions, recent ones counting most.") % {"n": count("interactions")}
        )
    if key == "strength":
        return str(
            _("%(n)d interactions; engagement %(e)s (meetings count most, older contact less).")
            % {"n": count("interactions"), "e": n("engagement")}
        )
    if key == "sentiment":
        return str(
            _("The tone of %(n)d interactions with a sentiment; 50 is neutral.")
            % {"n": count("counted")}
        )
    if key == "reliability":
        return str(
            _("%(n)d commitments counted: kept weigh %(kept)s, broken or overdue %(broken)s.")
            % {"n": count("counted"), "kept": n("kept_weight"), "broken": n("broken_weight")}
        )
    if key == "investment":
        return str(
            _("%(n)d interactions in the last %(days)s days, time at %(rate)s an hour.")
            % {
                "n": count("interactions"),
                "days": localized(number(c.get("window_days")) or 0.0, 0),
                "rate": format_money(number(c.get("hourly_rate"))),
            }
        )
    if key == "return":
        return str(
            _("%(n)d outcomes recorded in the last %(days)s days.")
            % {"n": count("outcomes"), "days": localized(number(c.get("window_days")) or 0.0, 0)}
        )
    if key == "ror":
        return str(
            _("Return %(ret)s against investment %(inv)s.")
            % {
                "ret": format_money(number(c.get("return"))),
                "inv": format_money(number(c.get("investment"))),
            }
        )
    return ""


@register.inclusion_tag("metrics/partials/scores_panel.html", takes_context=True)
def stakeholder_scores_panel(context: dict, stakeholder) -> dict[str, Any]:
    """The stakeholder's stored scores, for those who may see them (DESIGN §7)."""
    from metrics.models import StakeholderScore
    from relations.models import Stakeholder

    user = context["request"].user
    score = StakeholderScore.objects.visible_to(user).filter(stakeholder=stakeholder).first()
    visible = score is not None or (
        Stakeholder.objects.scores_visible_to(user).filter(pk=stakeholder.pk).exists()
    )
    return {
        "score": score,
        "visible": visible,
        "request": context["request"],
        "stakeholder_id": stakeholder.pk,
        "level": "stakeholder",
    }


@register.inclusion_tag("metrics/partials/scores_panel.html", takes_context=True)
def relationship_scores_panel(context: dict, relationship) -> dict[str, Any]:
    """The relationship's stored scores and, beside trust, the latest pulse the viewer
    may see with the review flag: the rows and the flag of the relationships API
    (`relationships_with_review`), so page and API never disagree."""
    from relations.models import AuthenticityPulse, Relationship
    from relations.registry import relationship_review

    user = context["request"].user
    # One query: the row's scores, its latest pulse and the flag.
    row = relationship_review(
        Relationship.objects.filter(pk=relationship.pk).select_related("score"), user
    ).first()
    visible = row is not None and row.scores_visible
    score = getattr(row, "score", None) if visible else None
    pulse = None
    if row is not None and row.latest_pulse_id is not None:
        pulse = AuthenticityPulse.objects.select_related("assessed_by").get(pk=row.latest_pulse_id)
    return {
        "score": score,
        "visible": visible,
        "request": context["request"],
        "stakeholder_id": relationship.stakeholder_id,
        "level": "relationship",
        "pulse": pulse,
        "pulse_flag": pulse_flag_message(
            review_gap(row), own=pulse.assessed_by_id == user.pk, author=pulse.assessed_by
        )
        if pulse is not None
        else "",
    }


def review_gap(row: Any) -> PulseGap | None:
    """The disagreement of a row annotated by `relationships_with_review`, if flagged."""
    if row is None or not row.flagged_for_review:
        return None
    return PulseGap(
        direction=row.review_direction, pulse=row.latest_pulse_score, trust=row.review_trust
    )


def pulse_flag_message(gap: PulseGap | None, *, own: bool = True, author: Any = None) -> str:
    """The review flag in the reader's language, or "" when pulse and trust agree."""
    if gap is None:
        return ""
    numbers = {"pulse": score_words(gap.pulse), "trust": score_words(gap.trust)}
    if own:
        if gap.direction == "higher":
            text = _(
                "Your assessment is higher than the computed trust (%(pulse)s vs %(trust)s): "
                "check recent broken commitments or negative interactions."
            )
        else:
            text = _(
                "Your assessment is lower than the computed trust (%(pulse)s vs %(trust)s): "
                "check that what worries you is logged, as interactions with their "
                "sentiment or as broken commitments."
            )
        return str(text) % numbers
    name = (author.get_full_name() or author.username) if author is not None else ""
    if gap.direction == "higher":
        text = _(
            "%(name)s's assessment is higher than the computed trust (%(pulse)s vs %(trust)s): "
            "check recent broken commitments or negative interactions."
        )
    else:
        text = _(
            "%(name)s's assessment is lower than the computed trust (%(pulse)s vs %(trust)s): "
            "check that what worries them is logged, as interactions with their "
            "sentiment or as broken commitments."
        )
    return str(text) % {**numbers, "name": name}


@register.simple_tag
def pulse_sparkline(pulses: list, width: int = 120, height: int = 28) -> str:
    """The trend of pulse scores (given newest first, drawn oldest first) as inline SVG."""
    values = [p.score for p in reversed(list(pulses))]
    if not values:
        return ""
    label = _("Pulse from %(first)s to %(last)s over %(n)d assessments") % {
        "first": score_words(values[0]),
        "last": score_words(values[-1]),
        "n": len(values),
    }
    # Presentation attributes, not a style attribute: the strict CSP allows them.
    return format_html(
        '<svg class="sparkline pulse-sparkline" role="img" aria-label="{}" viewBox="0 0 {} {}" '
        'width="{}" height="{}"><title>{}</title><polyline points="{}" fill="none" '
        'stroke="currentColor" stroke-width="1.5" /></svg>',
        label,
        width,
        height,
        width,
        height,
        label,
        sparkline_points(values, width, height),
    )
