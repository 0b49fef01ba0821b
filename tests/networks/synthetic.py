"""A synthetic network shaped like a real relationship graph, for tests and benchmarks.

Stakeholders belong to organisations (small, dense clusters from
co-participation) grouped in sectors (sparser ties between organisations of a
sector, a few across sectors); each internal user keeps a portfolio of
stakeholders concentrated in a couple of sectors. Strength follows DESIGN §3's
``1 - exp(-E / 3)`` with a heavy-tailed E, so most ties are weak and a few strong.

The benchmark figures in the closing note were measured on
``synthetic_network(2_000, 50_000, 250_000, seed=1)`` (52,000 nodes).
"""

from __future__ import annotations

import numpy as np

from networks.graph import MIN_EDGE_STRENGTH, NetworkData, merge_edges


def _strengths(rng: np.random.Generator, size: int) -> np.ndarray:
    return 1.0 - np.exp(-rng.exponential(1.2, size=size) / 3.0) + 0.02


def synthetic_network(
    n_users: int, n_stakeholders: int, n_edges: int, seed: int = 0
) -> NetworkData:
    """About ``n_edges`` edges (a third user-stakeholder), with stored-score arrays filled in."""
    rng = np.random.default_rng(seed)
    user_ids = np.arange(1, n_users + 1) * 10  # ids unlike indices, to catch mix-ups
    stakeholder_ids = np.arange(1, n_stakeholders + 1) * 7 + 3

    org_size = 25
    n_orgs = max(1, n_stakeholders // org_size)
    orgs_per_sector = 40
    org = np.minimum(np.arange(n_stakeholders) // org_size, n_orgs - 1)
    sector = org // orgs_per_sector
    n_sectors = int(sector.max()) + 1

    # Oversample: merging duplicate pairs and the 0.05 cut lose a few per cent.
    n_user_edges = int(n_edges * 0.45)
    n_stake_edges = int(n_edges * 0.95)

    # Users work two home sectors; 85% of their ties fall there.
    home = rng.integers(0, n_sectors, size=(n_users, 2))
    u = rng.integers(0, n_users, size=n_user_edges)
    in_home = rng.random(n_user_edges) < 0.85
    chosen_sector = np.where(in_home, home[u, rng.integers(0, 2, n_user_edges)], -1)
    s_random = rng.integers(0, n_stakeholders, size=n_user_edges)
    sector_start = np.searchsorted(sector, np.maximum(chosen_sector, 0))
    sector_end = np.searchsorted(sector, np.maximum(chosen_sector, 0), side="right")
    s_home = sector_start + (rng.random(n_user_edges) * (sector_end - sector_start)).astype(int)
    s = np.where(in_home, s_home, s_random)
    user_edges = (user_ids[u], stakeholder_ids[s], _strengths(rng, n_user_edges))

    # Stakeholder ties: 70% inside the organisation, 25% inside the sector, 5% anywhere.
    a = rng.integers(0, n_stakeholders, size=n_stake_edges)
    kind = rng.random(n_stake_edges)
    org_start = org[a] * org_size
    org_len = np.minimum(org_size, n_stakeholders - org_start)
    b_org = org_start + (rng.random(n_stake_edges) * org_len).astype(int)
    sec_start = np.searchsorted(sector, sector[a])
    sec_end = np.searchsorted(sector, sector[a], side="right")
    b_sector = sec_start + (rng.random(n_stake_edges) * (sec_end - sec_start)).astype(int)
    b_any = rng.integers(0, n_stakeholders, size=n_stake_edges)
    b = np.where(kind < 0.70, b_org, np.where(kind < 0.95, b_sector, b_any))
    stake_edges = merge_edges(
        (stakeholder_ids[a], stakeholder_ids[b], _strengths(rng, n_stake_edges))
    )
    # Trim to the requested size, keeping the user/stakeholder proportion,
    # after the 0.05 cut that NetworkData.build would apply anyway.
    user_edges = merge_edges(user_edges, directed=True)
    user_edges = tuple(column[user_edges[2] >= MIN_EDGE_STRENGTH] for column in user_edges)
    stake_edges = tuple(column[stake_edges[2] >= MIN_EDGE_STRENGTH] for column in stake_edges)
    want_user = min(len(user_edges[0]), int(n_edges / 3))
    want_stake = min(len(stake_edges[0]), n_edges - want_user)
    pick_u = np.sort(rng.choice(len(user_edges[0]), size=want_user, replace=False))
    pick_s = np.sort(rng.choice(len(stake_edges[0]), size=want_stake, replace=False))

    def nullable(values: np.ndarray, null_share: float) -> np.ndarray:
        values = values.copy()
        values[rng.random(len(values)) < null_share] = np.nan
        return values

    return NetworkData.build(
        user_ids,
        stakeholder_ids,
        user_edges=tuple(column[pick_u] for column in user_edges),
        stakeholder_edges=tuple(column[pick_s] for column in stake_edges),
        key=rng.random(n_stakeholders) < 0.2,
        stakeholder_strength=nullable(rng.random(n_stakeholders), 0.1),
        trust=nullable(rng.random(n_stakeholders), 0.3),
        reciprocity=nullable(rng.random(n_stakeholders), 0.3),
        at_risk=rng.random(n_stakeholders) < 0.1,
        return_value=rng.exponential(1_000.0, n_stakeholders),
        investment=rng.exponential(800.0, n_stakeholders),
    )
