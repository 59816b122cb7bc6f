"""Local frame: lat/lon in, metres east/north inside.

An azimuthal equidistant projection centred on the scenario origin keeps distances from the
origin exact and others within a fraction of a percent over a few hundred kilometres; the
vertical is height above flat ground, and earth curvature enters only through the radar
horizon (see docs/model.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyproj import Transformer


@dataclass(frozen=True)
class LocalFrame:
    origin_lat: float
    origin_lon: float

    def __post_init__(self) -> None:
        proj = f"+proj=aeqd +lat_0={self.origin_lat} +lon_0={self.origin_lon} +datum=WGS84 +units=m"
        object.__setattr__(self, "_fwd", Transformer.from_crs("EPSG:4326", proj, always_xy=True))
        object.__setattr__(self, "_inv", Transformer.from_crs(proj, "EPSG:4326", always_xy=True))

    def to_local(self, lat: np.ndarray | float, lon: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """(lat, lon) in degrees -> (east_m, north_m)."""
        east, north = self._fwd.transform(np.asarray(lon, float), np.asarray(lat, float))  # type: ignore[attr-defined]
        return np.asarray(east, float), np.asarray(north, float)

    def to_latlon(self, east_m: np.ndarray | float, north_m: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """(east_m, north_m) -> (lat, lon) in degrees."""
        lon, lat = self._inv.transform(np.asarray(east_m, float), np.asarray(north_m, float))  # type: ignore[attr-defined]
        return np.asarray(lat, float), np.asarray(lon, float)


# The 4/3-earth radar horizon (docs/model.md): refraction bends a radar's beam so that it sees as
# far as over a sphere of 4/3 the earth's radius, and a target is above the horizon while its
# ground range is under sqrt(2 k R h_antenna) + sqrt(2 k R h_target). sqrt(2 * 4/3 * 6,371 km)
# is 4,122 m per sqrt(m), rounded to 4,120; the detection kernel (paths.track_times) and the map
# (web.laydown) both read this one constant, so a horizon drawn is the one the engine detects with.
EFFECTIVE_EARTH_RADIUS_M = 4.0 / 3.0 * 6_371_000.0
HORIZON_M_PER_SQRT_M = 4120.0


def radar_horizon_m(antenna_height_m: float, target_altitude_m: float) -> float:
    """Ground range (m) within which a target at ``target_altitude_m`` is above the 4/3-earth
    horizon of an antenna ``antenna_height_m`` above the ground: the engine's detection test."""
    return HORIZON_M_PER_SQRT_M * (float(np.sqrt(max(antenna_height_m, 0.0)))
                                   + float(np.sqrt(max(target_altitude_m, 0.0))))
