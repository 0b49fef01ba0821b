"""How figures read on the pages: numbers, money, returns and at-risk reasons in the
active language. Used by the template tags of metrics and of the apps above it."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import get_language, gettext_lazy


def localized(value: float, places: int, *, grouping: bool = False) -> str:
    """A number rounded to `places` decimals in the active language's format ("1.234,50").

    Django's number_format cuts extra decimals off instead of rounding: round first
    (adding 0.0 turns a rounded -0.0 into 0.0).
    """
    return number_format(round(value, places) + 0.0, places, force_grouping=grouping)


# Symbols of the common currencies; any other shows as its ISO code.
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF", "JPY": "¥"}


def format_money(value: float | None, places: int = 0) -> str:
    """An amount with the currency symbol where the active language puts it.

    Dutch writes "€ 1.234,50" (symbol, space, amount; minus before the symbol),
    English "€1,234.50".
    """
    if value is None:
        return "—"
    code = getattr(settings, "RAPPORT_CURRENCY", "EUR")
    symbol = CURRENCY_SYMBOLS.get(code, code)
    amount = localized(abs(value), places, grouping=True)
    sign = "−" if round(value, places) < 0 else ""
    if (get_language() or "en").startswith("nl") or len(symbol) > 1:
        return f"{sign}{symbol}\u00a0{amount}"
    return f"{sign}{symbol}{amount}"


def number(value: Any) -> float | None:
    """A figure, or None when missing (a failed template lookup gives '')."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return float(value)


def ror(value: float | None) -> str:
    value = number(value)
    if value is None:
        return "—"
    sign = "+" if value * 100 >= 0.5 else ""
    return f"{sign}{localized(value * 100, 0)}%"


# With nothing recorded in the window RoR is −100 %, which only says that: pages
# say so instead and offer to record an outcome (DESIGN §5b).
NO_RETURN = gettext_lazy("No return recorded yet")


def no_return_recorded(value: Any, return_value: Any) -> bool:
    """True for an RoR (there is an investment) whose return is nothing."""
    return number(value) is not None and not (number(return_value) or 0)


# The stored at-risk reasons (metrics.scoring.risk_reasons) carry an English
# message written by the worker; the page shows it in the reader's language,
# rebuilt from the reason's code and the figures in that message.
_REASON_NUMBERS = re.compile(r"-?\d+(?:\.\d+)?")
_REASON_TEXTS: dict[str, tuple[tuple[str, ...], Any]] = {
    "low_trust": (("trust", "limit"), gettext_lazy("Trust %(trust)s is below %(limit)s")),
    "trust_falling": (
        ("before", "now", "days", "drop"),
        gettext_lazy(
            "Trust fell from %(before)s to %(now)s over %(days)s days (by %(drop)s or more)"
        ),
    ),
    "key_overdue": (
        ("days", "percent", "cadence"),
        gettext_lazy(
            "Key stakeholder last contacted %(days)s days ago, "
            "more than %(percent)s%% past its %(cadence)s-day cadence"
        ),
    ),
    "low_reciprocity": (
        ("reciprocity", "limit"),
        gettext_lazy("Reciprocity %(reciprocity)s is below %(limit)s"),
    ),
}


_POINTS = {"trust", "limit", "before", "now", "drop", "reciprocity"}


def risk_reason(reason: Any) -> str:
    """An at-risk reason in the active language; its stored message when unknown."""
    if not isinstance(reason, dict):
        return str(reason)
    message = str(reason.get("message", ""))
    known = _REASON_TEXTS.get(str(reason.get("code", "")))
    numbers = _REASON_NUMBERS.findall(message)
    if known is None or len(numbers) != len(known[0]):
        return message
    names, text = known
    # Scores and their limits read 0–100 like everywhere else (DESIGN §5b).
    figures = {
        name: localized(float(number) * 100, 0) if name in _POINTS else number
        for name, number in zip(names, numbers, strict=True)
    }
    return str(text) % figures


# --- Scores in words (DESIGN §5b) -----------------------------------------------------
# Every 0–1 score on a page is shown ×100, rounded, with one band word and colour;
# the bands apply to the rounded number, so a page never shows "70 fair".
BAND_STRONG = 70
BAND_FAIR = 40
# |balance| below this reads as "balanced" (DESIGN §5b).
BALANCE_EVEN = 0.2

BAND_LABELS = {
    "strong": gettext_lazy("strong"),
    "fair": gettext_lazy("fair"),
    "weak": gettext_lazy("weak"),
}

SCORE_NAMES = {
    "trust": gettext_lazy("Trust"),
    "strength": gettext_lazy("Strength"),
    "sentiment": gettext_lazy("Sentiment"),
    "reliability": gettext_lazy("Reliability"),
    "reciprocity": gettext_lazy("Reciprocity"),
    "health": gettext_lazy("Health index"),
}

SCORE_DEFINITIONS = {
    "trust": gettext_lazy(
        "Trust, 0–100: reliability, sentiment and reciprocity combined; "
        "strong from 70, weak below 40."
    ),
    "strength": gettext_lazy(
        "Strength, 0–100: how much recent contact there is, meetings counting most "
        "and older contact less; strong from 70, weak below 40."
    ),
    "sentiment": gettext_lazy(
        "Sentiment, 0–100: the tone of recent interactions (50 is neutral); "
        "strong from 70, weak below 40."
    ),
    "reliability": gettext_lazy(
        "Reliability, 0–100: the share of commitments kept (overdue ones count as "
        "broken), recent ones counting most; strong from 70, weak below 40."
    ),
    "reciprocity": gettext_lazy(
        "Reciprocity, 0–100: how evenly give and take are balanced (100 is even); "
        "strong from 70, weak below 40."
    ),
    "health": gettext_lazy("Health index, 0–100: the network's overall condition."),
    "path": gettext_lazy(
        "Path strength, 0–100: the strengths of the ties along the path multiplied; "
        "strong from 70, weak below 40."
    ),
}


def score_points(value: Any) -> int | None:
    """A 0–1 score as the whole number 0–100 every page shows, or None."""
    value = number(value)
    return None if value is None else int(round(value * 100))


def score_band(value: Any) -> str | None:
    """ "strong", "fair" or "weak" for a 0–1 score (on its rounded 0–100 form)."""
    points = score_points(value)
    if points is None:
        return None
    if points >= BAND_STRONG:
        return "strong"
    if points >= BAND_FAIR:
        return "fair"
    return "weak"


def score_words(value: Any) -> str:
    """A 0–1 score in plain text: "67 fair", or "—"."""
    points = score_points(value)
    if points is None:
        return "—"
    return f"{localized(points, 0)}\u00a0{BAND_LABELS[score_band(value) or 'weak']}"


def score_html(value: Any, kind: str = "trust", *, words: bool = True, focus: bool = True) -> str:
    """A score as a badge: number, band word and colour; its definition on hover or focus."""
    from django.utils.html import format_html
    from django.utils.safestring import mark_safe

    definition = SCORE_DEFINITIONS.get(kind, "")
    # Inside a link or a <summary> the control takes the focus (no nested focus stops).
    tabindex = mark_safe(' tabindex="0"') if focus else ""
    points = score_points(value)
    if points is None:
        return format_html(
            '<span class="score score-none"{} data-definition="{}" title="{}">'
            '—<span class="visually-hidden"> {}</span></span>',
            tabindex,
            definition,
            definition,
            gettext_lazy("not enough data"),
        )
    band = score_band(value) or "weak"
    return format_html(
        '<span class="score score-{}"{} data-definition="{}" title="{}">'
        '<span class="score-value">{}</span>{}</span>',
        band,
        tabindex,
        definition,
        definition,
        localized(points, 0),
        format_html(' <span class="score-band">{}</span>', BAND_LABELS[band])
        if words
        else format_html('<span class="visually-hidden"> {}</span>', BAND_LABELS[band]),
    )


def balance_words(balance: Any) -> str:
    """The reciprocity balance in words (positive: we give more)."""
    value = number(balance)
    if value is None:
        return str(gettext_lazy("no give and take recorded yet"))
    if abs(value) < BALANCE_EVEN:
        return str(gettext_lazy("balanced"))
    if value > 0:
        return str(gettext_lazy("you give more"))
    return str(gettext_lazy("they give more"))


def medium_date(value: Any) -> str:
    """A date (or datetime, in the current time zone) in the locale's medium form."""
    from django.utils import timezone
    from django.utils.formats import date_format

    if value is None:
        return "—"
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return date_format(value, "SHORT_DATE_FORMAT")
