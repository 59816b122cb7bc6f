"""The data of a map replay of replication 0: the scenario's laydown (assets, batteries with
their engagement and radar rings, radars) and every threat's track with its end.

Tracks are the run's own (tracks.parquet, written by the engine beside the event log: its paths,
so they pass exactly through the event positions, and the geometry of that run even if the code
or the scenario changed since); launch times come from the event log. One JSON-able dict feeds
the Leaflet replay in the report and in the web app (``static/replay.js``), with the threat classes'
colours and labels from the one table in ``catalog/classes.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from shieldwall.scenario.model import Scenario


# a threat's ends by a hazard along its path (docs/model.md): the event log's names
HAZARD_ENDS = ("suppressed", "diverted", "area-kill")


def laydown(scenario: "Scenario") -> dict[str, Any]:
    """Assets, batteries (engagement ring = longest interceptor range, radar ring), radars and the
    zones of the hazards along the paths (electronic warfare, area defences, acoustic cueing)."""
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
    zones = [{"kind": kind, "id": z.id, "lat": z.lat, "lon": z.lon, "radius_km": z.radius_km, "what": what(z)}
             for kind, items, what in (
                 ("ew", scenario.ew_zones, lambda z: f"jamming {', '.join(z.affects)}, {z.loss_per_km:g} per km"),
                 ("area", scenario.area_defences, lambda z: f"{z.units} x {z.type}"),
                 ("acoustic", scenario.acoustic_sensors, lambda z: f"{z.sensors} x {z.type}, network {z.network}"))
             for z in items]
    out = {
        "name": scenario.name,
        "assets": [{"id": a.id, "lat": a.lat, "lon": a.lon, "value": a.value, "kind": a.kind}
                   for a in scenario.assets],
        "batteries": batteries,
        "radars": [{"id": r.id, "type": r.type, "lat": r.lat, "lon": r.lon,
                    "range_km": catalog.radars[r.type].range_km} for r in scenario.radars],
    }
    if zones:  # electronic warfare, area defences, acoustic cueing (a scenario without them: as it was)
        out["zones"] = zones
    return out


def _text(value: Any) -> str | None:
    """A label from the event log: None (not NaN) where the column is empty."""
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def replay_data(scenario: "Scenario", events: "pd.DataFrame | None", tracks: "pd.DataFrame | None") -> dict[str, Any]:
    """Everything the replay draws. Without events it is the laydown alone; without tracks (a
    run folder from before tracks.parquet) the shots, kills and leaks without the flight paths."""
    from shieldwall.catalog.classes import replay_classes

    data = laydown(scenario)
    data.update({"classes": replay_classes(), "threats": [], "kills": [], "leaks": [], "shots": [], "t_end": 0.0})
    if events is None or not len(events):
        return data
    launch = events[events.event == "launch"].set_index("threat")
    ends = (events[events.event.isin(["kill", "leak", "expire", *HAZARD_ENDS])]
            .drop_duplicates("threat", keep="first").set_index("threat"))
    target: dict[int, str] = {}
    if tracks is None or not len(tracks):
        data["note"] = "this run folder has no tracks.parquet (older runs): shots, kills and leaks without paths"
    else:
        for j, path in tracks.groupby("threat", sort=True):
            j = int(j)
            target[j] = str(path.target.iloc[0])
            if j not in launch.index:
                continue
            row = launch.loc[j]
            end = ends.loc[j] if j in ends.index else None
            t0 = float(row.time_s)
            tau = path.tau_s.to_numpy(float)
            data["threats"].append({
                "i": j, "type": str(path.threat_type.iloc[0]), "cls": str(path["class"].iloc[0]),
                "raid": str(path.raid.iloc[0]), "target": target[j], "t0": round(t0, 1),
                "t1": round(float(end.time_s), 1) if end is not None else round(t0 + float(tau[-1]), 1),
                "outcome": str(end.event) if end is not None else "none",
                "path": [[round(float(a), 4), round(float(b), 4), round(float(c), 1)]
                         for a, b, c in zip(path.lat, path.lon, tau)],
            })
    for kind, key in (("kill", "kills"), ("leak", "leaks")):
        rows = events[events.event == kind]
        data[key] = [{"t": round(float(r.time_s), 1), "lat": float(r.lat), "lon": float(r.lon),
                      "threat": int(r.threat), "type": r.threat_type, "battery": _text(r.battery),
                      "target": target.get(int(r.threat))} for r in rows.itertuples()]
    fires = events[events.event == "fire"]
    data["shots"] = [{"t": round(float(r.time_s), 1), "threat": int(r.threat), "battery": _text(r.battery),
                      "interceptor": _text(r.interceptor), "n": int(r.shots),
                      "lat": float(r.lat), "lon": float(r.lon)} for r in fires.itertuples()]
    ended = events[events.event.isin(HAZARD_ENDS)]  # lost to electronic warfare or shot down by an area defence
    if len(ended):  # (a run without them keeps its replay data as it was)
        data["ended"] = [{"t": round(float(r.time_s), 1), "lat": float(r.lat), "lon": float(r.lon), "how": r.event,
                          "threat": int(r.threat), "type": r.threat_type} for r in ended.itertuples()]
    lost = events[events.event.isin(("battery-lost", "radar-lost"))]  # attacks on the defence: a unit destroyed
    if len(lost):  # (a run without attacks keeps its replay data as it was)
        data["lost"] = [{"t": round(float(r.time_s), 1), ("radar" if r.event == "radar-lost" else "battery"):
                         _text(r.battery), "threat": int(r.threat), "type": r.threat_type} for r in lost.itertuples()]
    data["t_end"] = float(np.ceil(float(events.time_s.max()) + 60.0))  # whole seconds: the slider's steps
    return data
