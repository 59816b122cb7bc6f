"""The local frame: pyproj's geodesy, not hand-written formulas, and it round-trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pyproj import Geod

from shieldwall.engine.geometry import LocalFrame


def test_local_frame_round_trips_and_keeps_distances() -> None:
    frame = LocalFrame(49.0, 32.0)
    lat = np.array([49.0, 50.5, 47.2, 49.3])
    lon = np.array([32.0, 30.1, 35.4, 36.0])
    east, north = frame.to_local(lat, lon)
    back_lat, back_lon = frame.to_latlon(east, north)
    np.testing.assert_allclose(back_lat, lat, atol=1e-9)
    np.testing.assert_allclose(back_lon, lon, atol=1e-9)
    geod = Geod(ellps="WGS84")
    # distances from the origin are exact in an azimuthal equidistant frame...
    _, _, from_origin = geod.inv(np.full(4, 32.0), np.full(4, 49.0), lon, lat)
    np.testing.assert_allclose(np.hypot(east, north), from_origin, rtol=1e-6)
    # ...and between other points within a few hundred km, within 0.5 % (docs/model.md)
    _, _, between = geod.inv(lon[1], lat[1], lon[2], lat[2])
    local = np.hypot(east[1] - east[2], north[1] - north[2])
    assert abs(local - between) / between < 0.005


def test_ballistic_and_cruise_kinematics_follow_the_model() -> None:
    """Ballistic: vacuum parabola, T = 2 sqrt(2h/g), apogee h at mid-range; default h = R/4.
    Cruise: constant speed and altitude along launch -> waypoint -> target."""
    import copy

    from conftest import TEST_CATALOG, make_scenario
    from shieldwall.engine.compile import compile_scenario
    from shieldwall.engine.paths import G_MPS2, position

    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["threats"]["srbm"] = {"class": "ballistic", "apogee_km": 50}
    catalog["threats"]["lofted"] = {"class": "ballistic"}
    catalog["threats"]["cm"] = {"class": "cruise", "speed_mps": 250, "altitude_m": 60}
    launch = {"lat": 53.0, "lon": 30.52}
    scenario = make_scenario(catalog=catalog, batteries=[], raids=[
        {"id": "a", "threat": "srbm", "count": 1, "launch": launch, "target": "town"},
        {"id": "b", "threat": "lofted", "count": 1, "launch": launch, "target": "town"},
        {"id": "c", "threat": "cm", "count": 1, "launch": launch, "target": "town",
         "waypoints": [{"lat": 52.0, "lon": 31.5}]}])
    c = compile_scenario(scenario, 1)
    flight = c.threats.flight_s
    x0, y0, _ = position(0, 0.0, c.paths)
    x1, y1, z1 = position(0, flight[0], c.paths)
    ground = np.hypot(x1 - x0, y1 - y0)
    assert abs(flight[0] - 2 * np.sqrt(2 * 50_000 / G_MPS2)) < 1e-9
    assert abs(position(0, flight[0] / 2, c.paths)[2] - 50_000) < 1e-6 and z1 == 0.0
    assert abs(flight[1] - 2 * np.sqrt(2 * (ground / 4) / G_MPS2)) < 1e-6  # default apogee R/4
    # the cruise missile: constant altitude, path length / speed
    xs = np.array([position(2, t, c.paths) for t in np.linspace(0, flight[2], 200)])
    assert np.allclose(xs[:, 2], 60.0)
    length = np.hypot(*np.diff(xs[:, :2], axis=0).T).sum()
    assert abs(length / 250.0 - flight[2]) / flight[2] < 1e-3
    assert length > ground * 1.01  # the waypoint made it longer than the straight line


def _every_sample():  # type: ignore[no-untyped-def]
    """engine.paths.engagement_windows and track_times as they were before they jumped over
    samples out of reach: every sample of every path against every (battery, interceptor) or
    sensor looked at, the references they must equal exactly."""
    import numba

    from shieldwall.engine.paths import min_ground_distance, position

    @numba.njit
    def windows(paths, flight_s, step_s, th_type, th_class, fire_from, bat_x, bat_y, bat_has, bat_engage,  # type: ignore[no-untyped-def]
                itc_speed, itc_minr, itc_maxr, itc_minalt, itc_maxalt, itc_pk):
        n_bat, n_itc = bat_has.shape
        rows = []
        for j in range(flight_s.shape[0]):
            n_steps = int(np.ceil(flight_s[j] / step_s[j])) + 1
            xs, ys, zs, taus = np.empty(n_steps), np.empty(n_steps), np.empty(n_steps), np.empty(n_steps)
            for i in range(n_steps):
                taus[i] = min(i * step_s[j], flight_s[j])
                xs[i], ys[i], zs[i] = position(j, taus[i], paths)
            for b in range(n_bat):
                if not bat_engage[b, th_class[j]] or fire_from[j, b] == np.inf:
                    continue
                near = min_ground_distance(j, bat_x[b], bat_y[b], paths)
                for k in range(n_itc):
                    if not bat_has[b, k] or itc_pk[k, th_type[j]] <= 0.0 or near > itc_maxr[k]:
                        continue
                    lo, hi = np.inf, -np.inf
                    for i in range(n_steps - 1):
                        dx = xs[i] - bat_x[b]
                        dy = ys[i] - bat_y[b]
                        d = np.sqrt(dx * dx + dy * dy + zs[i] * zs[i])
                        tau_f = taus[i] - d / itc_speed[k]
                        ok = (itc_minr[k] <= d <= itc_maxr[k] and itc_minalt[k] <= zs[i] <= itc_maxalt[k]
                              and tau_f >= fire_from[j, b] and tau_f >= 0.0)
                        if ok:
                            lo, hi = min(lo, tau_f), max(hi, tau_f)
                        if (not ok or i == n_steps - 2) and lo <= hi:
                            rows.append((j, b, k, lo, hi))
                            lo, hi = np.inf, -np.inf
        return rows

    @numba.njit
    def tracks(paths, flight_s, step_s, rcs_m2, sen_x, sen_y, sen_h, sen_range_m, sen_net, n_net):  # type: ignore[no-untyped-def]
        out = np.full((flight_s.shape[0], n_net), np.inf)
        for j in range(flight_s.shape[0]):
            scale = rcs_m2[j] ** 0.25
            found = 0
            for i in range(int(np.ceil(flight_s[j] / step_s[j])) + 1):
                tau = min(i * step_s[j], flight_s[j])
                x, y, z = position(j, tau, paths)
                for s in range(sen_x.shape[0]):
                    if out[j, sen_net[s]] < np.inf:
                        continue
                    dx = x - sen_x[s]
                    dy = y - sen_y[s]
                    ground = np.sqrt(dx * dx + dy * dy)
                    if ground > 4120.0 * (np.sqrt(sen_h[s]) + np.sqrt(max(z, 0.0))):
                        continue
                    dz = z - sen_h[s]
                    if np.sqrt(ground * ground + dz * dz) <= sen_range_m[s] * scale:
                        out[j, sen_net[s]] = tau
                        found += 1
                if found == n_net:
                    break
        return out

    def as_arrays(*args):  # type: ignore[no-untyped-def]
        rows = windows(*args)
        return tuple(np.array([r[i] for r in rows], np.int64 if i < 3 else float) for i in range(5))

    return as_arrays, tracks


def test_geometry_equals_that_of_every_sample(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Jumping over the samples out of an interceptor's reach or a sensor's range gives exactly
    (bit for bit) the engagement windows and track times of looking at every sample: on every
    example raid, on a campaign's compiles, and with batteries and sensors moved to random
    places, of random reaches (many ins and outs of reach)."""
    import shieldwall.engine.compile as compile_module
    from shieldwall.campaign import load_campaign, run_campaign
    from shieldwall.engine.paths import engagement_windows, track_times
    from shieldwall.scenario.load import load_scenario

    windows_reference, tracks_reference = _every_sample()
    calls: dict[str, list] = {"windows": [], "tracks": []}

    def recorded(kind, fn):  # type: ignore[no-untyped-def]
        def call(*args):  # type: ignore[no-untyped-def]
            calls[kind].append(args)
            return fn(*args)
        return call

    monkeypatch.setattr(compile_module, "engagement_windows", recorded("windows", engagement_windows))
    monkeypatch.setattr(compile_module, "track_times", recorded("tracks", track_times))
    examples = Path(__file__).resolve().parents[1] / "examples"
    for name in ("city-defence", "massive-raid", "three-cities", "small"):
        compile_module.compile_scenario(load_scenario(examples / f"{name}.yaml"), 3)
    run_campaign(load_campaign(examples / "campaign-winter.yaml"), replications=1, seed=3)
    assert len(calls["windows"]) >= 6
    rng = np.random.default_rng(20)
    for args in list(calls["windows"]):
        for _ in range(3):  # the same paths against batteries anywhere, of any reach
            moved = list(args)
            n_bat = len(args[6])
            moved[6] = args[6] + rng.normal(0.0, 60_000.0, n_bat)
            moved[7] = args[7] + rng.normal(0.0, 60_000.0, n_bat)
            moved[12] = args[12] * rng.uniform(0.2, 3.0, len(args[12]))
            moved[11] = np.minimum(args[11], moved[12])
            calls["windows"].append(tuple(moved))
    for args in list(calls["tracks"]):
        for _ in range(3):  # sensors anywhere, of any range
            moved = list(args)
            n_sen = len(args[4])
            moved[4] = args[4] + rng.normal(0.0, 100_000.0, n_sen)
            moved[5] = args[5] + rng.normal(0.0, 100_000.0, n_sen)
            moved[7] = args[7] * rng.uniform(0.1, 2.0, n_sen)
            calls["tracks"].append(tuple(moved))
    windows_seen = 0
    for args in calls["windows"]:
        got, expected = engagement_windows(*args), windows_reference(*args)
        for a, b in zip(got, expected):
            assert a.dtype == b.dtype and np.array_equal(a, b)  # bit for bit: no tolerance
        windows_seen += len(got[0])
    assert windows_seen > 1000
    tracked = 0
    for args in calls["tracks"]:
        got, expected = track_times(*args), tracks_reference(*args)
        assert np.array_equal(got, expected)
        tracked += int(np.isfinite(got).sum())
    assert tracked > 1000 and len(calls["tracks"]) >= 24
