"""The data of a map replay of replication 0: the scenario's laydown (assets, batteries with
their engagement and radar rings, radars) and every threat's track with its end.

Tracks come from the compiled scenario (the engine's own paths, so they pass exactly through
the event positions) and the launch times of the event log; one JSON-able dict feeds the
Leaflet replay in the report and in the web app (``static/replay.js``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from shieldwall.scenario.model import Scenario

SAMPLE_M = 20_000.0  # one track point every ~20 km: straight in the engine's frame, curved on the map


def laydown(scenario: "Scenario") -> dict[str, Any]:
    """Assets, batteries (engagement ring = longest interceptor range, radar ring) and radars."""
    from shieldwall.catalog.builtin import builtin_catalog

    catalog = scenario.catalog.merged_over(builtin_catalog())
    batteries = []
    for b in scenario.batteries:
        system = catalog.systems[b.system]
        ranges = [catalog.interceptors[k].max_range_km for k, n in b.interceptors.items() if n > 0]
        batteries.append({"id": b.id, "system": b.system, "name": system.name, "lat": b.lat, "lon": b.lon,
                          "engage_km": max(ranges, default=0.0), "radar_km": system.radar_range_km,
                          "interceptors": dict(b.interceptors), "network": b.network,
                          "engage": list(b.engage) if b.engage is not None else None})
    return {
        "name": scenario.name,
        "assets": [{"id": a.id, "lat": a.lat, "lon": a.lon, "value": a.value, "kind": a.kind}
                   for a in scenario.assets],
        "batteries": batteries,
        "radars": [{"id": r.id, "type": r.type, "lat": r.lat, "lon": r.lon,
                    "range_km": catalog.radars[r.type].range_km} for r in scenario.radars],
    }


def _track(compiled: Any, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Threat j's path in the local frame, densified: east, north, seconds after launch."""
    _, off, xs, ys, ts, _, _ = compiled.geo
    x, y, t = xs[off[j]:off[j + 1]], ys[off[j]:off[j + 1]], ts[off[j]:off[j + 1]]
    px, py, pt = [x[:1]], [y[:1]], [t[:1]]
    for i in range(len(x) - 1):
        n = max(1, int(np.ceil(np.hypot(x[i + 1] - x[i], y[i + 1] - y[i]) / SAMPLE_M)))
        f = np.arange(1, n + 1) / n
        px.append(x[i] + f * (x[i + 1] - x[i]))
        py.append(y[i] + f * (y[i + 1] - y[i]))
        pt.append(t[i] + f * (t[i + 1] - t[i]))
    return np.concatenate(px), np.concatenate(py), np.concatenate(pt)


def _text(value: Any) -> str | None:
    """A label from the event log: None (not NaN) where the column is empty."""
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def replay_data(scenario: "Scenario", events: "pd.DataFrame | None", seed: int) -> dict[str, Any]:
    """Everything the replay draws. Without events it is the laydown alone."""
    data = laydown(scenario)
    data.update({"threats": [], "kills": [], "leaks": [], "shots": [], "t_end": 0.0})
    if events is None or not len(events):
        return data
    from shieldwall.engine.compile import compile_scenario

    compiled = compile_scenario(scenario, seed)
    launch = events[events.event == "launch"].set_index("threat")
    ends = (events[events.event.isin(["kill", "leak", "expire"])]
            .drop_duplicates("threat", keep="first").set_index("threat"))
    assets = [a.id for a in scenario.assets]
    target = compiled.thr[2]
    _, off, xs, ys, _, _, _ = compiled.geo
    for j, row in launch.iterrows():
        j = int(j)
        if j >= compiled.n_threats or (  # events of another scenario or seed: keep the laydown only
                "east_m" in row and np.hypot(row.east_m - xs[off[j]], row.north_m - ys[off[j]]) > 100.0):
            return {**laydown(scenario), "threats": [], "kills": [], "leaks": [], "shots": [], "t_end": 0.0,
                    "note": "the event log does not match this scenario and seed: no replay"}
        x, y, t = _track(compiled, j)
        lat, lon = compiled.frame.to_latlon(x, y)
        end = ends.loc[j] if j in ends.index else None
        t0 = float(row.time_s)
        data["threats"].append({
            "i": j, "type": row.threat_type, "cls": compiled.threat_type_class[int(compiled.threat_type[j])],
            "raid": row.raid, "target": assets[int(target[j])], "t0": round(t0, 1),
            "t1": round(float(end.time_s), 1) if end is not None else round(t0 + float(t[-1]), 1),
            "outcome": str(end.event) if end is not None else "none",
            "path": [[round(float(a), 4), round(float(b), 4), round(float(c), 1)] for a, b, c in zip(lat, lon, t)],
        })
    for kind, key in (("kill", "kills"), ("leak", "leaks")):
        rows = events[events.event == kind]
        data[key] = [{"t": round(float(r.time_s), 1), "lat": float(r.lat), "lon": float(r.lon),
                      "threat": int(r.threat), "type": r.threat_type, "battery": _text(r.battery),
                      "target": assets[int(target[int(r.threat)])]} for r in rows.itertuples()]
    fires = events[events.event == "fire"]
    data["shots"] = [{"t": round(float(r.time_s), 1), "threat": int(r.threat), "battery": _text(r.battery),
                      "interceptor": _text(r.interceptor), "n": int(r.shots),
                      "lat": float(r.lat), "lon": float(r.lon)} for r in fires.itertuples()]
    data["t_end"] = float(np.ceil(float(events.time_s.max()) + 60.0))  # whole seconds: the slider's steps
    return data
