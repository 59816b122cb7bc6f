"""Sampling a night's raid from a generator: does a raid come, which families, how many of each
threat. Every draw has a fixed shape (whatever the outcomes), so two options run with the same
seed see the same raids (common random numbers).

A stationary generator draws every night alike (sizes cut at the largest seen). A trend generator
(``method: trend``) draws each replication's future once (``paths``: its parameters and month
effects, campaign/trend.py) and each night from it, with nothing capped."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np

from shieldwall.campaign.model import Family, GeneratorModel, WhatIf
from shieldwall.campaign.trend import TrendPaths, draw_sizes

CAP_TAIL = 1e-9  # per-threat compile size: a draw above it has probability below this


def binomial_quantile(q: float, n: int, p: np.ndarray) -> np.ndarray:
    """``scipy.stats.binom.ppf(q, n, p)`` for 0 < q < 1, a whole n >= 0 and 0 <= p <= 1: the
    Boost quantile function that scipy.stats calls there, without importing scipy.stats (half
    a second, most of the time a campaign took to load; tests/test_campaign.py checks that the
    two agree)."""
    try:
        from scipy.special._ufuncs import _binom_ppf
    except ImportError:  # pragma: no cover - a SciPy without it
        from scipy import stats

        return np.asarray(stats.binom.ppf(q, n, p), float)
    return np.asarray(_binom_ppf(q, n, np.asarray(p, float)), float)


class Generator:
    """A validated generator file plus the theatre's ``share`` of it."""

    def __init__(self, model: GeneratorModel, share: float = 1.0, what_if: dict[str, WhatIf] | None = None) -> None:
        self.model = model
        self.share = float(share)
        self.what_if = dict(what_if or {})
        self.threat_ids: list[str] = []
        for family in model.families:
            for tid in family.mix:
                if tid not in self.threat_ids:
                    self.threat_ids.append(tid)

    def _mix(self, family: Family) -> np.ndarray:
        weights = np.array([family.mix.get(t, 0.0) for t in self.threat_ids])
        return weights / weights.sum() if weights.sum() > 0 else weights

    @cached_property
    def caps(self) -> np.ndarray:
        """The most threats of each type one night can bring (what a stationary generator's raid
        is compiled for). Computed when first asked: a trend generator's raid is compiled for
        what was drawn, and never needs the quantile (whose import costs 0.14 s of a campaign)."""
        caps = np.zeros(len(self.threat_ids), np.int64)
        for family in self.model.families:
            p = self._mix(family) * self.share
            caps += np.ceil(binomial_quantile(1.0 - CAP_TAIL, family.size.max, p)).astype(np.int64)
        return np.maximum(caps, 1)

    @property
    def is_trend(self) -> bool:
        return self.model.method == "trend"

    def paths(self, rng: np.random.Generator, n: int, first_night: dt.date, last_night: dt.date) -> TrendPaths | None:
        """Each replication's future (trend generators; None for a stationary one, which needs none)."""
        if not self.is_trend:
            return None
        assert self.model.origin is not None
        return TrendPaths(self.model.families, self.model.origin, rng, n, last_night,
                          [self.what_if.get(f.id) for f in self.model.families], first_night)

    def sample(self, rng: np.random.Generator, n: int, night: dt.date | None = None,
               paths: TrendPaths | None = None) -> np.ndarray:
        """[n, threat] counts for one night in each of n replications (a trend generator needs
        the night and the replications' ``paths``)."""
        if self.is_trend:
            if paths is None or night is None:
                raise ValueError("a trend generator samples a dated night from its paths")
            counts = np.zeros((n, len(self.threat_ids)), np.int64)
            for f, family in enumerate(self.model.families):
                size = draw_sizes(rng, *paths.night(f, night))
                mix = self._mix(family)
                counts += rng.multinomial(size, mix) if mix.sum() > 0 else 0
            return rng.binomial(counts, self.share) if self.share < 1.0 else counts
        raid = rng.random(n) < self.model.raid_probability
        counts = np.zeros((n, len(self.threat_ids)), np.int64)
        for family in self.model.families:
            comes = raid & (rng.random(n) < family.probability)
            size = _draw_sizes(family, rng, n) * comes
            mix = self._mix(family)
            counts += rng.multinomial(size, mix) if mix.sum() > 0 else 0
        if self.share < 1.0:
            counts = rng.binomial(counts, self.share)
        return np.minimum(counts, self.caps)

    def typical_night(self, seed: int = 0, n: int = 200_000, night: dt.date | None = None) -> dict[str, float]:
        """Median total size and median per threat over raid nights (for benchmarks, docs); a
        trend generator's on ``night`` (default: its origin)."""
        rng = np.random.default_rng(seed)
        night = night or self.model.origin
        counts = self.sample(rng, n, night, self.paths(rng, n, night, night) if night else None)
        raid = counts.sum(axis=1) > 0
        total = counts[raid].sum(axis=1)
        return {"median_total": float(np.median(total)), "mean_total": float(total.mean()),
                "p95_total": float(np.quantile(total, 0.95)), "raid_fraction": float(raid.mean()),
                **{t: float(counts[raid, i].mean()) for i, t in enumerate(self.threat_ids)}}


def _draw_sizes(family: Family, rng: np.random.Generator, n: int) -> np.ndarray:
    size = family.size
    if size.distribution == "negative-binomial":
        drawn = 1 + rng.negative_binomial(size.n, size.p, n)
    else:
        weights = np.asarray(size.weights, float)
        drawn = np.asarray(size.values)[rng.choice(len(weights), size=n, p=weights / weights.sum())]
    return np.minimum(drawn, size.max).astype(np.int64)
