"""What the apps above relations add to it, registered from their `AppConfig.ready()`.

relations depends on none of our other apps: it never imports, names or reverse-looks-up
them. An app that builds on relations (scores, the network, the combined pages) tells it
here what it adds instead:

- panels on relations' detail pages (`page_panel_register`), rendered where the page's
  template says `{% page_panels "stakeholder.scores" stakeholder %}`;
- how the stakeholder list's figure filters select rows (`stakeholder_filter_register`);
- which apps hold personal data that erasure must scrub (`personal_data_register`);
- sections of a stakeholder's GDPR export (`export_section_register`,
  `relationship_export_section_register`);
- which apps hold derived data a merge drops with the absorbed record and recomputes
  for the kept one (`derived_data_register`);
- dated events that the "trust over time" line marks (`timeline_source_register`).

Each registration is made once per process, when Django loads the apps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import models
from django.db.models import QuerySet

# --- Panels on detail pages ------------------------------------------------------------

# Renders one panel: (the page's template context, the page's object) -> HTML.
PanelRenderer = Callable[[Any, Any], str]

_panels: dict[str, list[PanelRenderer]] = {}


def page_panel_register(slot: str, renderer: PanelRenderer) -> None:
    """Add a panel to a page's slot ("stakeholder.scores", "relationship.pulse_trend")."""
    _panels.setdefault(slot, []).append(renderer)


def page_panels(slot: str) -> list[PanelRenderer]:
    return list(_panels.get(slot, ()))


def template_panel(
    template_name: str, values: Callable[[Any, Any], dict[str, Any]]
) -> PanelRenderer:
    """A panel drawn by a template, as an inclusion tag would draw it: `values(context,
    obj)` is the template's whole context (plus the CSRF token)."""

    def render(context: Any, obj: Any) -> str:
        template = context.template.engine.get_template(template_name)
        new_context = context.new(values(context, obj))
        csrf_token = context.get("csrf_token")
        if csrf_token is not None:
            new_context["csrf_token"] = csrf_token
        return template.render(new_context)

    return render


# --- Filters of the stakeholder list ---------------------------------------------------

# (the filter form, the rows so far, the field's cleaned value) -> the rows it keeps.
StakeholderFilter = Callable[[Any, QuerySet, Any], QuerySet]

_stakeholder_filters: dict[str, StakeholderFilter] = {}


def stakeholder_filter_register(field: str, apply: StakeholderFilter) -> None:
    """How a field of the stakeholder list's filter form selects rows, for the fields
    about figures relations does not hold (scores, contact states, the network)."""
    _stakeholder_filters[field] = apply


def stakeholder_filter(field: str) -> StakeholderFilter | None:
    return _stakeholder_filters.get(field)


# --- Personal data: erasure ------------------------------------------------------------

_personal_data_apps: list[str] = []


def personal_data_register(app_label: str) -> None:
    """Erasure searches this app's text and JSON columns for mentions of the person."""
    if app_label not in _personal_data_apps:
        _personal_data_apps.append(app_label)


def personal_data_apps() -> tuple[str, ...]:
    return tuple(_personal_data_apps)


# --- Personal data: the GDPR export ----------------------------------------------------


@dataclass(frozen=True)
class ExportSection:
    """One row per record at most, of `model`, whose `key` column points at the record;
    exported as the named `fields`."""

    name: str
    model: type[models.Model]
    key: str
    fields: Sequence[str]


_export_sections: list[ExportSection] = []
_relationship_export_sections: list[ExportSection] = []


def export_section_register(section: ExportSection) -> None:
    """A section of a stakeholder's export, placed after the stakeholder's record."""
    _export_sections.append(section)


def export_sections() -> list[ExportSection]:
    return list(_export_sections)


def relationship_export_section_register(section: ExportSection) -> None:
    """A section of each relationship in a stakeholder's export, after its user."""
    _relationship_export_sections.append(section)


def relationship_export_sections() -> list[ExportSection]:
    return list(_relationship_export_sections)


# Lists of records about the person that one-row sections cannot hold (a relationship's
# reviews): (the stakeholder's id) -> plain rows, exported under the section's name.
ExportList = Callable[[int], list[dict[str, Any]]]

_export_lists: list[tuple[str, ExportList]] = []


def export_list_register(name: str, rows: ExportList) -> None:
    """A section of a stakeholder's export holding many rows, after the sections above."""
    _export_lists.append((name, rows))


def export_lists() -> list[tuple[str, ExportList]]:
    return list(_export_lists)


# --- Personal data: erasure of what a text scrub cannot find ---------------------------

# (the stakeholder's id) -> how many records changed. For what the person wrote or gave
# us that need not name them (their answers in a review): erased with them.
ErasureHook = Callable[[int], int]

_erasure_hooks: list[ErasureHook] = []


def erasure_register(hook: ErasureHook) -> None:
    _erasure_hooks.append(hook)


def erasure_hooks() -> list[ErasureHook]:
    return list(_erasure_hooks)


# --- Merges ----------------------------------------------------------------------------

_derived_apps: set[str] = set()


def derived_data_register(app_label: str) -> None:
    """This app's rows about a stakeholder are derived (scores, network metrics): a merge
    deletes the absorbed record's and recomputes the kept one's, never moves them."""
    _derived_apps.add(app_label)


def derived_data_apps() -> frozenset[str]:
    return frozenset(_derived_apps)


# --- The review flag of relationships (their pulse beside computed trust) ------------

# (relationships, the viewer) -> the same rows annotated with `flagged_for_review`
# (a bool, null when the viewer may not see the row's scores), `review_direction`
# ("higher", "lower" or null) and `review_trust` (the trust the pulse was compared with).
RelationshipReview = Callable[[QuerySet, Any], QuerySet]

_relationship_review: list[RelationshipReview] = []


def relationship_review_register(annotate: RelationshipReview) -> None:
    """The one definition of "flagged for review": the app holding computed trust gives it."""
    _relationship_review[:] = [annotate]


def relationship_review(relationships: QuerySet, user: Any) -> QuerySet:
    """`relationships` with their latest pulse and review flag for `user`; without a
    registered definition (no scores app) the flag is unknown (null)."""
    rows = relationships.with_latest_pulse(user)
    if _relationship_review:
        return _relationship_review[0](rows, user)
    return rows.annotate(
        flagged_for_review=models.Value(None, output_field=models.BooleanField()),
        review_direction=models.Value(None, output_field=models.CharField()),
        review_trust=models.Value(None, output_field=models.FloatField()),
    )


# --- Events on the "trust over time" line of a stakeholder or relationship ------------


@dataclass(frozen=True)
class TimelineScope:
    """Whose time line is drawn: a stakeholder (`user_id` None: the organisation's
    stakeholder-level scores) or one relationship (user ↔ stakeholder), between two
    days (both included)."""

    stakeholder_id: int
    user_id: int | None
    relationship_id: int | None
    first: date
    last: date

    @property
    def level(self) -> str:
        return "stakeholder" if self.user_id is None else "relationship"


@dataclass(frozen=True)
class TimelineEvent:
    """One dated event on a time line.

    `moves` names the scores such an event can move ("trust", "reliability",
    "reciprocity", "sentiment", "strength"): the line marks it only as a cause of a
    significant move of one of those scores on its day. An event that moves no
    computed score (a pulse, a review: an assessment) has empty `moves` and is always
    marked. `score` (0–1) is a figure the event carries, drawn as a point of the
    series named `series` (a pulse's score, a review's mean answer).

    `label` is the event in words in the active language, shown on the page as the
    cause of a move or as an entry of its own; `title` the record's own text (a
    subject, a commitment) quoted after it; `kind`, `record_type` and `record_id`
    are the API's (no text of the page's).
    """

    day: date
    kind: str
    label: str
    title: str = ""
    url: str = ""
    record_type: str = ""
    record_id: int | None = None
    moves: frozenset[str] = frozenset()
    score: float | None = None
    series: str = ""


# (the viewer, the scope) -> the events of the scope's days that the viewer may see.
# A source asks its own visibility rules and runs a fixed number of queries whatever
# the number of days or events (the page and the API assert a ceiling).
TimelineSource = Callable[[Any, TimelineScope], Iterable[TimelineEvent]]

_timeline_sources: list[TimelineSource] = []


def timeline_source_register(source: TimelineSource) -> None:
    """Add a source of events to every stakeholder's and relationship's time line."""
    if source not in _timeline_sources:
        _timeline_sources.append(source)


def timeline_sources() -> list[TimelineSource]:
    return list(_timeline_sources)
