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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import numpy as np

SECONDS_PER_DAY = 86_400.0
TOP_K = 3
# Threshold comparisons in risk_reasons tolerate float noise, so that e.g. a
# trust drop of exactly 0.15 (computed as 0.1499999…) still counts.
_EPS = 1e-9

# DESIGN §3 "at risk" (stakeholder level), defined once: `risk_reasons` applies
# them to one group, and the write-back's array pass picks its candidates with them.
RISK_LOW_TRUST = 0.4  # trust below this
RISK_TRUST_FALL = 0.15  # or trust fell by at least this ...
RISK_TRUST_FALL_DAYS = 90  # ... against the snapshot this many days earlier
RISK_OVERDUE_FACTOR = 1.5  # or a key stakeholder's days since contact > this × cadence
RISK_LOW_RECIPROCITY = 0.3  # or reciprocity below this ...
RISK_RECIPROCITY_MIN_VOLUME = 2  # ... while G + R is at least this

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


# --------------------------------------------------------------------------
# Packed explanations: what explanation_for needs, in a fixed-size binary record
#
# A full recomputation stores ~200,000 explanations. As JSON they are 3-4 KB
# each, and writing them was most of the recomputation's time; the record
# holds only the numbers explanation_for reads (the rest is derived from them
# when the explanation is read), ~600 bytes, written for all groups at once
# with numpy. `explanation_unpack(record)` equals `explanation_for(g)` exactly.

PACK_VERSION = 1
# The top-item lists explanation_for reads, with their item types.
TOP_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "given": "interaction",
        "received": "interaction",
        "balance": "interaction",
        "strength": "interaction",
        "sentiment": "interaction",
        "reliability": "commitment",
        "investment": "interaction",
        "return": "outcome",
    }
)
_PACKED_COMPONENTS = (
    "engagement",
    "sentiment_sum",
    "sentiment_weight",
    "kept_weight",
    "broken_weight",
)
_PACKED_COUNTS = ("n_interactions", "n_sentiment", "n_commitments", "n_investment", "n_outcomes")
_LEVEL_CODES = {Level.STAKEHOLDER: 0, Level.RELATIONSHIP: 1}
PACKED_DTYPE = np.dtype(
    [
        ("version", "u1"),
        ("level", "u1"),
        ("at", "<f8"),
        ("half_life_days", "<f8"),
        ("ror_window_days", "<f8"),
        ("hourly_rate", "<f8"),
        ("trust_weights", "<f8", (len(_TRUST_COMPONENTS),)),
        ("scores", "<f8", (len(SCORE_FIELDS),)),
        ("components", "<f8", (len(_PACKED_COMPONENTS),)),
        ("counts", "<i4", (len(_PACKED_COUNTS),)),
        ("top_count", "u1", (len(TOP_KEYS),)),
        ("top_id", "<i8", (len(TOP_KEYS), TOP_K)),
        ("top_contribution", "<f8", (len(TOP_KEYS), TOP_K)),
    ]
)


def explanations_pack(scores: GroupScores) -> np.ndarray:
    """Every group's explanation as a PACKED_DTYPE record (an array of n_groups)."""
    n = scores.n_groups
    records = np.zeros(n, dtype=PACKED_DTYPE)
    records["version"] = PACK_VERSION
    records["level"] = _LEVEL_CODES[scores.level]
    records["at"] = scores.at
    cfg = scores.settings
    records["half_life_days"] = float(cfg.half_life_days)
    records["ror_window_days"] = float(cfg.ror_window_days)
    records["hourly_rate"] = float(cfg.hourly_rate)
    records["trust_weights"] = [float(cfg.trust_weights[c]) for c in _TRUST_COMPONENTS]
    for j, name in enumerate(SCORE_FIELDS):
        records["scores"][:, j] = scores.score(name)
    for j, name in enumerate(_PACKED_COMPONENTS):
        records["components"][:, j] = getattr(scores, name)
    for j, name in enumerate(_PACKED_COUNTS):
        records["counts"][:, j] = getattr(scores, name)
    for j, key in enumerate(TOP_KEYS):
        items = scores.top.get(key)
        if items is None or not len(items.group):
            continue
        if items.item_type != TOP_KEYS[key]:
            raise ValueError(f"top items of {key} are {items.item_type}s")
        group = items.group
        # TopItems are sorted by group then rank: an item's rank is its offset in its group.
        rank = np.arange(len(group)) - np.searchsorted(group, group)
        if len(rank) and rank.max() >= TOP_K:
            raise ValueError(f"more than {TOP_K} top items of {key} in a group")
        records["top_count"][:, j] = np.bincount(group, minlength=n)
        records["top_id"][group, j, rank] = items.item_id
        records["top_contribution"][group, j, rank] = items.contribution
    return records


def explanation_unpack(record: bytes | memoryview | np.void) -> dict[str, Any]:
    """The explanation of one packed record: `explanation_for` of its group, exactly."""
    if not isinstance(record, np.void):
        record = np.frombuffer(record, dtype=PACKED_DTYPE, count=1)[0]
    if int(record["version"]) != PACK_VERSION:
        raise ValueError(f"unknown packed explanation version {int(record['version'])}")
    weights = record["trust_weights"].tolist()
    settings = ScoreSettings(
        half_life_days=float(record["half_life_days"]),
        ror_window_days=float(record["ror_window_days"]),
        hourly_rate=float(record["hourly_rate"]),
        trust_weights=dict(zip(_TRUST_COMPONENTS, weights, strict=True)),
    )
    level = Level.RELATIONSHIP if int(record["level"]) else Level.STAKEHOLDER
    columns: dict[str, Any] = {
        ("return_" if name == "return" else name): np.array([value])
        for name, value in zip(SCORE_FIELDS, record["scores"].tolist(), strict=True)
    }
    columns.update(
        (name, np.array([value]))
        for name, value in zip(_PACKED_COMPONENTS, record["components"].tolist(), strict=True)
    )
    columns.update(
        (name, np.array([value], dtype=np.int64))
        for name, value in zip(_PACKED_COUNTS, record["counts"].tolist(), strict=True)
    )
    top = {}
    for j, (key, item_type) in enumerate(TOP_KEYS.items()):
        count = int(record["top_count"][j])
        top[key] = TopItems(
            group=np.zeros(count, dtype=np.int64),
            item_id=record["top_id"][j, :count].astype(np.int64),
            contribution=record["top_contribution"][j, :count].astype(np.float64),
            item_type=item_type,
        )
    scores = GroupScores(
        n_groups=1, at=float(record["at"]), level=level, settings=settings, top=top, **columns
    )
    return scores.explanation_for(0)


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
    if len(g) > 1 and (g[1:] < g[:-1]).any():
        # Each group's rows together, in their order (ties below go to the earlier row).
        order = np.argsort(g, kind="stable")
        g, ids, c = g[order], ids[order], c[order]
    if not len(g):
        return TopItems(g, ids, c.astype(np.float64), item_type)
    if g[0] == g[-1]:
        # One group (incremental recomputation of one stakeholder): one small sort.
        rows = np.lexsort((np.arange(len(g)), ids, -np.abs(c)))[:k]
        return TopItems(g[rows], ids[rows], c[rows], item_type)
    # k rounds of "pick each group's largest remaining item" over the group runs:
    # a few reductions per round, no sort of the rows.
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    run = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(g)]))
    position = np.arange(len(g))
    remaining = np.abs(c)  # 0 once picked (every kept row is > 0)
    big = np.iinfo(np.int64).max
    picked: list[np.ndarray] = []
    ranks: list[np.ndarray] = []
    for r in range(k):
        best = np.maximum.reduceat(remaining, starts)
        candidate = (remaining == best[run]) & (remaining > 0)
        best_id = np.minimum.reduceat(np.where(candidate, ids, big), starts)
        candidate &= ids == best_id[run]
        first = np.minimum.reduceat(np.where(candidate, position, big), starts)
        chosen = first[first != big]  # one row per group, in group order
        if not len(chosen):
            break
        picked.append(chosen)
        ranks.append(np.full(len(chosen), r))
        remaining[chosen] = 0.0
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
    if trust is not None and trust < RISK_LOW_TRUST - _EPS:
        reasons.append(
            {"code": "low_trust", "message": f"Trust {trust:.2f} is below {RISK_LOW_TRUST:.2f}"}
        )
    if (
        trust is not None
        and trust_90_days_ago is not None
        and trust_90_days_ago - trust >= RISK_TRUST_FALL - _EPS
    ):
        reasons.append(
            {
                "code": "trust_falling",
                "message": f"Trust fell from {trust_90_days_ago:.2f} to {trust:.2f} "
                f"over {RISK_TRUST_FALL_DAYS} days (by {RISK_TRUST_FALL:.2f} or more)",
            }
        )
    if (
        is_key
        and days_since_contact is not None
        and cadence_days is not None
        and days_since_contact > RISK_OVERDUE_FACTOR * cadence_days
    ):
        reasons.append(
            {
                "code": "key_overdue",
                "message": f"Key stakeholder last contacted {days_since_contact} days ago, "
                f"more than {RISK_OVERDUE_FACTOR - 1:.0%} past its {cadence_days}-day cadence",
            }
        )
    if (
        reciprocity is not None
        and given_plus_received is not None
        and reciprocity < RISK_LOW_RECIPROCITY - _EPS
        and given_plus_received >= RISK_RECIPROCITY_MIN_VOLUME - _EPS
    ):
        reasons.append(
            {
                "code": "low_reciprocity",
                "message": f"Reciprocity {reciprocity:.2f} is below {RISK_LOW_RECIPROCITY:.2f}",
            }
        )
    return reasons
