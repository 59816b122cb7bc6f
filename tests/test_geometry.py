"""The local frame: pyproj's geodesy, not hand-written formulas, and it round-trips."""

from __future__ import annotations

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
