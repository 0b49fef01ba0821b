"""The installation's score settings (`settings.RAPPORT_SCORES`) for `metrics.scoring`."""

from __future__ import annotations

from django.conf import settings

from . import scoring


def score_settings() -> scoring.ScoreSettings:
    """The installation's DESIGN §3 constants (`settings.RAPPORT_SCORES`)."""
    cfg = settings.RAPPORT_SCORES
    return scoring.ScoreSettings(
        half_life_days=float(cfg["HALF_LIFE_DAYS"]),
        ror_window_days=float(cfg["ROR_WINDOW_DAYS"]),
        hourly_rate=float(cfg["HOURLY_RATE"]),
        trust_weights=dict(cfg["TRUST_WEIGHTS"]),
        kind_weights=dict(cfg["KIND_WEIGHTS"]),
    )
