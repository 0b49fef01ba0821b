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
    figures = {
        name: localized(float(number), 2) if "." in number else number
        for name, number in zip(names, numbers, strict=True)
    }
    return str(text) % figures
