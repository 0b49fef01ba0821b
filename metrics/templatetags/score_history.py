"""The "Trust over time" panel of the stakeholder and relationship pages: the chart's
data, its text alternative and the annotated changes in words (DESIGN §5b)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, json_script
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from metrics import timeline
from metrics.formatting import SCORE_NAMES, medium_date, score_band, score_points, score_words
from relations.models import Relationship

register = template.Library()
register.filter("score_words", score_words)
register.filter("medium_date", medium_date)

# The query parameter of the span, on both pages.
DAYS_PARAMETER = "history"
# Chart colours: the lines by score, the marks of changes, the points of assessments.
LINE_COLOURS = {"trust": "#0d6efd", "reliability": "#198754", "reciprocity": "#b35c00"}
POINT_COLOURS = ("#6f42c1", "#d63384", "#495057")
MARK_COLOUR = "#dc3545"


def move_words(move: timeline.ScoreMove, first: bool) -> str:
    name = str(SCORE_NAMES.get(move.score, move.score))
    name = name if first else name.lower()
    if move.before is None:
        return _("%(score)s first measured at %(after)s") % {
            "score": name,
            "after": score_words(move.after),
        }
    text = _("%(score)s rose from %(before)s to %(after)s") if move.rose else None
    text = text or _("%(score)s fell from %(before)s to %(after)s")
    return text % {
        "score": name,
        "before": score_words(move.before),
        "after": score_words(move.after),
    }


def annotation_parts(annotation: timeline.Annotation) -> dict[str, Any]:
    """An annotated change for the page: the moves in one sentence, and the events after
    which they happened (or the assessment) with their record's text and link."""
    moves = [move_words(m, i == 0) for i, m in enumerate(annotation.moves)]
    return {
        "day": annotation.day,
        "moves": "; ".join(moves),
        "rose": all(m.rose for m in annotation.moves),
        "events": [
            {
                "label": event.label,
                "title": event.title,
                "url": event.url,
                "score": event.score,
            }
            for event in annotation.events
        ],
        "assessment": not annotation.moves,
    }


def chart_spec(history: timeline.ScoreHistory) -> dict[str, Any]:
    """Chart.js data for static/js/charts.js: one label per day of the span (medium
    dates, never numeric), the watched scores as 0–100 lines, the days of marked
    changes and the assessments as points."""
    from datetime import timedelta

    scope = history.scope
    days = [scope.first + timedelta(days=i) for i in range((scope.last - scope.first).days + 1)]
    index = {day: i for i, day in enumerate(days)}
    by_day = {row["date"]: row for row in history.rows}
    datasets: list[dict[str, Any]] = []
    for name in timeline.WATCHED:
        datasets.append(
            {
                "label": str(SCORE_NAMES[name]),
                "data": [score_points((by_day.get(day) or {}).get(name)) for day in days],
                "borderColor": LINE_COLOURS[name],
                "backgroundColor": LINE_COLOURS[name],
                "borderWidth": 2,
            }
        )
    marks: list[int | None] = [None] * len(days)
    for annotation in history.annotations:
        if annotation.moves and annotation.day in index:
            marks[index[annotation.day]] = score_points(annotation.moves[0].after)
    datasets.append(
        {
            "label": _("Marked change"),
            "data": marks,
            "showLine": False,
            "pointRadius": 6,
            "pointStyle": "triangle",
            "borderColor": MARK_COLOUR,
            "backgroundColor": MARK_COLOUR,
        }
    )
    series: dict[str, list[int | None]] = {}
    for event in history.points:
        if event.day in index:
            data = series.setdefault(event.series or event.kind, [None] * len(days))
            data[index[event.day]] = score_points(event.score)
    for i, (label, data) in enumerate(series.items()):
        colour = POINT_COLOURS[i % len(POINT_COLOURS)]
        datasets.append(
            {
                "label": label,
                "data": data,
                "showLine": False,
                "pointRadius": 5,
                "pointStyle": "rectRot",
                "borderColor": colour,
                "backgroundColor": colour,
            }
        )
    return {
        "type": "line",
        "labels": [medium_date(day) for day in days],
        "datasets": datasets,
        "yMin": 0,
        "yMax": 100,
        "yTitle": _("Score, 0–100"),
    }


def chart_summary(history: timeline.ScoreHistory) -> str:
    """The chart in one sentence: where each line started and ended, and how many
    changes are marked (listed below the chart)."""
    parts = []
    for name in timeline.WATCHED:
        values = [(row["date"], row[name]) for row in history.rows if row[name] is not None]
        if not values:
            continue
        (first_day, first), (last_day, last) = values[0], values[-1]
        label = str(SCORE_NAMES[name])
        parts.append(
            _("%(score)s from %(first)s on %(first_day)s to %(last)s on %(last_day)s")
            % {
                "score": label if not parts else label.lower(),
                "first": score_words(first),
                "first_day": medium_date(first_day),
                "last": score_words(last),
                "last_day": medium_date(last_day),
            }
        )
    marked = sum(1 for a in history.annotations if a.moves)
    return _("%(scores)s. %(n)s marked changes, listed below the chart.") % {
        "scores": "; ".join(parts) or _("No scores in this span"),
        "n": marked,
    }


def _range_links(request: Any, days: int) -> list[dict[str, Any]]:
    links = []
    for choice in timeline.HISTORY_DAY_CHOICES:
        query = request.GET.copy()
        query[DAYS_PARAMETER] = str(choice)
        links.append(
            {
                "days": choice,
                "url": f"?{urlencode(sorted(query.items()))}#trust-history",
                "current": choice == days,
            }
        )
    return links


def _panel(context: Any, history: timeline.ScoreHistory | None, level: str) -> dict[str, Any]:
    request = context["request"]
    values: dict[str, Any] = {
        "request": request,
        "csp_nonce": context.get("csp_nonce"),
        "visible": history is not None,
        "level": level,
    }
    if history is None:
        return values
    annotations = [annotation_parts(a) for a in history.annotations]
    values.update(
        history=history,
        days=history.days,
        has_rows=bool(history.rows),
        chart=chart_spec(history),
        chart_id=f"trust-history-{level}",
        summary=chart_summary(history),
        annotations=annotations[: timeline.LISTED_ANNOTATIONS],
        not_listed=max(0, len(annotations) - timeline.LISTED_ANNOTATIONS),
        range_links=_range_links(request, history.days),
        threshold=timeline.MOVE_POINTS,
        table=[
            {
                "day": row["date"],
                "scores": [row[name] for name in (*timeline.WATCHED, "strength")],
            }
            for row in reversed(history.rows)
        ],
        table_header=[str(SCORE_NAMES[n]) for n in (*timeline.WATCHED, "strength")],
    )
    return values


def stakeholder_history_panel(context: Any, stakeholder: Any) -> dict[str, Any]:
    """The stakeholder-level history, for those who may see the stakeholder's scores."""
    user = context["request"].user
    days = timeline.history_days(context["request"].GET.get(DAYS_PARAMETER))
    history = None
    if timeline.stakeholder_history_visible(user, stakeholder.pk):
        history = timeline.score_history(
            user, timeline.stakeholder_scope(stakeholder.pk, days), days
        )
    return _panel(context, history, "stakeholder")


def relationship_history_panel(context: Any, relationship: Relationship) -> dict[str, Any]:
    """A relationship's own history: its user and directors (DESIGN §7)."""
    user = context["request"].user
    days = timeline.history_days(context["request"].GET.get(DAYS_PARAMETER))
    history = None
    if relationship.scores_visible_to(user):
        history = timeline.score_history(
            user, timeline.relationship_scope(relationship, days), days
        )
    return _panel(context, history, "relationship")


@register.simple_tag(takes_context=True)
def history_chart_data(context: template.Context, chart: dict, element_id: str) -> SafeString:
    """The chart's JSON as a data block carrying the CSP nonce, as every <script>."""
    block = json_script(chart, element_id)
    nonce = context.get("csp_nonce")
    if nonce is None:
        return block
    return SafeString(block.replace("<script ", format_html('<script nonce="{}" ', str(nonce)), 1))


@register.filter
def band(value: Any) -> str:
    return score_band(value) or "none"
