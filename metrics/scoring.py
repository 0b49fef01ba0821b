"""Relationship scores (DESIGN §3), as pure vectorised maths.

Everything here works on numpy column arrays, one row per (group, item), so a
full recomputation of ~250k groups is a handful of array passes. A *group* is
whatever the caller scores: a stakeholder (stakeholder level) or a user ↔
stakeholder pair (relationship level); the caller selects the rows of each
group per DESIGN §3 and numbers the groups 0..n_groups-1.

Per-group sums use ``np.bincount`` with weights, which adds in row order, so
scoring a subset of groups (incremental recomputation) gives results
bit-identical to a full run as long as each group's rows come in the same
order.

Times are float POSIX seconds (UTC). A date counts as 00:00 UTC of that day.
Null scores are NaN in arrays and ``None`` in the dict views.

No Django imports: this module must stay importable by workers and tests
without settings.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import numpy as np

SECONDS_PER_DAY = 86_400.0
TOP_K = 3
# Threshold comparisons in risk_reasons tolerate float noise, so that e.g. a
# trust drop of exactly 0.15 (computed as 0.1499999…) still counts.
_EPS = 1e-9

# Commitment status codes used in CommitmentRows.status.
OPEN = 0
KEPT = 1
BROKEN = 2
CANCELLED = 3
STATUS_CODES: Mapping[str, int] = MappingProxyType(
    {"open": OPEN, "kept": KEPT, "broken": BROKEN, "cancelled": CANCELLED}
)

DEFAULT_TRUST_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"reliability": 0.4, "sentiment": 0.3, "reciprocity": 0.3}
)
DEFAULT_KIND_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "meeting": 1.0,
        "video_call": 0.8,
        "call": 0.6,
        "introduction": 0.6,
        "event": 0.5,
        "email": 0.3,
        "message": 0.2,
        "other": 0.3,
    }
)
_TRUST_COMPONENTS = ("reliability", "sentiment", "reciprocity")

_DEFAULT_CADENCE = {5: 30, 4: 45, 3: 60, 2: 90, 1: 120}


@dataclass(frozen=True)
class ScoreSettings:
    """The configurable constants of DESIGN §3."""

    half_life_days: float = 180
    ror_window_days: float = 365
    hourly_rate: float = 100
    trust_weights: Mapping[str, float] = field(
        default_factory=lambda: DEFAULT_TRUST_WEIGHTS, hash=False
    )
    kind_weights: Mapping[str, float] = field(
        default_factory=lambda: DEFAULT_KIND_WEIGHTS, hash=False
    )

    def __post_init__(self) -> None:
        if not self.half_life_days > 0:
            raise ValueError("half_life_days must be positive")
        if not self.ror_window_days > 0:
            raise ValueError("ror_window_days must be positive")
        missing = set(_TRUST_COMPONENTS) - set(self.trust_weights)
        if missing:
            raise ValueError(f"trust_weights lacks {sorted(missing)}")
        if any(self.trust_weights[k] < 0 for k in _TRUST_COMPONENTS):
            raise ValueError("trust_weights must not be negative")


DEFAULT_SETTINGS = ScoreSettings()


class Level(StrEnum):
    STAKEHOLDER = "stakeholder"
    RELATIONSHIP = "relationship"


# --------------------------------------------------------------------------
# Input columns


def _f64(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


def _i64(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.int64)


def _check_lengths(obj: Any, names: Sequence[str]) -> None:
    lengths = {len(getattr(obj, n)) for n in names}
    if len(lengths) > 1:
        raise ValueError(f"{type(obj).__name__}: columns differ in length")


@dataclass
class InteractionRows:
    """One row per (group, interaction). ``sentiment`` is NaN when empty."""

    group: np.ndarray
    interaction_id: np.ndarray
    occurred_at: np.ndarray
    kind_weight: np.ndarray
    value_given: np.ndarray
    value_received: np.ndarray
    sentiment: np.ndarray
    duration_minutes: np.ndarray
    cost: np.ndarray
    n_internal: np.ndarray
    n_stakeholders: np.ndarray

    _INT = ("group", "interaction_id", "n_internal", "n_stakeholders")
    _FLOAT = (
        "occurred_at",
        "kind_weight",
        "value_given",
        "value_received",
        "sentiment",
        "duration_minutes",
        "cost",
    )

    def __post_init__(self) -> None:
        for n in self._INT:
            setattr(self, n, _i64(getattr(self, n)))
        for n in self._FLOAT:
            setattr(self, n, _f64(getattr(self, n)))
        _check_lengths(self, self._INT + self._FLOAT)
        if len(self.group) and (self.n_internal.min() < 1 or self.n_stakeholders.min() < 1):
            raise ValueError("n_internal and n_stakeholders must be >= 1")

    def __len__(self) -> int:
        return len(self.group)

    @classmethod
    def empty(cls) -> InteractionRows:
        e = np.empty(0)
        return cls(e, e, e, e, e, e, e, e, e, np.ones(0), np.ones(0))

    def take(self, index: np.ndarray) -> InteractionRows:
        """Rows selected by a boolean mask or an index array (order kept)."""
        return InteractionRows(**{n: getattr(self, n)[index] for n in self._INT + self._FLOAT})


@dataclass
class CommitmentRows:
    """One row per (group, commitment); ``due_at`` is the due date's 00:00 UTC."""

    group: np.ndarray
    commitment_id: np.ndarray
    due_at: np.ndarray
    status: np.ndarray

    def __post_init__(self) -> None:
        self.group = _i64(self.group)
        self.commitment_id = _i64(self.commitment_id)
        self.due_at = _f64(self.due_at)
        self.status = np.asarray(self.status, dtype=np.int8)
        _check_lengths(self, ("group", "commitment_id", "due_at", "status"))

    def __len__(self) -> int:
        return len(self.group)

    @classmethod
    def empty(cls) -> CommitmentRows:
        e = np.empty(0)
        return cls(e, e, e, e)


@dataclass
class OutcomeRows:
    """One row per (group, outcome); ``occurred_at`` is the date's 00:00 UTC."""

    group: np.ndarray
    outcome_id: np.ndarray
    occurred_at: np.ndarray
    value: np.ndarray

    def __post_init__(self) -> None:
        self.group = _i64(self.group)
        self.outcome_id = _i64(self.outcome_id)
        self.occurred_at = _f64(self.occurred_at)
        self.value = _f64(self.value)
        _check_lengths(self, ("group", "outcome_id", "occurred_at", "value"))

    def __len__(self) -> int:
        return len(self.group)

    @classmethod
    def empty(cls) -> OutcomeRows:
        e = np.empty(0)
        return cls(e, e, e, e)


def kind_weight_array(
    kinds: Sequence[str] | np.ndarray, settings: ScoreSettings = DEFAULT_SETTINGS
) -> np.ndarray:
    """Map interaction kinds to KIND_WEIGHTS (vectorised over distinct kinds)."""
    arr = np.asarray(kinds, dtype=object)
    if arr.size == 0:
        return np.empty(0)
    uniq, inverse = np.unique(arr.astype(str), return_inverse=True)
    try:
        table = np.array([float(settings.kind_weights[k]) for k in uniq])
    except KeyError as exc:
        raise ValueError(f"no KIND_WEIGHTS entry for interaction kind {exc.args[0]!r}") from None
    return table[inverse.reshape(-1)]


def status_array(statuses: Sequence[str] | np.ndarray) -> np.ndarray:
    """Map commitment status names to the module's status codes."""
    arr = np.asarray(statuses, dtype=object)
    if arr.size == 0:
        return np.empty(0, dtype=np.int8)
    uniq, inverse = np.unique(arr.astype(str), return_inverse=True)
    try:
        table = np.array([STATUS_CODES[s] for s in uniq], dtype=np.int8)
    except KeyError as exc:
        raise ValueError(f"unknown commitment status {exc.args[0]!r}") from None
    return table[inverse.reshape(-1)]


def to_posix(value: datetime | date) -> float:
    """POSIX seconds of an aware datetime, or of a date's 00:00 UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            # A naive time would silently shift every decay by the server's offset.
            raise ValueError("naive datetime: give an aware (UTC) datetime")
        return value.timestamp()
    return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()


def utc_day_start(at: float) -> float:
    """00:00 UTC of the day containing ``at``."""
    return math.floor(at / SECONDS_PER_DAY) * SECONDS_PER_DAY


# --------------------------------------------------------------------------
# Results


@dataclass
class TopItems:
    """The top contributing items of every group, sorted by group then rank."""

    group: np.ndarray
    item_id: np.ndarray
    contribution: np.ndarray
    item_type: str

    def for_group(self, g: int) -> list[dict[str, Any]]:
        lo, hi = np.searchsorted(self.group, [g, g + 1])
        return [
            {"type": self.item_type, "id": int(i), "contribution": float(c)}
            for i, c in zip(self.item_id[lo:hi], self.contribution[lo:hi], strict=True)
        ]


SCORE_FIELDS = (
    "given",
    "received",
    "reciprocity_balance",
    "reciprocity",
    "strength",
    "sentiment",
    "reliability",
    "trust",
    "investment",
    "return",
    "ror",
    "last_contact",
)


# explanation_for's structure as one %-template (explanations_json fills it
# column-wise); `{…}` are the per-run constants, `%s` the per-group JSON values.
_EXPLANATION_TEMPLATE = (
    '{{"as_of": {as_of}, "level": {level}, "half_life_days": {half_life}, '
    '"given": {{"value": %s, "components": {{"interactions": %s}}, "top": [%s]}}, '
    '"received": {{"value": %s, "components": {{"interactions": %s}}, "top": [%s]}}, '
    '"reciprocity_balance": {{"value": %s, '
    '"components": {{"given": %s, "received": %s}}, "top": [%s]}}, '
    '"reciprocity": {{"value": %s, "components": {{"given": %s, "received": %s}}, "top": [%s]}}, '
    '"strength": {{"value": %s, '
    '"components": {{"engagement": %s, "interactions": %s}}, "top": [%s]}}, '
    '"sentiment": {{"value": %s, '
    '"components": {{"weighted_sentiment": %s, "weight": %s, "counted": %s}}, "top": [%s]}}, '
    '"reliability": {{"value": %s, '
    '"components": {{"kept_weight": %s, "broken_weight": %s, "counted": %s}}, "top": [%s]}}, '
    '"trust": {{"value": %s, "components": '
    '{{"reliability": %s, "sentiment": %s, "reciprocity": %s, "weights": %s}}, "top": [%s]}}, '
    '"investment": {{"value": %s, "components": '
    '{{"interactions": %s, "window_days": {window}, "hourly_rate": {rate}}}, "top": [%s]}}, '
    '"return": {{"value": %s, '
    '"components": {{"outcomes": %s, "window_days": {window}}}, "top": [%s]}}, '
    '"ror": {{"value": %s, "components": {{"return": %s, "investment": %s}}, "top": [%s]}}, '
    '"last_contact": {{"value": %s, "components": {{"days_since_contact": %s}}, "top": []}}}}'
)


def _none_if_nan(x: float) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


@dataclass
class GroupScores:
    """Scores of n_groups groups as float64 arrays (NaN = null), plus components.

    ``top`` maps an explanation key (given, received, balance, strength,
    sentiment, reliability, investment, return) to its TopItems; it is empty
    when scored with ``explain=False``.
    """

    n_groups: int
    at: float
    level: Level
    settings: ScoreSettings
    # scores
    given: np.ndarray
    received: np.ndarray
    reciprocity_balance: np.ndarray
    reciprocity: np.ndarray
    strength: np.ndarray
    sentiment: np.ndarray
    reliability: np.ndarray
    trust: np.ndarray
    investment: np.ndarray
    return_: np.ndarray
    ror: np.ndarray
    last_contact: np.ndarray
    # components
    engagement: np.ndarray
    sentiment_sum: np.ndarray
    sentiment_weight: np.ndarray
    kept_weight: np.ndarray
    broken_weight: np.ndarray
    n_interactions: np.ndarray
    n_sentiment: np.ndarray
    n_commitments: np.ndarray
    n_investment: np.ndarray
    n_outcomes: np.ndarray
    top: dict[str, TopItems] = field(default_factory=dict)

    def score(self, name: str) -> np.ndarray:
        """The array of a score by its API name (``return`` included)."""
        return self.return_ if name == "return" else getattr(self, name)

    def days_since_contact(self, g: int) -> int | None:
        return days_since(_none_if_nan(self.last_contact[g]), self.at)

    def row(self, g: int) -> dict[str, float | int | None]:
        """Plain-Python scores of group g (None for null), plus days_since_contact."""
        out: dict[str, float | int | None] = {
            name: _none_if_nan(self.score(name)[g]) for name in SCORE_FIELDS
        }
        out["days_since_contact"] = self.days_since_contact(g)
        return out

    def components_row(self, g: int) -> dict[str, float | int]:
        """The weight sums and counts behind group g's scores."""
        floats = ("engagement", "sentiment_sum", "sentiment_weight", "kept_weight", "broken_weight")
        counts = ("n_interactions", "n_sentiment", "n_commitments", "n_investment", "n_outcomes")
        out: dict[str, float | int] = {n: float(getattr(self, n)[g]) for n in floats}
        out.update({n: int(getattr(self, n)[g]) for n in counts})
        return out

    def trust_weights_used(self, g: int) -> dict[str, float]:
        """TRUST_WEIGHTS renormalised over group g's non-null components."""
        present = [c for c in _TRUST_COMPONENTS if not math.isnan(self.score(c)[g])]
        return self._weights_over(present)

    def _weights_over(self, present: Sequence[str]) -> dict[str, float]:
        tw = self.settings.trust_weights
        total = sum(float(tw[c]) for c in present)
        if total <= 0:
            return {}
        return {c: float(tw[c]) / total for c in present}

    def _top(self, key: str, g: int) -> list[dict[str, Any]]:
        items = self.top.get(key)
        return items.for_group(g) if items is not None else []

    def explanation_for(self, g: int) -> dict[str, Any]:
        """A JSON-serialisable explanation of group g: value, components, top items."""
        v = self.row(g)
        c = self.components_row(g)

        def entry(name: str, components: dict[str, Any], top: list[dict[str, Any]]):
            return {"value": v[name], "components": components, "top": top}

        given_received = {"given": v["given"], "received": v["received"]}
        balance_top = self._top("balance", g)
        trust_top = [
            {**item, "via": comp}
            for comp, key in (
                ("reliability", "reliability"),
                ("sentiment", "sentiment"),
                ("reciprocity", "balance"),
            )
            if v[comp] is not None
            for item in self._top(key, g)
        ]
        # Return minus Investment: investment items count negatively. The top 3
        # of the union lies within the union of the two top-3 lists.
        ror_top = self._top("return", g) + [
            {**item, "contribution": -item["contribution"]} for item in self._top("investment", g)
        ]
        ror_top.sort(key=lambda item: -abs(item["contribution"]))
        last = v["last_contact"]
        return {
            "as_of": datetime.fromtimestamp(self.at, UTC).isoformat(),
            "level": str(self.level),
            "half_life_days": float(self.settings.half_life_days),
            "given": entry("given", {"interactions": c["n_interactions"]}, self._top("given", g)),
            "received": entry(
                "received", {"interactions": c["n_interactions"]}, self._top("received", g)
            ),
            "reciprocity_balance": entry("reciprocity_balance", given_received, balance_top),
            "reciprocity": entry("reciprocity", given_received, balance_top),
            "strength": entry(
                "strength",
                {"engagement": c["engagement"], "interactions": c["n_interactions"]},
                self._top("strength", g),
            ),
            "sentiment": entry(
                "sentiment",
                {
                    "weighted_sentiment": c["sentiment_sum"],
                    "weight": c["sentiment_weight"],
                    "counted": c["n_sentiment"],
                },
                self._top("sentiment", g),
            ),
            "reliability": entry(
                "reliability",
                {
                    "kept_weight": c["kept_weight"],
                    "broken_weight": c["broken_weight"],
                    "counted": c["n_commitments"],
                },
                self._top("reliability", g),
            ),
            "trust": entry(
                "trust",
                {
                    "reliability": v["reliability"],
                    "sentiment": v["sentiment"],
                    "reciprocity": v["reciprocity"],
                    "weights": self.trust_weights_used(g),
                },
                trust_top,
            ),
            "investment": entry(
                "investment",
                {
                    "interactions": c["n_investment"],
                    "window_days": float(self.settings.ror_window_days),
                    "hourly_rate": float(self.settings.hourly_rate),
                },
                self._top("investment", g),
            ),
            "return": entry(
                "return",
                {"outcomes": c["n_outcomes"], "window_days": float(self.settings.ror_window_days)},
                self._top("return", g),
            ),
            "ror": entry(
                "ror", {"return": v["return"], "investment": v["investment"]}, ror_top[:TOP_K]
            ),
            "last_contact": {
                "value": None if last is None else datetime.fromtimestamp(last, UTC).isoformat(),
                "components": {"days_since_contact": v["days_since_contact"]},
                "top": [],
            },
        }

    def explanations_json(self) -> list[str]:
        """`json.dumps(self.explanation_for(g))` for every group, built column-wise.

        A full recomputation explains ~200,000 groups: building a dict per group
        and encoding it costs about 100 µs a group, this about a tenth of that.
        The texts decode to exactly `explanation_for(g)` (tests check it), key
        order aside, so stored rows do not depend on which path wrote them.
        """
        n = self.n_groups
        null = "null"

        def floats(a: np.ndarray) -> list[str]:
            # float.__repr__ is what json.dumps writes for a float.
            return [null if x != x else repr(x) for x in a.tolist()]

        def ints(a: np.ndarray) -> list[str]:
            return [str(int(x)) for x in a.tolist()]

        rendered: dict[str, tuple[list[str], list[int]]] = {}

        def opened(key: str) -> tuple[list[str], list[int]]:
            """Every top item of `key` without its closing brace, and each group's bounds."""
            if key not in rendered:
                rendered[key] = render(key)
            return rendered[key]

        def render(key: str) -> tuple[list[str], list[int]]:
            items = self.top.get(key)
            if items is None:
                return [], [0] * (n + 1)
            kind = json.dumps(items.item_type)
            texts = [
                f'{{"type": {kind}, "id": {i}, "contribution": {c!r}'
                for i, c in zip(items.item_id.tolist(), items.contribution.tolist(), strict=True)
            ]
            return texts, np.searchsorted(items.group, np.arange(n + 1)).tolist()

        def lists(key: str, suffix: str = "}") -> list[str]:
            texts, bounds = opened(key)
            glue = suffix + ", "
            return [
                glue.join(texts[lo:hi]) + suffix if hi > lo else ""
                for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
            ]

        given, received = floats(self.given), floats(self.received)
        balance, reciprocity = floats(self.reciprocity_balance), floats(self.reciprocity)
        strength, sentiment = floats(self.strength), floats(self.sentiment)
        reliability, trust = floats(self.reliability), floats(self.trust)
        investment, return_, ror = floats(self.investment), floats(self.return_), floats(self.ror)
        engagement = floats(self.engagement)
        sentiment_sum, sentiment_weight = floats(self.sentiment_sum), floats(self.sentiment_weight)
        kept_weight, broken_weight = floats(self.kept_weight), floats(self.broken_weight)
        n_interactions, n_sentiment = ints(self.n_interactions), ints(self.n_sentiment)
        n_commitments, n_investment = ints(self.n_commitments), ints(self.n_investment)
        n_outcomes = ints(self.n_outcomes)
        top_given, top_received = lists("given"), lists("received")
        top_balance, top_strength = lists("balance"), lists("strength")
        top_sentiment, top_reliability = lists("sentiment"), lists("reliability")
        top_investment, top_return = lists("investment"), lists("return")
        via = {
            "reliability": lists("reliability", ', "via": "reliability"}'),
            "sentiment": lists("sentiment", ', "via": "sentiment"}'),
            "reciprocity": lists("balance", ', "via": "reciprocity"}'),
        }
        present = {
            name: ~np.isnan(self.score(name))
            for name in ("reliability", "sentiment", "reciprocity")
        }
        weights_by_mask = {
            mask: json.dumps(
                self._weights_over([c for c, p in zip(_TRUST_COMPONENTS, mask, strict=True) if p])
            )
            for mask in itertools.product((False, True), repeat=3)
        }
        masks = list(zip(*(present[c].tolist() for c in _TRUST_COMPONENTS), strict=True))
        trust_top = [
            ", ".join(
                via[c][g] for c, p in zip(_TRUST_COMPONENTS, mask, strict=True) if p and via[c][g]
            )
            for g, mask in enumerate(masks)
        ]
        ror_top = self._ror_top_json()
        last_contact, days = [], []
        for x in self.last_contact.tolist():
            if x != x:
                last_contact.append(null)
                days.append(null)
            else:
                last_contact.append(json.dumps(datetime.fromtimestamp(x, UTC).isoformat()))
                days.append(str(days_since(x, self.at)))
        as_of = json.dumps(datetime.fromtimestamp(self.at, UTC).isoformat())
        constants = {
            "as_of": as_of,
            "level": json.dumps(str(self.level)),
            "half_life": repr(float(self.settings.half_life_days)),
            "window": repr(float(self.settings.ror_window_days)),
            "rate": repr(float(self.settings.hourly_rate)),
        }
        template = _EXPLANATION_TEMPLATE.format(**constants)
        weights = [weights_by_mask[mask] for mask in masks]
        columns = (
            given, n_interactions, top_given,
            received, n_interactions, top_received,
            balance, given, received, top_balance,
            reciprocity, given, received, top_balance,
            strength, engagement, n_interactions, top_strength,
            sentiment, sentiment_sum, sentiment_weight, n_sentiment, top_sentiment,
            reliability, kept_weight, broken_weight, n_commitments, top_reliability,
            trust, reliability, sentiment, reciprocity, weights, trust_top,
            investment, n_investment, top_investment,
            return_, n_outcomes, top_return,
            ror, return_, investment, ror_top,
            last_contact, days,
        )  # fmt: skip
        return [template % row for row in zip(*columns, strict=True)]

    def _ror_top_json(self) -> list[str]:
        """Per group, the items of explanation_for's "ror" top list, comma-joined."""
        n = self.n_groups
        # Return minus Investment: investment items count negatively.
        parts = [
            (items.group, items.item_id, sign(items.contribution), json.dumps(items.item_type))
            for key, sign in (("return", np.positive), ("investment", np.negative))
            if (items := self.top.get(key)) is not None
        ]
        if not parts:
            return [""] * n
        group = np.concatenate([p[0] for p in parts])
        ids = np.concatenate([p[1] for p in parts])
        contribution = np.concatenate([p[2] for p in parts])
        types = np.concatenate([np.full(len(p[0]), j) for j, p in enumerate(parts)])
        position = np.arange(len(group))
        # explanation_for sorts return items then investment items by -|c|, stably.
        order = np.lexsort((position, -np.abs(contribution), group))
        group, ids, contribution, types = (
            group[order],
            ids[order],
            contribution[order],
            types[order],
        )
        bounds = np.searchsorted(group, np.arange(n + 1)).tolist()
        kinds = [p[3] for p in parts]
        texts = [
            f'{{"type": {kinds[t]}, "id": {i}, "contribution": {c!r}}}'
            for t, i, c in zip(types.tolist(), ids.tolist(), contribution.tolist(), strict=True)
        ]
        return [
            ", ".join(texts[lo : min(hi, lo + TOP_K)])
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
        ]


# --------------------------------------------------------------------------
# The batch computation


def _sum(group: np.ndarray, weights: np.ndarray | None, n: int) -> np.ndarray:
    # bincount adds in row order: the source of full/incremental bit-identity.
    return np.bincount(group, weights=weights, minlength=n).astype(np.float64, copy=False)


def top_items(
    group: np.ndarray,
    item_id: np.ndarray,
    contribution: np.ndarray,
    item_type: str,
    k: int = TOP_K,
) -> TopItems:
    """Per group, the k items of largest |contribution| (ties: lower id, then row).

    Zero and NaN contributions are left out: they did not move the score.
    """
    keep = np.abs(contribution) > 0
    g, ids, c = group[keep], item_id[keep], contribution[keep]
    a = np.abs(c)
    n_g = int(g.max()) + 1 if len(g) else 0
    big = np.iinfo(np.int64).max
    # k rounds of "pick each group's largest remaining item": a few O(rows)
    # scatter passes per round, much cheaper than a full lexsort of all rows.
    live = np.arange(len(g))
    picked: list[np.ndarray] = []
    ranks: list[np.ndarray] = []
    for r in range(k):
        if live.size == 0:
            break
        gl, al = g[live], a[live]
        best = np.full(n_g, -np.inf)
        np.maximum.at(best, gl, al)
        cand = live[al == best[gl]]
        gc = g[cand]
        best_id = np.full(n_g, big)
        np.minimum.at(best_id, gc, ids[cand])
        cand = cand[ids[cand] == best_id[gc]]
        first = np.full(n_g, big)
        np.minimum.at(first, g[cand], cand)
        chosen = first[first != big]  # one row per group, in group order
        picked.append(chosen)
        ranks.append(np.full(len(chosen), r))
        alive = np.ones(len(g), dtype=bool)
        alive[chosen] = False
        live = live[alive[live]]
    if not picked:
        e = np.empty(0)
        return TopItems(g[:0], ids[:0], e, item_type)
    rows = np.concatenate(picked)
    order = np.argsort(g[rows] * k + np.concatenate(ranks), kind="stable")
    rows = rows[order]
    return TopItems(g[rows], ids[rows], c[rows], item_type)


def _check_groups(group: np.ndarray, n_groups: int, what: str) -> None:
    if len(group) and (group.min() < 0 or group.max() >= n_groups):
        raise ValueError(f"{what}: group index outside 0..{n_groups - 1}")


def score_groups(
    n_groups: int,
    interactions: InteractionRows,
    commitments: CommitmentRows,
    outcomes: OutcomeRows,
    *,
    at: float,
    level: Level,
    settings: ScoreSettings = DEFAULT_SETTINGS,
    explain: bool = True,
) -> GroupScores:
    """Score every group as of ``at`` (POSIX seconds), per DESIGN §3.

    Interactions and outcomes dated after ``at`` are ignored, so the caller may
    pass everything and ask for a past time. Commitments count per the
    reliability rules only.
    """
    level = Level(level)
    n = int(n_groups)
    at = float(at)
    for rows, what in (
        (interactions, "interactions"),
        (commitments, "commitments"),
        (outcomes, "outcomes"),
    ):
        _check_groups(rows.group, n, what)
    half_life_s = SECONDS_PER_DAY * float(settings.half_life_days)
    window_start = at - SECONDS_PER_DAY * float(settings.ror_window_days)

    # ---- interactions ------------------------------------------------------
    ia = interactions
    past = ia.occurred_at <= at  # NaN times drop out too
    if not past.all():
        ia = ia.take(past)
    ig = ia.group
    w = np.exp2(-(at - ia.occurred_at) / half_life_s)

    wg = w * ia.value_given
    wr = w * ia.value_received
    given = _sum(ig, wg, n)
    received = _sum(ig, wr, n)
    n_interactions = np.bincount(ig, minlength=n)
    gr = given + received
    with np.errstate(invalid="ignore", divide="ignore"):
        balance = np.where(gr != 0, (given - received) / gr, np.nan)
    reciprocity = 1.0 - np.abs(balance)

    we = w * ia.kind_weight
    engagement = _sum(ig, we, n)
    strength = np.where(n_interactions > 0, -np.expm1(-engagement / 3.0), np.nan)

    has_s = ~np.isnan(ia.sentiment)
    sg = ig[has_s]
    ws_rows = w[has_s] * ia.sentiment[has_s]
    sentiment_sum = _sum(sg, ws_rows, n)
    sentiment_weight = _sum(sg, w[has_s], n)
    n_sentiment = np.bincount(sg, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        sentiment = np.where(
            n_sentiment > 0, 0.5 + 0.25 * (sentiment_sum / sentiment_weight), np.nan
        )

    last_contact = np.full(n, -np.inf)
    np.maximum.at(last_contact, ig, ia.occurred_at)
    last_contact[n_interactions == 0] = np.nan

    in_window = ia.occurred_at > window_start
    hours = ia.duration_minutes / 60.0
    rate = float(settings.hourly_rate)
    if level is Level.STAKEHOLDER:
        share = (hours * ia.n_internal * rate + ia.cost) / ia.n_stakeholders
    else:
        share = (hours * rate + ia.cost / ia.n_internal) / ia.n_stakeholders
    share = np.where(in_window, share, 0.0)
    investment = _sum(ig, share, n)
    n_investment = np.bincount(ig[in_window], minlength=n)

    # ---- commitments ---------------------------------------------------------
    cm = commitments
    status = cm.status
    overdue = (status == OPEN) & (cm.due_at < utc_day_start(at))
    kept = status == KEPT
    broken = (status == BROKEN) | overdue
    counted = kept | broken
    cw = np.minimum(1.0, np.exp2(-(at - cm.due_at) / half_life_s))
    kept_weight = _sum(cm.group, np.where(kept, cw, 0.0), n)
    broken_weight = _sum(cm.group, np.where(broken, cw, 0.0), n)
    n_commitments = np.bincount(cm.group[counted], minlength=n)
    reliability = np.where(
        n_commitments > 0, (kept_weight + 1.0) / (kept_weight + broken_weight + 2.0), np.nan
    )

    # ---- outcomes ------------------------------------------------------------
    oc = outcomes
    o_in = (oc.occurred_at > window_start) & (oc.occurred_at <= at)
    o_val = np.where(o_in, oc.value, 0.0)
    return_ = _sum(oc.group, o_val, n)
    n_outcomes = np.bincount(oc.group[o_in], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        ror = np.where(investment != 0, (return_ - investment) / investment, np.nan)

    # ---- trust -----------------------------------------------------------------
    num = np.zeros(n)
    den = np.zeros(n)
    for name, values in (
        ("reliability", reliability),
        ("sentiment", sentiment),
        ("reciprocity", reciprocity),
    ):
        tw = float(settings.trust_weights[name])
        present = ~np.isnan(values)
        num += np.where(present, tw * values, 0.0)
        den += np.where(present, tw, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        trust = np.where(den > 0, num / den, np.nan)

    top: dict[str, TopItems] = {}
    if explain:
        iid = ia.interaction_id
        top = {
            "given": top_items(ig, iid, wg, "interaction"),
            "received": top_items(ig, iid, wr, "interaction"),
            "balance": top_items(ig, iid, wg - wr, "interaction"),
            "strength": top_items(ig, iid, we, "interaction"),
            "sentiment": top_items(sg, iid[has_s], ws_rows, "interaction"),
            "investment": top_items(ig, iid, share, "interaction"),
            "reliability": top_items(
                cm.group[counted],
                cm.commitment_id[counted],
                np.where(kept, cw, -cw)[counted],
                "commitment",
            ),
            "return": top_items(oc.group[o_in], oc.outcome_id[o_in], oc.value[o_in], "outcome"),
        }

    return GroupScores(
        n_groups=n,
        at=at,
        level=level,
        settings=settings,
        given=given,
        received=received,
        reciprocity_balance=balance,
        reciprocity=reciprocity,
        strength=strength,
        sentiment=sentiment,
        reliability=reliability,
        trust=trust,
        investment=investment,
        return_=return_,
        ror=ror,
        last_contact=last_contact,
        engagement=engagement,
        sentiment_sum=sentiment_sum,
        sentiment_weight=sentiment_weight,
        kept_weight=kept_weight,
        broken_weight=broken_weight,
        n_interactions=n_interactions,
        n_sentiment=n_sentiment,
        n_commitments=n_commitments,
        n_investment=n_investment,
        n_outcomes=n_outcomes,
        top=top,
    )


# --------------------------------------------------------------------------
# Scalar helpers


def days_since(last_contact: float | None, at: float) -> int | None:
    """Whole days from last_contact to at, as ``timedelta.days`` (floor)."""
    if last_contact is None or math.isnan(last_contact):
        return None
    # Round to microseconds first, as a timedelta would, so float noise near a
    # day boundary does not move the floor.
    micros = round((at - last_contact) * 1_000_000)
    return micros // 86_400_000_000


def is_overdue(days_since_contact: int | None, cadence_days: int | None) -> bool | None:
    """Overdue when days since last contact > cadence; None when never contacted."""
    if days_since_contact is None or cadence_days is None:
        return None
    return days_since_contact > cadence_days


def default_cadence_days(importance: int) -> int:
    """Target contact interval by importance: 5→30, 4→45, 3→60, 2→90, 1→120."""
    try:
        return _DEFAULT_CADENCE[int(importance)]
    except KeyError:
        raise ValueError(f"importance must be 1..5, not {importance!r}") from None


def risk_reasons(
    *,
    trust: float | None,
    trust_90_days_ago: float | None,
    reciprocity: float | None,
    given_plus_received: float | None,
    is_key: bool,
    days_since_contact: int | None,
    cadence_days: int | None,
) -> list[dict[str, str]]:
    """The DESIGN §3 "at risk" reasons that apply; empty when not at risk.

    Unknown inputs (None) never raise a reason: a never-contacted stakeholder is
    not "overdue", a missing snapshot is not a fall.
    """
    reasons: list[dict[str, str]] = []
    if trust is not None and trust < 0.4 - _EPS:
        reasons.append({"code": "low_trust", "message": f"Trust {trust:.2f} is below 0.40"})
    if (
        trust is not None
        and trust_90_days_ago is not None
        and trust_90_days_ago - trust >= 0.15 - _EPS
    ):
        reasons.append(
            {
                "code": "trust_falling",
                "message": f"Trust fell from {trust_90_days_ago:.2f} to {trust:.2f} "
                "over 90 days (by 0.15 or more)",
            }
        )
    if (
        is_key
        and days_since_contact is not None
        and cadence_days is not None
        and days_since_contact > 1.5 * cadence_days
    ):
        reasons.append(
            {
                "code": "key_overdue",
                "message": f"Key stakeholder last contacted {days_since_contact} days ago, "
                f"more than 50% past its {cadence_days}-day cadence",
            }
        )
    if (
        reciprocity is not None
        and given_plus_received is not None
        and reciprocity < 0.3 - _EPS
        and given_plus_received >= 2 - _EPS
    ):
        reasons.append(
            {
                "code": "low_reciprocity",
                "message": f"Reciprocity {reciprocity:.2f} is below 0.30",
            }
        )
    return reasons


# --------------------------------------------------------------------------
# Scalar convenience (tests, single groups): facts -> one-group arrays


@dataclass(frozen=True)
class InteractionFact:
    id: int
    occurred_at: datetime
    kind: str = "meeting"
    value_given: float = 0.0
    value_received: float = 0.0
    sentiment: float | None = None
    duration_minutes: float = 0.0
    cost: float = 0.0
    n_internal: int = 1
    n_stakeholders: int = 1


@dataclass(frozen=True)
class CommitmentFact:
    id: int
    due: date
    status: str = "open"


@dataclass(frozen=True)
class OutcomeFact:
    id: int
    occurred_on: date
    value: float


Group = tuple[Sequence[InteractionFact], Sequence[CommitmentFact], Sequence[OutcomeFact]]


def rows_from_facts(
    groups: Iterable[Group], settings: ScoreSettings = DEFAULT_SETTINGS
) -> tuple[int, InteractionRows, CommitmentRows, OutcomeRows]:
    """Column arrays for groups given as (interactions, commitments, outcomes)."""
    i_rows: list[tuple] = []
    c_rows: list[tuple] = []
    o_rows: list[tuple] = []
    kinds: list[str] = []
    n = 0
    for g, (ints, coms, outs) in enumerate(groups):
        n = g + 1
        for f in ints:
            kinds.append(f.kind)
            i_rows.append(
                (
                    g,
                    f.id,
                    to_posix(f.occurred_at),
                    float(f.value_given),
                    float(f.value_received),
                    math.nan if f.sentiment is None else float(f.sentiment),
                    float(f.duration_minutes),
                    float(f.cost),
                    f.n_internal,
                    f.n_stakeholders,
                )
            )
        c_rows.extend((g, f.id, to_posix(f.due), STATUS_CODES[f.status]) for f in coms)
        o_rows.extend((g, f.id, to_posix(f.occurred_on), float(f.value)) for f in outs)

    def col(rows: list[tuple], j: int) -> list:
        return [r[j] for r in rows]

    interactions = InteractionRows(
        group=col(i_rows, 0),
        interaction_id=col(i_rows, 1),
        occurred_at=col(i_rows, 2),
        kind_weight=kind_weight_array(kinds, settings),
        value_given=col(i_rows, 3),
        value_received=col(i_rows, 4),
        sentiment=col(i_rows, 5),
        duration_minutes=col(i_rows, 6),
        cost=col(i_rows, 7),
        n_internal=col(i_rows, 8),
        n_stakeholders=col(i_rows, 9),
    )
    commitments = CommitmentRows(col(c_rows, 0), col(c_rows, 1), col(c_rows, 2), col(c_rows, 3))
    outcomes = OutcomeRows(col(o_rows, 0), col(o_rows, 1), col(o_rows, 2), col(o_rows, 3))
    return n, interactions, commitments, outcomes


def score_one(
    interactions: Sequence[InteractionFact],
    commitments: Sequence[CommitmentFact],
    outcomes: Sequence[OutcomeFact],
    *,
    at: datetime,
    level: Level = Level.STAKEHOLDER,
    settings: ScoreSettings = DEFAULT_SETTINGS,
) -> dict[str, Any]:
    """Scores of one group (``row`` plus ``explanation``) through score_groups."""
    _, ia, cm, oc = rows_from_facts([(interactions, commitments, outcomes)], settings)
    scores = score_groups(1, ia, cm, oc, at=to_posix(at), level=level, settings=settings)
    return {**scores.row(0), "explanation": scores.explanation_for(0)}
