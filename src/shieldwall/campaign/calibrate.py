"""Fit a raid generator to per-attack counts (the format of the Ukrainian Air Force reports
transcribed in ``missile_attacks_daily_2022-2024.csv``): how often a night has a raid, which
threat families come, how many (negative binomial or empirical), and in what mix.

The record is read by ``shieldwall.scenario.record`` (nights noon to noon, rows naming several
models shared equally, regional rows that repeat national ones left out, record models mapped to
catalog threats by the shipped, overridable map); this module only fits."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from shieldwall.campaign.generator import Generator
from shieldwall.campaign.model import GENERATOR_VERSION, GeneratorModel
from shieldwall.campaign.trend import HALF_LIFE_MONTHS, fit_family, months_between
from shieldwall.catalog.builtin import builtin_catalog
from shieldwall.scenario.record import ModelMap, read_record

FAMILY_ORDER = ("drone", "cruise", "ballistic")


def read_attacks(path: str | Path, start: dt.date | None = None, end: dt.date | None = None, *,
                 model_map: ModelMap | None = None) -> dict[str, Any]:
    """Per-night launched counts by threat id, and the bookkeeping of what was left out (the
    record's semantics: ``shieldwall.scenario.record``)."""
    record = read_record(path, start, end, model_map=model_map)
    destroyed: Counter[str] = Counter()
    for a in record.counted:
        total = sum(a.threats.values()) + sum(a.unmapped.values())
        for tid, n in a.threats.items():
            destroyed[tid] += a.destroyed * n / max(total, 1)
    book = record.bookkeeping()
    return {"record": record, "nights": record.nights(), "first": record.first, "last": record.last,
            "rows": record.rows, "used": book["rows_used"], "skipped": record.rows_without_count,
            "compound": book["rows_naming_several_models"], "unmapped": record.unmapped(), "destroyed": destroyed,
            "book": book}


def ks_discrete(sample: np.ndarray, cdf: np.ndarray) -> float:
    """sup_x |F_sample(x) - F(x)| over integers x = 0..len(cdf)-1."""
    grid = np.arange(len(cdf))
    ecdf = np.searchsorted(np.sort(sample), grid, side="right") / len(sample)
    return float(np.max(np.abs(ecdf - cdf)))


def fit_size(sizes: np.ndarray, distribution: str) -> dict[str, Any]:
    """1 + NegBinomial by the method of moments (or an empirical table), cut at the largest size seen."""
    from scipy import stats

    sizes = np.asarray(sizes, np.int64)
    top = int(sizes.max())
    out: dict[str, Any] = {"distribution": distribution}
    if distribution == "negative-binomial":
        x = sizes - 1
        m, v = float(x.mean()), float(x.var(ddof=1)) if len(x) > 1 else float(x.mean())
        if m <= 0:
            n, p = 1e6, 1.0
        elif v <= m * 1.0001:  # not over-dispersed: (nearly) Poisson
            n, p = 1e4, 1e4 / (1e4 + m)
        else:
            n, p = m * m / (v - m), m / v
        out.update(n=round(n, 6), p=round(p, 8))
        cdf = np.concatenate([[0.0], stats.nbinom.cdf(np.arange(top), n, p)])
        cdf[-1] = 1.0  # cut at the largest size seen
    else:
        values, counts = np.unique(sizes, return_counts=True)
        out.update(values=values.tolist(), weights=(counts / counts.sum()).round(8).tolist())
        cdf = np.searchsorted(np.sort(sizes), np.arange(top + 1), side="right") / len(sizes)
    out.update(max=top, mean=round(float(sizes.mean()), 3), ks_distance=round(ks_discrete(sizes, cdf), 4),
               observed_nights=int(len(sizes)))
    return out


FAMILY_IDS = {"drone": "drones", "cruise": "cruise-missiles", "ballistic": "ballistic-missiles"}
METHODS = ("trend", "regression", "stationary")


def family_members(model_map: dict[str, list[str]]) -> dict[str, list[str]]:
    """Threat class -> the catalog threats the map can send, in map order."""
    catalog = builtin_catalog()
    ids = list(dict.fromkeys(x for ids in model_map.values() for x in ids))
    return {cls: [t for t in ids if catalog.threats[t].threat_class == cls] for cls in FAMILY_ORDER}


def calibrate_raids(path: str | Path, *, method: str = "trend", distribution: str = "negative-binomial",
                    start: dt.date | None = None, end: dt.date | None = None,
                    half_life_months: float | None = HALF_LIFE_MONTHS,
                    model_map: ModelMap | None = None) -> dict[str, Any]:
    """The generator file's content (a dict, ready for YAML): ``method`` trend (the default:
    campaign/trend.py) or stationary (one distribution for every night, sizes cut at the largest seen)."""
    if method not in METHODS:
        from shieldwall.errors import UsageError

        raise UsageError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    data = read_attacks(path, start, end, model_map=model_map)
    first, last = data["first"], data["last"]
    n_nights = (last - first).days + 1
    nights = data["nights"]
    raid_nights = sorted(nights)
    model_map_dict = data["record"].model_map.as_dict()
    members = family_members(model_map_dict)
    launched_by_threat: Counter[str] = Counter()
    for n in raid_nights:
        launched_by_threat.update(nights[n])
    provenance = {
        "source_file": Path(path).name,
        "source": "Massive Missile Attacks on Ukraine (Petro Ivaniuk, Kaggle), transcribed from Ukrainian Air "
                  "Force reports; claims by one side, not independently verified",
        "first_night": str(first), "last_night": str(last), "nights": n_nights,
        "raid_nights": len(raid_nights),
        "rows": data["rows"], "rows_used": data["used"], "rows_without_count": data["skipped"],
        "rows_naming_several_models": data["compound"],
        "regional_repeats_left_out": data["book"]["regional_repeats_left_out"],
        "night": "noon to noon, named by the evening's date; date-only rows go to the night before",
        "model_map": model_map_dict,
        "unmapped_models": data["unmapped"],
        "launched_by_threat": {t: int(n) for t, n in launched_by_threat.most_common()},
        "reported_destroyed_fraction": {t: round(data["destroyed"][t] / n, 4)
                                        for t, n in launched_by_threat.items() if n},
    }
    if method in ("trend", "regression"):
        return _trend_doc(nights, first, last, members, provenance, half_life_months, stacked=method == "trend")
    return _stationary_doc(nights, raid_nights, n_nights, members, provenance, distribution)


def _trend_doc(nights: dict[dt.date, Counter[str]], first: dt.date, last: dt.date, members: dict[str, list[str]],
               provenance: dict[str, Any], half_life_months: float | None, stacked: bool = True) -> dict[str, Any]:
    from shieldwall.campaign.selection import CANDIDATES, fit_candidates, select_weights

    every = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    age = np.array([months_between(last, n) for n in every])
    weights = np.ones(len(every)) if half_life_months is None else 0.5 ** (-age / half_life_months)
    present = []
    for cls in FAMILY_ORDER:
        sizes = np.array([sum(nights.get(n, {}).get(t, 0) for t in members[cls]) for n in every])
        if (sizes > 0).any():
            present.append((cls, sizes))
    fitted = [fit_candidates(every, sizes, half_life_months) if stacked
              else {"regression": fit_family(every, sizes, last, half_life_months)} for _, sizes in present]
    selection = (select_weights(every, np.stack([s for _, s in present], axis=1), half_life_months, fitted)
                 if stacked and present else None)
    families = []
    for f, (cls, sizes) in enumerate(present):
        launched = {t: float(sum(w * nights.get(n, {}).get(t, 0) for n, w in zip(every, weights)))
                    for t in members[cls]}
        total = sum(launched.values())
        regression = fitted[f]["regression"]
        family = {"id": FAMILY_IDS[cls], "probability": regression["probability"],
                  "mix": {t: round(n / total, 6) for t, n in launched.items() if n > 0},
                  "size": regression["size"], "trend": regression["trend"]}
        if selection is not None:
            w = selection[f]["weights"]
            family["mixture"] = [{"model": name, "weight": w[name]} if name == "regression"
                                 else {"model": name, "weight": w[name], **{k: v for k, v in fitted[f][name].items()
                                                                             if k != "model"}}
                                 for name in CANDIDATES if w[name] > 0]
        families.append(family)
    weighting = ("all nights alike" if half_life_months is None
                 else f"nights weighted 0.5 ** (age / {half_life_months:g} months)")
    regression_text = ("logistic regression of P(comes) and negative-binomial (NB2) log-linear regression of the "
                       "size on months, by maximum likelihood; " + weighting + "; covariance cluster-robust by month; "
                       "AR(1) month effect on the size mean by moments; mix by (weighted) launched share")
    fit: dict[str, Any] = {
        "method": ("per family a mixture of three models, weights by stacking on rolling-origin cross-validation "
                   "inside the window (campaign/selection.py): regression (" + regression_text + "); local level "
                   "and local linear trend state-space models of the monthly logit P(comes) and log mean size "
                   "(campaign/statespace.py)") if stacked else "per family: " + regression_text,
        "half_life_months": half_life_months,
        "note": "probability and size are the regression's at the origin, for readers; every draw uses `trend` "
                "and `mixture`"}
    if selection is not None:
        fit["selection"] = {FAMILY_IDS[cls]: sel for (cls, _), sel in zip(present, selection)}
    return {
        "version": GENERATOR_VERSION, "kind": "raid-generator",
        "description": f"Raids over Ukraine following the trend of nights {first} to {last}, fitted by "
                       "`shieldwall calibrate raids --method " + ("trend" if stacked else "regression") + "`.",
        "method": "trend", "origin": str(last), "raid_probability": 1.0, "families": families,
        "provenance": provenance, "fit": fit,
    }


def _stationary_doc(nights: dict[dt.date, Counter[str]], raid_nights: list[dt.date], n_nights: int,
                    members: dict[str, list[str]], provenance: dict[str, Any], distribution: str) -> dict[str, Any]:
    families = []
    observed_totals = np.array([sum(nights[n].values()) for n in raid_nights])
    for cls in FAMILY_ORDER:
        sizes = np.array([sum(nights[n][t] for t in members[cls]) for n in raid_nights])
        comes = sizes > 0
        if not comes.any():
            continue
        launched = {t: sum(nights[n][t] for n in raid_nights) for t in members[cls]}
        total = sum(launched.values())
        families.append({
            "id": FAMILY_IDS[cls],
            "probability": round(float(comes.mean()), 6),
            "mix": {t: round(n / total, 6) for t, n in launched.items() if n > 0},
            "size": fit_size(sizes[comes], distribution),
        })
    first, last = provenance["first_night"], provenance["last_night"]
    doc = {
        "version": GENERATOR_VERSION,
        "kind": "raid-generator",
        "description": f"Raids over Ukraine, nights {first} to {last}, fitted by `shieldwall calibrate raids`.",
        # families come independently, so some drawn raid nights bring nothing: scale up so that
        # the fitted share of nights with a raid matches the data's
        "raid_probability": round(min(1.0, len(raid_nights) / n_nights
                                      / (1.0 - float(np.prod([1.0 - f["probability"] for f in families])))), 6),
        "families": families,
        "provenance": provenance,
        "fit": {"method": f"families independent given a raid night; size 1 + {distribution} "
                          + ("(method of moments)" if distribution == "negative-binomial" else "table")
                          + ", cut at the largest size seen; mix by launched share"},
    }
    model = GeneratorModel.model_validate(doc)
    simulated = Generator(model).sample(np.random.default_rng(0), 200_000).sum(axis=1)
    simulated = simulated[simulated > 0]
    top = int(max(observed_totals.max(), simulated.max()))
    sim_cdf = np.searchsorted(np.sort(simulated), np.arange(top + 1), side="right") / len(simulated)
    doc["fit"].update({
        "raid_size_ks_distance": round(ks_discrete(observed_totals, sim_cdf), 4),
        "raid_size_observed": {"median": float(np.median(observed_totals)), "mean": round(float(observed_totals.mean()), 3),
                               "p95": round(float(np.quantile(observed_totals, 0.95)), 2), "max": int(observed_totals.max())},
        "raid_size_fitted": {"median": float(np.median(simulated)), "mean": round(float(simulated.mean()), 3),
                             "p95": round(float(np.quantile(simulated, 0.95)), 2), "max_in_200000": int(simulated.max())},
        "note": "KS distances: sup |F_data - F_fit| over sizes; raid size = all threats of a night",
    })
    return doc


def write_generator(doc: dict[str, Any], out: str | Path) -> Path:
    from shieldwall.scenario.yaml_source import yaml_text

    out = Path(out)
    head = ("# Raid generator fitted by `shieldwall calibrate raids` (file format: docs/campaign.md).\n"
            f"# Source: {doc['provenance']['source_file']}; nights {doc['provenance']['first_night']} to "
            f"{doc['provenance']['last_night']}. The data file itself is not part of shieldwall.\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(head + yaml_text(doc, width=110), encoding="utf-8")
    return out
