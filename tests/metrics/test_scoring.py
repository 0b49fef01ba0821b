"""metrics.scoring against DESIGN §3: hand-computed cases, a plain reference, properties.

Pure maths: no database, no Django.
"""

import json
import math
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.scoring import (
    BROKEN,
    CANCELLED,
    DEFAULT_SETTINGS,
    KEPT,
    OPEN,
    SCORE_FIELDS,
    CommitmentRows,
    InteractionRows,
    Level,
    OutcomeRows,
    ScoreSettings,
    days_since,
    explanation_unpack,
    explanations_pack,
    is_overdue,
    kind_weight_array,
    risk_reasons,
    score_groups,
    status_array,
    top_items,
)
from tests.metrics.facts import (
    CommitmentFact,
    InteractionFact,
    OutcomeFact,
    rows_from_facts,
    score_one,
    to_posix,
)

# Midnight, so that "n days ago" is an exact decay exponent of n/180.
T = datetime(2025, 6, 30, tzinfo=UTC)
TD = T.date()
S = Level.STAKEHOLDER
R = Level.RELATIONSHIP


def ago(days: float, at: datetime = T) -> datetime:
    return at - timedelta(days=days)


def day_ago(days: int, at: datetime = T) -> date:
    return at.date() - timedelta(days=days)


def ix(id_, when, **kw) -> InteractionFact:
    return InteractionFact(id=id_, occurred_at=when, **kw)


def score(ints=(), coms=(), outs=(), *, at=T, level=S, cfg=DEFAULT_SETTINGS):
    return score_one(list(ints), list(coms), list(outs), at=at, level=level, settings=cfg)


# --------------------------------------------------------------------------
# Given, received, reciprocity


def test_given_received_and_reciprocity_with_decay():
    # Weights: at T → 1; 180 days earlier → 2**-1 = 0.5.
    # G = 4·1 + 2·0.5 = 5; R = 1·1 + 2·0.5 = 2
    # B = (5 − 2)/(5 + 2) = 3/7; reciprocity = 1 − 3/7 = 4/7
    s = score(
        [
            ix(1, T, value_given=4, value_received=1),
            ix(2, ago(180), value_given=2, value_received=2),
        ]
    )
    assert s["given"] == pytest.approx(5)
    assert s["received"] == pytest.approx(2)
    assert s["reciprocity_balance"] == pytest.approx(3 / 7)
    assert s["reciprocity"] == pytest.approx(4 / 7)


def test_balance_negative_when_they_give_more():
    # G = 1, R = 3 → B = −2/4 = −0.5; reciprocity 0.5
    s = score([ix(1, T, value_given=1, value_received=3)])
    assert s["reciprocity_balance"] == pytest.approx(-0.5)
    assert s["reciprocity"] == pytest.approx(0.5)


def test_fractional_days_decay():
    # 12 hours ago: w = 2**(−0.5/180)
    s = score([ix(1, ago(0.5), value_given=2)])
    assert s["given"] == pytest.approx(2 * 2 ** (-0.5 / 180), rel=1e-12)


def test_reciprocity_null_when_nothing_exchanged():
    # G + R = 0 → balance and reciprocity null; G and R are honest zeros.
    s = score([ix(1, T, value_given=0, value_received=0)])
    assert s["given"] == 0 and s["received"] == 0
    assert s["reciprocity_balance"] is None and s["reciprocity"] is None


def test_everything_null_or_zero_without_data():
    s = score()
    for name in (
        "reciprocity_balance",
        "reciprocity",
        "strength",
        "sentiment",
        "reliability",
        "trust",
        "ror",
        "last_contact",
        "days_since_contact",
    ):
        assert s[name] is None, name
    for name in ("given", "received", "investment", "return"):
        assert s[name] == 0, name


def test_interaction_after_t_is_ignored_everywhere():
    later = T + timedelta(seconds=1)
    s = score([ix(1, later, value_given=5, value_received=1, sentiment=2, duration_minutes=60)])
    assert s["given"] == 0 and s["received"] == 0
    assert s["strength"] is None and s["sentiment"] is None
    assert s["investment"] == 0 and s["last_contact"] is None
    # …but one at exactly T counts.
    s = score([ix(1, T, value_given=5)])
    assert s["given"] == pytest.approx(5)


# --------------------------------------------------------------------------
# Strength


def test_strength_from_kind_weights_and_decay():
    # meeting at T: 1·1.0; email 360 days ago: 0.25·0.3 = 0.075 → E = 1.075
    # strength = 1 − exp(−0.358333) = 1 − 0.698840 = 0.301160
    s = score([ix(1, T, kind="meeting"), ix(2, ago(360), kind="email")])
    assert s["explanation"]["strength"]["components"]["engagement"] == pytest.approx(1.075)
    assert s["strength"] == pytest.approx(1 - math.exp(-1.075 / 3))
    assert s["strength"] == pytest.approx(0.301160, abs=1e-6)


def test_strength_null_only_when_no_interaction():
    assert score()["strength"] is None
    # A zero-weight kind still makes I non-empty: strength is 0, not null.
    cfg = ScoreSettings(kind_weights={**DEFAULT_SETTINGS.kind_weights, "message": 0.0})
    assert score([ix(1, T, kind="message")], cfg=cfg)["strength"] == 0


# --------------------------------------------------------------------------
# Sentiment


def test_sentiment_weighted_mean_over_rows_with_sentiment():
    # +2 at T (w 1), −1 180 days ago (w 0.5), none 90 days ago (ignored)
    # mean = (2·1 − 1·0.5)/(1 + 0.5) = 1 → 0.5 + 0.25·1 = 0.75
    s = score(
        [
            ix(1, T, sentiment=2),
            ix(2, ago(180), sentiment=-1),
            ix(3, ago(90), sentiment=None),
        ]
    )
    assert s["sentiment"] == pytest.approx(0.75)
    comp = s["explanation"]["sentiment"]["components"]
    assert comp == {
        "weighted_sentiment": pytest.approx(1.5),
        "weight": pytest.approx(1.5),
        "counted": 2,
    }


def test_sentiment_null_when_none_has_one_and_zero_is_a_value():
    assert score([ix(1, T)])["sentiment"] is None
    # sentiment 0 is "neutral", not "empty": 0.5 + 0.25·0 = 0.5
    assert score([ix(1, T, sentiment=0)])["sentiment"] == pytest.approx(0.5)
    # extremes: −2 → 0, +2 → 1
    assert score([ix(1, T, sentiment=-2)])["sentiment"] == pytest.approx(0)
    assert score([ix(1, T, sentiment=2)])["sentiment"] == pytest.approx(1)


# --------------------------------------------------------------------------
# Reliability


def test_reliability_weights_and_status_rules():
    # kept due 180 days ago: w 0.5
    # broken due today (T is midnight, so T − due = 0): w 1
    # open due 360 days ago: overdue → broken, w 0.25
    # cancelled: ignored; open due today: not overdue, ignored
    # kept due in 30 days: 2**(+30/180) > 1, capped at 1
    # kept_w = 0.5 + 1 = 1.5; broken_w = 1 + 0.25 = 1.25
    # reliability = (1.5 + 1)/(1.5 + 1.25 + 2) = 2.5/4.75 = 0.526315…
    coms = [
        CommitmentFact(1, day_ago(180), "kept"),
        CommitmentFact(2, TD, "broken"),
        CommitmentFact(3, day_ago(360), "open"),
        CommitmentFact(4, day_ago(10), "cancelled"),
        CommitmentFact(5, TD, "open"),
        CommitmentFact(6, TD + timedelta(days=30), "kept"),
    ]
    s = score(coms=coms)
    assert s["reliability"] == pytest.approx(2.5 / 4.75)
    comp = s["explanation"]["reliability"]["components"]
    assert comp["kept_weight"] == pytest.approx(1.5)
    assert comp["broken_weight"] == pytest.approx(1.25)
    assert comp["counted"] == 4


def test_open_due_today_is_not_overdue_but_yesterday_is():
    noon = T + timedelta(hours=12)
    # due today (T's date): ignored → no commitment counts → null
    assert score(coms=[CommitmentFact(1, noon.date(), "open")], at=noon)["reliability"] is None
    # due yesterday: broken with w = 2**(−1.5/180) (36 hours before noon)
    # reliability = (0 + 1)/(0 + w + 2)
    w = 2 ** (-1.5 / 180)
    s = score(coms=[CommitmentFact(1, noon.date() - timedelta(days=1), "open")], at=noon)
    assert s["reliability"] == pytest.approx(1 / (w + 2))


def test_due_after_t_weighs_one_whatever_status():
    # kept due in 10 days: (1 + 1)/(1 + 0 + 2) = 2/3
    s = score(coms=[CommitmentFact(1, TD + timedelta(days=10), "kept")])
    assert s["reliability"] == pytest.approx(2 / 3)
    # broken due in a year still counts, weight 1: (0 + 1)/(0 + 1 + 2) = 1/3
    s = score(coms=[CommitmentFact(1, TD + timedelta(days=365), "broken")])
    assert s["reliability"] == pytest.approx(1 / 3)


def test_reliability_null_when_only_cancelled_or_not_yet_due():
    coms = [
        CommitmentFact(1, day_ago(5), "cancelled"),
        CommitmentFact(2, TD + timedelta(days=3), "open"),
    ]
    assert score(coms=coms)["reliability"] is None
    assert score()["reliability"] is None


# --------------------------------------------------------------------------
# Trust

# Components used below:
#   reliability: one kept due today → (1 + 1)/(1 + 2) = 2/3
#   sentiment:   +1 at T → 0.5 + 0.25 = 0.75
#   reciprocity: given 3, received 1 → B = 0.5 → 0.5
KEPT_TODAY = CommitmentFact(1, TD, "kept")


def test_trust_with_three_components():
    # 0.4·2/3 + 0.3·0.75 + 0.3·0.5 = 0.266667 + 0.225 + 0.15 = 0.641667
    s = score([ix(1, T, sentiment=1, value_given=3, value_received=1)], [KEPT_TODAY])
    assert s["trust"] == pytest.approx(0.4 * 2 / 3 + 0.3 * 0.75 + 0.3 * 0.5)
    assert s["explanation"]["trust"]["components"]["weights"] == pytest.approx(
        {"reliability": 0.4, "sentiment": 0.3, "reciprocity": 0.3}
    )


def test_trust_renormalised_over_two_components():
    # no reciprocity (G + R = 0): (0.4·2/3 + 0.3·0.75)/0.7 = 0.491667/0.7 = 0.702381
    s = score([ix(1, T, sentiment=1)], [KEPT_TODAY])
    assert s["reciprocity"] is None
    assert s["trust"] == pytest.approx((0.4 * 2 / 3 + 0.3 * 0.75) / 0.7)
    assert s["trust"] == pytest.approx(0.702381, abs=1e-6)
    assert s["explanation"]["trust"]["components"]["weights"] == pytest.approx(
        {"reliability": 0.4 / 0.7, "sentiment": 0.3 / 0.7}
    )
    # no reliability: (0.3·0.75 + 0.3·0.5)/0.6 = 0.625
    s = score([ix(1, T, sentiment=1, value_given=3, value_received=1)])
    assert s["trust"] == pytest.approx(0.625)


def test_trust_with_one_component_is_that_component():
    assert score(coms=[KEPT_TODAY])["trust"] == pytest.approx(2 / 3)
    assert score([ix(1, T, sentiment=1)])["trust"] == pytest.approx(0.75)
    assert score([ix(1, T, value_given=3, value_received=1)])["trust"] == pytest.approx(0.5)


def test_trust_null_when_all_three_null():
    s = score([ix(1, T)])  # an interaction, but no values, sentiment or commitments
    assert s["strength"] is not None
    assert s["trust"] is None
    assert s["explanation"]["trust"]["components"]["weights"] == {}


def test_trust_uses_configured_weights():
    # weights 1, 1, 2 → (2/3 + 0.75 + 2·0.5)/4 = 0.604167
    cfg = ScoreSettings(trust_weights={"reliability": 1, "sentiment": 1, "reciprocity": 2})
    s = score([ix(1, T, sentiment=1, value_given=3, value_received=1)], [KEPT_TODAY], cfg=cfg)
    assert s["trust"] == pytest.approx((2 / 3 + 0.75 + 1.0) / 4)


# --------------------------------------------------------------------------
# Investment, Return, RoR


def test_investment_stakeholder_and_relationship_level():
    # 90 minutes, cost 300, 2 internal, 3 stakeholders, 10 days ago (not decayed):
    # stakeholder:  (1.5 h · 2 · 100 + 300)/3 = 600/3 = 200
    # relationship: (1.5 h · 100 + 300/2)/3 = 300/3 = 100
    it = ix(1, ago(10), duration_minutes=90, cost=300, n_internal=2, n_stakeholders=3)
    assert score([it], level=S)["investment"] == pytest.approx(200)
    assert score([it], level=R)["investment"] == pytest.approx(100)


def test_investment_window_is_exclusive_start_inclusive_end():
    # 60 minutes alone → 100 each; only T and T − 364 days fall in (T − 365 d, T]
    ints = [
        ix(1, T, duration_minutes=60),
        ix(2, ago(364), duration_minutes=60),
        ix(3, ago(365), duration_minutes=60),  # exactly on the start: out
        ix(4, T + timedelta(minutes=1), duration_minutes=60),  # after T: out
    ]
    s = score(ints)
    assert s["investment"] == pytest.approx(200)
    assert s["explanation"]["investment"]["components"]["interactions"] == 2


def test_return_window_and_ror():
    # Outcome dates (00:00 UTC; T is midnight):
    #   T → in (1000); T − 364 d → in (500); T − 365 d → out (exclusive start);
    #   T + 1 d → out (after T)
    # Return = 1500; investment: cost 200 at T → RoR = (1500 − 200)/200 = 6.5
    outs = [
        OutcomeFact(1, TD, 1000),
        OutcomeFact(2, day_ago(364), 500),
        OutcomeFact(3, day_ago(365), 5000),
        OutcomeFact(4, TD + timedelta(days=1), 7000),
    ]
    s = score([ix(1, T, cost=200)], outs=outs)
    assert s["return"] == pytest.approx(1500)
    assert s["investment"] == pytest.approx(200)
    assert s["ror"] == pytest.approx(6.5)


def test_outcome_dated_today_counts_at_noon_and_window_start_by_date():
    noon = T + timedelta(hours=12)
    # window start = noon 365 days ago; the outcome 365 days back (00:00) is before it,
    # the one 364 days back is after it.
    outs = [
        OutcomeFact(1, noon.date(), 10),
        OutcomeFact(2, day_ago(365, noon), 20),
        OutcomeFact(3, day_ago(364, noon), 40),
    ]
    assert score(outs=outs, at=noon)["return"] == pytest.approx(50)


def test_ror_null_when_no_investment_and_return_not_decayed():
    # no interactions in the window → Investment 0 → RoR null; Return is still 300
    s = score([ix(1, ago(400), duration_minutes=60)], outs=[OutcomeFact(1, day_ago(200), 300)])
    assert s["investment"] == 0
    assert s["return"] == pytest.approx(300)
    assert s["ror"] is None
    # a free interaction (no time, no cost) is no investment either
    assert score([ix(1, T)], outs=[OutcomeFact(1, TD, 300)])["ror"] is None


def test_ror_minus_one_without_return():
    # Investment 100 (1 h), Return 0 → (0 − 100)/100 = −1
    assert score([ix(1, T, duration_minutes=60)])["ror"] == pytest.approx(-1)


# --------------------------------------------------------------------------
# Last contact, overdue, cadence, risk


def test_last_contact_is_latest_on_or_before_t():
    s = score([ix(1, ago(30)), ix(2, ago(10.5)), ix(3, T + timedelta(days=2))])
    assert s["last_contact"] == to_posix(ago(10.5))
    assert s["days_since_contact"] == 10  # 10.5 days → floor


def test_days_since_and_is_overdue():
    at = to_posix(T)
    assert days_since(at - 86400 * 10 - 3600 * 23, at) == 10
    assert days_since(at - 86400, at) == 1
    assert days_since(at - 86400 + 1e-6, at) == 0
    assert days_since(at, at) == 0
    assert days_since(None, at) is None
    assert days_since(float("nan"), at) is None
    # matches timedelta.days, also for a contact in the future
    assert days_since(at + 3600, at) == timedelta(seconds=-3600).days == -1
    assert is_overdue(31, 30) is True
    assert is_overdue(30, 30) is False
    assert is_overdue(None, 30) is None


def risk(**kw):
    base = {
        "trust": 0.8,
        "trust_90_days_ago": 0.8,
        "reciprocity": 0.9,
        "given_plus_received": 5.0,
        "is_key": True,
        "days_since_contact": 10,
        "cadence_days": 30,
    }
    return [r["code"] for r in risk_reasons(**{**base, **kw})]


def test_risk_reasons():
    assert risk() == []
    assert risk(trust=0.39, trust_90_days_ago=None) == ["low_trust"]
    assert risk(trust=0.4, trust_90_days_ago=None) == []  # not below 0.4
    assert risk(trust=None, trust_90_days_ago=None) == []
    # a fall of exactly 0.15 counts, even where float subtraction lands just below
    # (0.6 − 0.45 is 0.14999999999999997 in floats; 0.65 − 0.5 is 0.15000000000000002)
    assert risk(trust=0.45, trust_90_days_ago=0.6) == ["trust_falling"]
    assert risk(trust=0.5, trust_90_days_ago=0.65) == ["trust_falling"]
    assert risk(trust=0.51, trust_90_days_ago=0.65) == []
    assert risk(trust=0.5, trust_90_days_ago=None) == []
    # key and more than 50% past cadence: 30 · 1.5 = 45
    assert risk(days_since_contact=46) == ["key_overdue"]
    assert risk(days_since_contact=45) == []
    assert risk(days_since_contact=46, is_key=False) == []
    assert risk(days_since_contact=None) == []  # never contacted: unknown, not overdue
    # reciprocity < 0.3 only counts with G + R ≥ 2
    assert risk(reciprocity=0.29, given_plus_received=2.0) == ["low_reciprocity"]
    assert risk(reciprocity=0.29, given_plus_received=1.99) == []
    assert risk(reciprocity=0.3, given_plus_received=5.0) == []
    assert risk(reciprocity=None, given_plus_received=None) == []
    both = risk_reasons(
        trust=0.2,
        trust_90_days_ago=0.6,
        reciprocity=0.1,
        given_plus_received=3,
        is_key=True,
        days_since_contact=100,
        cadence_days=45,
    )
    assert [r["code"] for r in both] == [
        "low_trust",
        "trust_falling",
        "key_overdue",
        "low_reciprocity",
    ]
    assert both[0]["message"] == "Trust 0.20 is below 0.40"


# --------------------------------------------------------------------------
# Helpers and validation


def test_helpers():
    assert kind_weight_array(["meeting", "email", "meeting"]).tolist() == [1.0, 0.3, 1.0]
    with pytest.raises(ValueError, match="fax"):
        kind_weight_array(["fax"])
    assert status_array(["open", "kept", "broken", "cancelled"]).tolist() == [
        OPEN,
        KEPT,
        BROKEN,
        CANCELLED,
    ]
    assert to_posix(date(1970, 1, 2)) == 86400.0
    with pytest.raises(ValueError):
        to_posix(datetime(2025, 1, 1))


def test_group_index_out_of_range_is_refused():
    n, ia, cm, oc = rows_from_facts([([ix(1, T)], [], [])])
    with pytest.raises(ValueError):
        score_groups(0, ia, cm, oc, at=to_posix(T), level=S)


def test_explain_false_gives_same_scores():
    groups = random_groups(random.Random(3), 5)
    n, ia, cm, oc = rows_from_facts(groups)
    a = score_groups(n, ia, cm, oc, at=to_posix(T), level=S)
    b = score_groups(n, ia, cm, oc, at=to_posix(T), level=S, explain=False)
    assert b.top == {}
    for name in SCORE_FIELDS:
        np.testing.assert_array_equal(a.score(name), b.score(name))


# --------------------------------------------------------------------------
# Explanation


def test_explanation_top_items():
    ints = [
        ix(1, T, value_given=1, sentiment=1),  # given 1; sentiment +1
        ix(2, ago(180), value_given=5, sentiment=-2),  # given 2.5; sentiment −1
        ix(3, ago(360), value_given=4, sentiment=0),  # given 1.0; sentiment 0 (left out)
        ix(4, ago(10), value_given=2, sentiment=2),  # given, sentiment ≈ 1.92
        ix(5, T, value_given=0),  # contributes nothing
        ix(6, T + timedelta(days=1), value_given=5),  # after T
    ]
    coms = [
        CommitmentFact(10, TD, "kept"),  # +1
        CommitmentFact(11, day_ago(180), "broken"),  # −0.5
        CommitmentFact(12, day_ago(360), "open"),  # overdue: −0.25
        CommitmentFact(13, day_ago(1), "cancelled"),
        CommitmentFact(14, day_ago(720), "kept"),  # +0.0625
    ]
    outs = [
        OutcomeFact(20, day_ago(10), 1000),
        OutcomeFact(21, day_ago(400), 5000),  # outside the window
        OutcomeFact(22, TD, 300),
        OutcomeFact(23, day_ago(100), 2000),
        OutcomeFact(24, day_ago(5), 50),
    ]
    exp = score(ints, coms, outs)["explanation"]
    w10 = 2 ** (-10 / 180)

    def top(name):
        return [(t["type"], t["id"], pytest.approx(t["contribution"])) for t in exp[name]["top"]]

    # ties of |contribution| (ids 1 and 3, both 1.0) go to the lower id
    assert top("given") == [
        ("interaction", 2, 2.5),
        ("interaction", 4, 2 * w10),
        ("interaction", 1, 1.0),
    ]
    assert top("sentiment") == [
        ("interaction", 4, 2 * w10),
        ("interaction", 1, 1.0),
        ("interaction", 2, -1.0),
    ]
    assert top("reliability") == [
        ("commitment", 10, 1.0),
        ("commitment", 11, -0.5),
        ("commitment", 12, -0.25),
    ]
    assert top("return") == [("outcome", 23, 2000), ("outcome", 20, 1000), ("outcome", 22, 300)]
    assert exp["received"]["top"] == []
    assert exp["reliability"]["components"]["counted"] == 4
    assert exp["reliability"]["value"] == pytest.approx((1 + 0.0625 + 1) / (1 + 0.0625 + 0.75 + 2))
    assert exp["return"]["value"] == pytest.approx(3350)
    json.dumps(exp, allow_nan=False)


def test_explanation_is_json_for_random_groups():
    groups = random_groups(random.Random(7), 20)
    n, ia, cm, oc = rows_from_facts(groups)
    for level in (S, R):
        scores = score_groups(n, ia, cm, oc, at=to_posix(T), level=level)
        for g in range(n):
            exp = scores.explanation_for(g)
            json.dumps(exp, allow_nan=False)
            json.dumps(scores.row(g), allow_nan=False)
            assert set(SCORE_FIELDS) <= set(exp)
            for name in SCORE_FIELDS:
                assert len(exp[name]["top"]) <= (9 if name == "trust" else 3)
            row = scores.row(g)
            assert all(v is None or type(v) in (float, int) for v in row.values())


def test_packed_explanations_unpack_to_explanation_for():
    """The packed records a recomputation stores render to the per-group explanation
    exactly (same numbers, same items, same order), for every group and level;
    groups without any item (empty lists, null values) included."""
    groups = random_groups(random.Random(11), 60) + [((), (), ())]
    n, ia, cm, oc = rows_from_facts(groups)
    for level in (S, R):
        scores = score_groups(n, ia, cm, oc, at=to_posix(T), level=level)
        records = explanations_pack(scores)
        assert len(records) == n
        for g in range(n):
            unpacked = explanation_unpack(records[g].tobytes())
            assert unpacked == scores.explanation_for(g)
            assert json.dumps(unpacked, allow_nan=False)
    assert explanation_unpack(records[-1].tobytes())["trust"] == {
        "value": None,
        "components": {"reliability": None, "sentiment": None, "reciprocity": None, "weights": {}},
        "top": [],
    }


def test_packed_explanation_keeps_its_settings():
    """The record carries the constants it was computed with: the explanation read
    later does not change when the installation's settings do."""
    cfg = ScoreSettings(
        half_life_days=90,
        ror_window_days=30,
        hourly_rate=55,
        trust_weights={"reliability": 1, "sentiment": 0, "reciprocity": 3},
    )
    groups = random_groups(random.Random(5), 12)
    n, ia, cm, oc = rows_from_facts(groups, cfg)
    scores = score_groups(n, ia, cm, oc, at=to_posix(T), level=R, settings=cfg)
    records = explanations_pack(scores)
    for g in range(n):
        unpacked = explanation_unpack(records[g].tobytes())
        assert unpacked == scores.explanation_for(g)
        assert unpacked["half_life_days"] == 90.0
        assert unpacked["level"] == "relationship"


def test_packed_explanation_rejects_an_unknown_version():
    n, ia, cm, oc = rows_from_facts(random_groups(random.Random(3), 1))
    record = explanations_pack(score_groups(n, ia, cm, oc, at=to_posix(T), level=S))[0]
    data = bytearray(record.tobytes())
    data[0] = 99
    with pytest.raises(ValueError, match="version"):
        explanation_unpack(bytes(data))


# --------------------------------------------------------------------------
# A plain reference, straight from DESIGN §3, against the vectorised batch


def midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def reference(ints, coms, outs, at: datetime, level: Level, cfg: ScoreSettings) -> dict:
    h = cfg.half_life_days

    def decay(d: datetime) -> float:
        return 2 ** (-((at - d).total_seconds() / 86400) / h)

    items = [i for i in ints if i.occurred_at <= at]
    g = r = e = sw = sws = 0.0
    for i in items:
        w = decay(i.occurred_at)
        g += w * i.value_given
        r += w * i.value_received
        e += w * cfg.kind_weights[i.kind]
        if i.sentiment is not None:
            sw += w
            sws += w * i.sentiment
    has_sentiment = any(i.sentiment is not None for i in items)
    out = {"given": g, "received": r}
    if g + r == 0:
        out["reciprocity_balance"] = out["reciprocity"] = None
    else:
        out["reciprocity_balance"] = (g - r) / (g + r)
        out["reciprocity"] = 1 - abs((g - r) / (g + r))
    out["strength"] = 1 - math.exp(-e / 3) if items else None
    out["sentiment"] = 0.5 + 0.25 * (sws / sw) if has_sentiment else None

    kept_w = broken_w = 0.0
    counted = 0
    for c in coms:
        w = min(1.0, decay(midnight(c.due)))
        if c.status == "kept":
            kept_w += w
        elif c.status == "broken" or (c.status == "open" and c.due < at.astimezone(UTC).date()):
            broken_w += w
        else:
            continue
        counted += 1
    out["reliability"] = (kept_w + 1) / (kept_w + broken_w + 2) if counted else None

    parts = [
        (cfg.trust_weights[k], out[k])
        for k in ("reliability", "sentiment", "reciprocity")
        if out[k] is not None
    ]
    total = sum(w for w, _ in parts)
    out["trust"] = sum(w * v for w, v in parts) / total if parts and total > 0 else None

    start = at - timedelta(days=cfg.ror_window_days)
    inv = 0.0
    for i in items:
        if start < i.occurred_at <= at:
            hours = i.duration_minutes / 60
            if level == Level.STAKEHOLDER:
                inv += (hours * i.n_internal * cfg.hourly_rate + i.cost) / i.n_stakeholders
            else:
                inv += (hours * cfg.hourly_rate + i.cost / i.n_internal) / i.n_stakeholders
    ret = sum(o.value for o in outs if start < midnight(o.occurred_on) <= at)
    out["investment"] = inv
    out["return"] = ret
    out["ror"] = (ret - inv) / inv if inv != 0 else None
    last = max((i.occurred_at for i in items), default=None)
    out["last_contact"] = last.timestamp() if last else None
    out["days_since_contact"] = (at - last).days if last else None
    return out


KINDS = list(DEFAULT_SETTINGS.kind_weights)
STATUSES = ["open", "kept", "broken", "cancelled"]


def random_groups(rnd: random.Random, n_groups: int, at: datetime = T) -> list:
    """Random facts; some dates land exactly on the window and due-date boundaries."""
    groups = []
    next_id = iter(range(1, 10**9))
    for _ in range(n_groups):
        ints = []
        for _ in range(rnd.choice([0, 1, 2, 5, 12])):
            if rnd.random() < 0.1:
                when = at - timedelta(days=rnd.choice([0, 365, 364, -1]))
            else:
                when = at - timedelta(
                    microseconds=rnd.randrange(-30 * 86400 * 10**6, 800 * 86400 * 10**6)
                )
            ints.append(
                InteractionFact(
                    id=next(next_id),
                    occurred_at=when,
                    kind=rnd.choice(KINDS),
                    value_given=rnd.choice([0, 0, 1, 2.5, 5]),
                    value_received=rnd.choice([0, 0, 1, 3, 5]),
                    sentiment=rnd.choice([None, None, -2, -1, 0, 1, 2, 0.5]),
                    duration_minutes=rnd.choice([0, 15, 30, 90]),
                    cost=rnd.choice([0, 0, 12.5, 300]),
                    n_internal=rnd.randint(1, 3),
                    n_stakeholders=rnd.randint(1, 4),
                )
            )
        coms = [
            CommitmentFact(
                next(next_id),
                at.date() + timedelta(days=rnd.randint(-800, 200)),
                rnd.choice(STATUSES),
            )
            for _ in range(rnd.choice([0, 1, 3, 6]))
        ]
        coms += [
            CommitmentFact(next(next_id), at.date() + timedelta(days=d), "open")
            for d in (-1, 0)
            if rnd.random() < 0.3
        ]
        outs = [
            OutcomeFact(
                next(next_id),
                at.date()
                - timedelta(
                    days=rnd.choice([0, 364, 365, 366, -1])
                    if rnd.random() < 0.3
                    else rnd.randint(-20, 700)
                ),
                rnd.choice([0, 100, 2500.75]),
            )
            for _ in range(rnd.choice([0, 1, 4]))
        ]
        rnd.shuffle(ints)
        groups.append((ints, coms, outs))
    return groups


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("level", [S, R])
def test_batch_matches_reference(seed, level):
    rnd = random.Random(seed)
    at = [
        T,
        T + timedelta(hours=12, microseconds=1),
        datetime(2024, 2, 29, 23, 59, tzinfo=UTC),
        T + timedelta(seconds=0.5),
    ][seed]
    cfg = (
        DEFAULT_SETTINGS
        if seed % 2
        else ScoreSettings(
            half_life_days=90,
            ror_window_days=180,
            hourly_rate=75,
            trust_weights={"reliability": 0.5, "sentiment": 0.0, "reciprocity": 0.5},
        )
    )
    groups = random_groups(rnd, 60, at)
    n, ia, cm, oc = rows_from_facts(groups, cfg)
    scores = score_groups(n, ia, cm, oc, at=to_posix(at), level=level, settings=cfg)
    for g, (ints, coms, outs) in enumerate(groups):
        want = reference(ints, coms, outs, at, level, cfg)
        got = scores.row(g)
        for name, value in want.items():
            assert close(got[name], value), (g, name, got[name], value)


# --------------------------------------------------------------------------
# Properties

interaction_st = st.builds(
    InteractionFact,
    id=st.just(0),
    occurred_at=st.integers(-30 * 86400, 900 * 86400).map(lambda s: T - timedelta(seconds=s)),
    kind=st.sampled_from(KINDS),
    value_given=st.floats(0, 5),
    value_received=st.floats(0, 5),
    sentiment=st.none() | st.floats(-2, 2),
    duration_minutes=st.floats(0, 600),
    cost=st.floats(0, 10_000),
    n_internal=st.integers(1, 5),
    n_stakeholders=st.integers(1, 5),
)
commitment_st = st.builds(
    CommitmentFact,
    id=st.just(0),
    due=st.integers(-900, 300).map(lambda d: TD + timedelta(days=d)),
    status=st.sampled_from(STATUSES),
)
outcome_st = st.builds(
    OutcomeFact,
    id=st.just(0),
    occurred_on=st.integers(-800, 30).map(lambda d: TD + timedelta(days=d)),
    value=st.floats(0, 1e6),
)


@st.composite
def group_st(draw):
    ints = draw(st.lists(interaction_st, max_size=8))
    coms = draw(st.lists(commitment_st, max_size=6))
    outs = draw(st.lists(outcome_st, max_size=4))
    # unique ids, so ties in the explanation are broken the same way everywhere
    base = draw(st.integers(0, 1000)) * 100
    return (
        [replace(f, id=base + k) for k, f in enumerate(ints)],
        [replace(f, id=base + k) for k, f in enumerate(coms)],
        [replace(f, id=base + k) for k, f in enumerate(outs)],
    )


# The example budget comes from the Hypothesis profile (tests/conftest.py).
PROPS = settings(deadline=None)


@PROPS
@given(group_st(), st.sampled_from([S, R]))
def test_bounded_scores_stay_in_range(group, level):
    s = score(*group, level=level)
    for name in ("reciprocity", "strength", "sentiment", "reliability", "trust"):
        if s[name] is not None:
            assert 0 <= s[name] <= 1, name
    if s["reciprocity_balance"] is not None:
        assert -1 <= s["reciprocity_balance"] <= 1
    assert s["investment"] >= 0 and s["given"] >= 0 and s["received"] >= 0


@PROPS
@given(group_st(), commitment_st)
def test_adding_a_kept_commitment_never_lowers_reliability(group, extra):
    ints, coms, outs = group
    before = score(ints, coms, outs)["reliability"]
    after = score(ints, [*coms, replace(extra, id=10**6, status="kept")], outs)["reliability"]
    assert after is not None
    if before is not None:
        assert after >= before - 1e-12


@PROPS
@given(group_st(), interaction_st)
def test_adding_an_interaction_never_lowers_strength(group, extra):
    ints, coms, outs = group
    before = score(ints, coms, outs)["strength"]
    after = score([*ints, replace(extra, id=10**6)], coms, outs)["strength"]
    if before is not None:
        assert after >= before - 1e-12


@PROPS
@given(group_st())
def test_swapping_given_and_received_flips_the_balance(group):
    ints, coms, outs = group
    swapped = [replace(i, value_given=i.value_received, value_received=i.value_given) for i in ints]
    a, b = score(ints, coms, outs), score(swapped, coms, outs)
    assert a["given"] == b["received"] and a["received"] == b["given"]
    if a["reciprocity_balance"] is None:
        assert b["reciprocity_balance"] is None
    else:
        assert b["reciprocity_balance"] == pytest.approx(-a["reciprocity_balance"], abs=1e-12)
        assert b["reciprocity"] == pytest.approx(a["reciprocity"], abs=1e-12)


def interleave(rows, order: np.ndarray):
    return type(rows)(**{f: getattr(rows, f)[order] for f in rows.__dataclass_fields__})


def mixed_order(group: np.ndarray, rnd: np.random.Generator) -> np.ndarray:
    """A permutation that interleaves groups but keeps each group's own row order."""
    labels = rnd.permutation(group)
    order = np.empty(len(group), dtype=np.int64)
    order[np.argsort(labels, kind="stable")] = np.argsort(group, kind="stable")
    return order


@PROPS
@given(
    st.lists(group_st(), min_size=1, max_size=6), st.sampled_from([S, R]), st.integers(0, 2**32 - 1)
)
def test_a_group_does_not_depend_on_other_groups(groups, level, seed):
    at = to_posix(T)
    n, ia, cm, oc = rows_from_facts(groups)
    rnd = np.random.default_rng(seed)
    ia = interleave(ia, mixed_order(ia.group, rnd))
    cm = interleave(cm, mixed_order(cm.group, rnd))
    oc = interleave(oc, mixed_order(oc.group, rnd))
    joined = score_groups(n, ia, cm, oc, at=at, level=level)
    for g, group in enumerate(groups):
        _, ia1, cm1, oc1 = rows_from_facts([group])
        alone = score_groups(1, ia1, cm1, oc1, at=at, level=level)
        # bit-identical, not just close: incremental and full runs must agree exactly
        assert joined.row(g) == alone.row(0)
        assert joined.components_row(g) == alone.components_row(0)
        assert joined.explanation_for(g) == alone.explanation_for(0)


def test_rows_containers_accept_plain_lists():
    ia = InteractionRows(
        [0], [1], [to_posix(T)], [1.0], [2], [1], [float("nan")], [60], [0], [1], [1]
    )
    cm = CommitmentRows([0], [7], [to_posix(T)], [KEPT])
    oc = OutcomeRows([0], [9], [to_posix(T)], [100.0])
    s = score_groups(1, ia, cm, oc, at=to_posix(T), level=S)
    assert s.row(0)["given"] == 2 and s.row(0)["reliability"] == pytest.approx(2 / 3)
    assert s.row(0)["ror"] == pytest.approx(0.0)  # Return 100, Investment 100
    e = InteractionRows.empty()
    assert len(e) == 0 and len(CommitmentRows.empty()) == 0 and len(OutcomeRows.empty()) == 0
    s = score_groups(2, e, CommitmentRows.empty(), OutcomeRows.empty(), at=0.0, level=R)
    assert s.row(1)["strength"] is None and s.explanation_for(1)["given"]["top"] == []


def test_top_items_match_a_sorted_reference():
    """top_items per group: largest |contribution| first, ties to the lower id then the
    earlier row, zero and NaN left out; rows in any group order."""
    rng = np.random.default_rng(4)
    for trial in range(200):
        n = int(rng.integers(0, 300))
        # Every fifth trial one group (the incremental case), with its own path.
        group = rng.integers(0, 1 if trial % 5 == 0 else int(rng.integers(1, 30)), n)
        ids = rng.integers(0, 25, n)
        if trial % 2:
            contribution = rng.choice([0.0, np.nan, 1.0, -1.0, 2.0, 0.5, -2.0], n)
        else:
            contribution = rng.normal(size=n)
        if trial % 3 == 0:
            order = np.argsort(group, kind="stable")
            group, ids, contribution = group[order], ids[order], contribution[order]
        items = top_items(group, ids, contribution, "interaction")
        expected = []
        for g in sorted(set(group.tolist())):
            rows = [
                (-abs(c), i, row, c)
                for row, (gg, i, c) in enumerate(zip(group, ids, contribution, strict=True))
                if gg == g and abs(c) > 0
            ]
            expected += [(g, i, c) for _, i, _, c in sorted(rows)[:3]]
        got = list(
            zip(
                items.group.tolist(),
                items.item_id.tolist(),
                items.contribution.tolist(),
                strict=True,
            )
        )
        assert got == [(int(g), int(i), float(c)) for g, i, c in expected]
