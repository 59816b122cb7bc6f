"""Fit a raid generator to per-attack counts (the format of the Ukrainian Air Force reports
transcribed in ``missile_attacks_daily_2022-2024.csv``): how often a night has a raid, which
threat families come, how many (negative binomial or empirical), and in what mix.

A night runs from noon to noon and is named by its evening's date: an attack starting at
2023-05-04 01:30 belongs to the night of 2023-05-03. Rows that give a date without a time are
taken as reported the morning after, so they too belong to the night before. Rows that name
several models at once ("X-101/X-555 and Kalibr") cannot be split by the data: their count is
shared equally between the models named."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from shieldwall import limits as L
from shieldwall.campaign.generator import Generator
from shieldwall.campaign.model import GENERATOR_VERSION, GeneratorModel
from shieldwall.catalog.builtin import builtin_catalog
from shieldwall.errors import Problem, ScenarioError

# Weapon models in the reports -> catalog threat ids. A "/" inside one model ("Iskander-M/KN-23")
# is the report's own "either of these"; the count is shared between them.
MODEL_MAP: dict[str, list[str]] = {
    "Shahed-136/131": ["shahed-136"],
    "X-101/X-555": ["kh-101"],
    "Kalibr": ["kalibr"],
    "X-22": ["kh-22"],
    "X-32": ["kh-22"],  # a Kh-22 derivative, same carrier and profile
    "Iskander-M": ["iskander-m"],
    "KN-23": ["kn-23"],
    "Iskander-M/KN-23": ["iskander-m", "kn-23"],
    "X-47 Kinzhal": ["kinzhal"],
}
REQUIRED = ("time_start", "model", "launched")
FAMILY_ORDER = ("drone", "cruise", "ballistic")


_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}):(\d{2})(?::\d{2})?)?$")


def _night(text: str) -> dt.date:
    match = _STAMP.match(text.strip())
    if not match:
        raise ValueError(text)
    day = dt.date.fromisoformat(match.group(1))
    if match.group(2) is None:  # a date without a time: reported the morning after the night
        return day - dt.timedelta(days=1)
    stamp = dt.datetime.combine(day, dt.time(int(match.group(2)), int(match.group(3))))
    return (stamp - dt.timedelta(hours=12)).date()


def _shares(model: str, count: int) -> tuple[dict[str, int], int, bool]:
    """(threat id -> launched, launched not mapped, compound row) for one row."""
    parts = [p.strip() for p in model.split(" and ")]
    each = np.full(len(parts), count // len(parts))
    each[: count % len(parts)] += 1
    out: Counter[str] = Counter()
    unmapped = 0
    for part, n in zip(parts, each):
        ids = MODEL_MAP.get(part)
        if not ids:
            unmapped += int(n)
            continue
        sub = np.full(len(ids), n // len(ids))
        sub[: n % len(ids)] += 1
        for tid, m in zip(ids, sub):
            out[tid] += int(m)
    return dict(out), unmapped, len(parts) > 1


def read_attacks(path: str | Path, start: dt.date | None = None, end: dt.date | None = None) -> dict[str, Any]:
    """Per-night launched counts by threat id, and the bookkeeping of what was left out."""
    import csv

    import io

    from shieldwall.scenario.yaml_source import read_text_once

    name = str(path)
    text = read_text_once(path, limit=L.MAX_RECORD_FILE_BYTES)  # once and bounded: pipes, FIFOs, devices
    handle = io.StringIO(text, newline="")
    nights: dict[dt.date, Counter[str]] = defaultdict(Counter)
    destroyed: Counter[str] = Counter()
    unmapped: dict[str, dict[str, int]] = {}
    rows = used = skipped = compound = 0
    problems: list[Problem] = []
    first = last = None
    reader = csv.DictReader(handle)
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise ScenarioError(name, [Problem(f"not a readable CSV file: {exc}", line=1)]) from None
    with handle:
        missing = [c for c in REQUIRED if c not in (fieldnames or [])]
        if missing:
            raise ScenarioError(name, [Problem(f"missing column `{c}`", line=1, column=1,
                                               expected=f"a CSV with columns {', '.join(REQUIRED)} (and `destroyed`)",
                                               found=", ".join(map(str, fieldnames or []))[:200] or "no header")
                                       for c in missing])
        for line, row in _rows(reader, name):
            rows += 1
            try:
                night = _night(row["time_start"] or "")
            except (ValueError, OverflowError):
                problems.append(Problem("not a date", path="time_start", line=line,
                                        expected="YYYY-MM-DD or YYYY-MM-DD HH:MM", found=repr(row["time_start"])[:60]))
                continue
            if (start and night < start) or (end and night > end):
                continue
            first = night if first is None else min(first, night)
            last = night if last is None else max(last, night)
            text = (row.get("launched") or "").strip()
            if not text:
                skipped += 1
                continue
            try:
                count = int(round(float(text)))
            except (ValueError, OverflowError):  # "many", "nan", "inf"
                problems.append(Problem("not a number", path="launched", line=line, expected="a count",
                                        found=repr(text[:60])))
                continue
            if not 0 <= count <= L.MAX_FAMILY_SIZE:
                problems.append(Problem("negative count" if count < 0 else "more than one night can bring",
                                        path="launched", line=line,
                                        expected=f"a count from 0 to {L.MAX_FAMILY_SIZE:,}", found=text[:60]))
                continue
            model = (row["model"] or "").strip()
            shares, lost, is_compound = _shares(model, count)
            compound += int(is_compound)
            if lost:
                entry = unmapped.setdefault(model, {"rows": 0, "launched": 0})
                entry["rows"] += 1
                entry["launched"] += lost
            if shares:
                used += 1
                nights[night].update(shares)
                try:
                    killed = min(count, max(0, int(round(float(row.get("destroyed") or 0)))))
                except (ValueError, OverflowError):
                    killed = 0
                total = sum(shares.values())
                for tid, n in shares.items():
                    destroyed[tid] += killed * n / max(total + lost, 1)
    if problems:
        raise ScenarioError(name, problems[:50])
    if first is None:
        raise ScenarioError(name, [Problem("no attacks in the chosen dates", path="time_start", line=2 if rows else 1,
                                           hint="no row has a date inside --from/--to" if rows else "no rows")])
    return {"nights": nights, "first": first, "last": last, "rows": rows, "used": used, "skipped": skipped,
            "compound": compound, "unmapped": dict(sorted(unmapped.items(), key=lambda kv: -kv[1]["launched"])),
            "destroyed": destroyed}


def _rows(reader: Any, name: str) -> Any:
    """(line, row) of a csv.DictReader; a malformed CSV (a field past the csv module's size limit,
    a NUL byte) is a located ScenarioError."""
    import csv

    line = 2
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ScenarioError(name, [Problem(f"not a readable CSV row: {exc}", line=reader.line_num)]) from None
        yield line, row
        line = reader.line_num + 1


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


def calibrate_raids(path: str | Path, *, distribution: str = "negative-binomial", start: dt.date | None = None,
                    end: dt.date | None = None) -> dict[str, Any]:
    """The generator file's content (a dict, ready for YAML)."""
    data = read_attacks(path, start, end)
    catalog = builtin_catalog()
    first, last = data["first"], data["last"]
    n_nights = (last - first).days + 1
    nights = data["nights"]
    raid_nights = sorted(nights)
    classes = {tid: catalog.threats[tid].threat_class for ids in MODEL_MAP.values() for tid in ids}
    families = []
    observed_totals = np.array([sum(nights[n].values()) for n in raid_nights])
    for cls in FAMILY_ORDER:
        members = [tid for tid in dict.fromkeys(x for ids in MODEL_MAP.values() for x in ids) if classes[tid] == cls]
        sizes = np.array([sum(nights[n][t] for t in members) for n in raid_nights])
        comes = sizes > 0
        if not comes.any():
            continue
        launched = {t: sum(nights[n][t] for n in raid_nights) for t in members}
        total = sum(launched.values())
        families.append({
            "id": {"drone": "drones", "cruise": "cruise-missiles", "ballistic": "ballistic-missiles"}[cls],
            "probability": round(float(comes.mean()), 6),
            "mix": {t: round(n / total, 6) for t, n in launched.items() if n > 0},
            "size": fit_size(sizes[comes], distribution),
        })
    if not families:  # rows, but none with a launched count of a mapped model
        raise ScenarioError(str(path), [Problem(
            "no launches of a known weapon model to fit", path="launched", line=1,
            hint=f"models shieldwall maps to its catalog: {', '.join(MODEL_MAP)}")])
    launched_by_threat = Counter()
    for n in raid_nights:
        launched_by_threat.update(nights[n])
    doc = {
        "version": GENERATOR_VERSION,
        "kind": "raid-generator",
        "description": f"Raids over Ukraine, nights {first} to {last}, fitted by `shieldwall calibrate raids`.",
        # families come independently, so some drawn raid nights bring nothing: scale up so that
        # the fitted share of nights with a raid matches the data's
        "raid_probability": round(min(1.0, len(raid_nights) / n_nights
                                      / (1.0 - float(np.prod([1.0 - f["probability"] for f in families])))), 6),
        "families": families,
        "provenance": {
            "source_file": Path(path).name,
            "source": "Massive Missile Attacks on Ukraine (Petro Ivaniuk, Kaggle), transcribed from Ukrainian Air "
                      "Force reports; claims by one side, not independently verified",
            "first_night": str(first), "last_night": str(last), "nights": n_nights,
            "raid_nights": len(raid_nights),
            "rows": data["rows"], "rows_used": data["used"], "rows_without_count": data["skipped"],
            "rows_naming_several_models": data["compound"],
            "night": "noon to noon, named by the evening's date; date-only rows go to the night before",
            "model_map": {k: v for k, v in MODEL_MAP.items()},
            "unmapped_models": data["unmapped"],
            "launched_by_threat": {t: int(n) for t, n in launched_by_threat.most_common()},
            "reported_destroyed_fraction": {t: round(data["destroyed"][t] / n, 4)
                                            for t, n in launched_by_threat.items() if n},
        },
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
    import yaml

    out = Path(out)
    head = ("# Raid generator fitted by `shieldwall calibrate raids` (file format: docs/campaign.md).\n"
            f"# Source: {doc['provenance']['source_file']}; nights {doc['provenance']['first_night']} to "
            f"{doc['provenance']['last_night']}. The data file itself is not part of shieldwall.\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8")
    return out
