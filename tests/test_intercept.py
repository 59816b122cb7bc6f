"""The intercept time (docs/model.md, Engagement feasibility) against closed forms and against
the rule itself evaluated on a fine grid, and the decision-epoch index the calendar files
events under."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shieldwall.jit import cached_njit

from shieldwall.engine.intercept import intercept_time, leg_table
from shieldwall.engine.kernel import EPS_S, _epoch_of


@cached_njit()
def _solve(tau_f, bx, by, speed, minr, maxr, minalt, maxalt, vmax, is_ball, vert_x, vert_y, vert_t, alt, apogee):  # type: ignore[no-untyped-def]
    """intercept_time for one threat (index 0) described by plain arrays."""
    return intercept_time(tau_f, bx, by, speed, minr, maxr, minalt, maxalt, vert_t[-1], 0.5, vmax,
                          is_ball, 0, vert_x.shape[0], alt, apogee, 0.0, leg_table(vert_x, vert_y, vert_t))


def _leg(x0: float, y0: float, x1: float, y1: float, speed_mps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.array([x0, x1]), np.array([y0, y1]),
            np.array([0.0, math.hypot(x1 - x0, y1 - y0) / speed_mps]))


def _holds(tau: float, tau_f: float, xs, ys, ts, alt: float, speed: float, minr: float, maxr: float) -> bool:  # type: ignore[no-untyped-def]
    x, y = np.interp(tau, ts, xs), np.interp(tau, ts, ys)
    d = math.sqrt(x * x + y * y + alt * alt)
    return (tau - tau_f) * speed >= d - 1e-6 and minr - 1e-6 <= d <= maxr + 1e-6


def test_head_on_threat_meets_at_the_closed_form_time() -> None:
    """A drone flying straight at the battery at v from D away; an interceptor of speed s fired
    now meets it after D / (s + v) (ground level: slant range = ground range)."""
    v, s, dist = 50.0, 1000.0, 30_000.0
    xs, ys, ts = _leg(dist, 0.0, 0.0, 0.0, v)
    tau = _solve(0.0, 0.0, 0.0, s, 1000.0, 40_000.0, -1.0, 20_000.0, v, False, xs, ys, ts, 0.0, 0.0)
    assert tau == pytest.approx(dist / (s + v), rel=1e-12)


def test_threat_outside_the_range_envelope_is_met_where_it_enters() -> None:
    """Fired while the drone is 60 km out, a 40 km interceptor can reach it earlier than it can
    legally meet it: the intercept is where the drone crosses 40 km, (60 - 40) km / v."""
    v, s = 50.0, 1000.0
    xs, ys, ts = _leg(60_000.0, 0.0, 0.0, 0.0, v)
    tau = _solve(0.0, 0.0, 0.0, s, 1000.0, 40_000.0, -1.0, 20_000.0, v, False, xs, ys, ts, 0.0, 0.0)
    assert tau == pytest.approx(20_000.0 / v, rel=1e-9)


def test_no_intercept_outside_the_altitude_envelope_or_after_impact() -> None:
    xs, ys, ts = _leg(30_000.0, 0.0, 0.0, 0.0, 50.0)
    assert _solve(0.0, 0.0, 0.0, 1000.0, 1000.0, 40_000.0, 100.0, 20_000.0, 50.0, False, xs, ys, ts, 50.0, 0.0) == -1.0
    # fired too late: the drone lands (at the battery) before anything can reach it inside 1 km
    assert _solve(ts[-1] - 1.0, 0.0, 0.0, 1000.0, 1000.0, 40_000.0, -1.0, 20_000.0, 50.0, False,
                  xs, ys, ts, 0.0, 0.0) == -1.0


def test_random_polylines_give_the_earliest_time_the_rule_holds() -> None:
    """On random dog-leg paths and fire times: the answer satisfies the rule, and the rule
    fails everywhere on a fine grid before it (no earlier intercept was missed)."""
    rng = np.random.default_rng(4)
    checked = found = 0
    for _ in range(300):
        v = rng.uniform(40.0, 300.0)
        pts = rng.uniform(-80_000.0, 80_000.0, size=(3, 2))
        seg = np.hypot(*np.diff(pts, axis=0).T)
        xs, ys, ts = pts[:, 0].copy(), pts[:, 1].copy(), np.concatenate([[0.0], np.cumsum(seg) / v])
        alt = rng.uniform(0.0, 3000.0)
        s, minr, maxr = rng.uniform(300.0, 1500.0), rng.uniform(500.0, 5000.0), rng.uniform(10_000.0, 60_000.0)
        tau_f = rng.uniform(0.0, ts[-1])
        tau = _solve(tau_f, 0.0, 0.0, s, minr, maxr, -1.0, 20_000.0, v, False, xs, ys, ts, alt, 0.0)
        grid_end = tau if tau >= 0.0 else ts[-1]
        grid = np.linspace(tau_f, grid_end, 4000)[:-1]
        assert not any(_holds(g, tau_f, xs, ys, ts, alt, s, minr, maxr) for g in grid[grid < grid_end - 1e-3])
        if tau >= 0.0:
            assert tau_f <= tau < ts[-1]
            assert _holds(tau, tau_f, xs, ys, ts, alt, s, minr, maxr)
            found += 1
        checked += 1
    assert found > 60 and checked - found > 30  # both outcomes are exercised


def test_ballistic_intercept_is_the_earliest_on_the_arc() -> None:
    """A ballistic arc (apogee 50 km) towards the battery: the answer satisfies the rule and a
    fine grid finds nothing earlier."""
    g = 9.80665
    h, ground = 50_000.0, 200_000.0
    flight = 2.0 * math.sqrt(2.0 * h / g)
    xs, ys, ts = np.array([ground, 0.0]), np.array([0.0, 0.0]), np.array([0.0, flight])
    vmax = math.hypot(ground / flight, math.sqrt(2.0 * g * h))
    s, minr, maxr, maxalt = 1500.0, 3000.0, 70_000.0, 24_000.0
    for tau_f in (100.0, 150.0, 180.0):
        tau = _solve(tau_f, 0.0, 0.0, s, minr, maxr, 0.0, maxalt, vmax, True, xs, ys, ts, 0.0, h)
        assert tau > tau_f

        def rule(t: float) -> bool:
            f = min(max(t / flight, 0.0), 1.0)
            x, z = ground * (1.0 - f), 4.0 * h * f * (1.0 - f)
            d = math.hypot(x, z)
            return (t - tau_f) * s >= d - 1e-6 and minr <= d <= maxr + 1e-6 and 0.0 <= z <= maxalt + 1e-6

        assert rule(tau)
        assert not any(rule(t) for t in np.linspace(tau_f, tau - 1e-3, 3000))


def test_ballistic_intercept_is_refined_to_a_microsecond_whichever_condition_turns_true() -> None:
    """The step along the arc brackets the moment the rule turns true; the refinement must
    close that bracket to a microsecond whether the reach gap closes there (aimed at by the
    secant) or the envelope is entered (halved): the answer holds, 2 us earlier it does not,
    and a grid finds nothing earlier. Both cases must occur below, or the test proves less."""
    g = 9.80665
    h, ground = 60_000.0, 250_000.0
    flight = 2.0 * math.sqrt(2.0 * h / g)
    xs, ys, ts = np.array([ground, 0.0]), np.array([0.0, 0.0]), np.array([0.0, flight])
    vmax = math.hypot(ground / flight, math.sqrt(2.0 * g * h))
    s, minr, maxr = 1200.0, 3000.0, 90_000.0
    closed_by = set()
    for maxalt in (15_000.0, 40_000.0):
        for by in (0.0, 20_000.0):
            for tau_f in np.linspace(40.0, 200.0, 9):
                tau = _solve(float(tau_f), 0.0, by, s, minr, maxr, 0.0, maxalt, vmax, True, xs, ys, ts, 0.0, h)
                if tau < 0.0:
                    continue

                def parts(t: float, tau_f: float = float(tau_f), by: float = by, maxalt: float = maxalt) -> tuple[bool, bool]:
                    f = min(max(t / flight, 0.0), 1.0)
                    x, z = ground * (1.0 - f), 4.0 * h * f * (1.0 - f)
                    d = math.sqrt(x * x + by * by + z * z)
                    return (t - tau_f) * s >= d - 1e-6, minr <= d <= maxr + 1e-6 and 0.0 <= z <= maxalt + 1e-6

                assert all(parts(tau))
                before = parts(tau - 2e-6)
                assert not all(before), (maxalt, by, tau_f)
                if tau - 2e-6 > tau_f + 1e-3:  # not the first instant it could be fired
                    closed_by.add("reach" if not before[0] else "envelope")
                    assert not any(all(parts(t)) for t in np.linspace(tau_f, tau - 2e-6, 2000))
    assert closed_by == {"reach", "envelope"}


def test_epoch_index_is_the_first_epoch_that_sees_the_time() -> None:
    """Events are filed under the first epoch k with k * dt + EPS_S >= t, exactly, including
    times on and a rounding step around the grid."""
    rng = np.random.default_rng(9)
    for dt in (0.1, 0.5, 2.0, 3.7):
        on_grid = np.arange(0, 5000) * dt
        times = np.concatenate([rng.uniform(0.0, 20_000.0, 2000), on_grid, on_grid + EPS_S, on_grid + 2 * EPS_S,
                                np.nextafter(on_grid + EPS_S, np.inf)])
        for t in times:
            k = _epoch_of(float(t), dt, 1.0 / dt)
            assert k * dt + EPS_S >= t
            assert k == 0 or (k - 1) * dt + EPS_S < t


def test_leg_table_holds_each_legs_velocity_and_none_where_a_leg_takes_no_time() -> None:
    """The solver reads a leg's velocity from the table: it must be the leg's displacement over
    its duration, and 0 (never a division by zero) for a leg of no duration or the last vertex."""
    xs = np.array([0.0, 100.0, 100.0, 400.0])
    ys = np.array([0.0, 0.0, 50.0, 50.0])
    ts = np.array([0.0, 10.0, 10.0, 40.0])
    legs = leg_table(xs, ys, ts)
    assert legs.shape == (4, 5)
    assert np.array_equal(legs[:, :3], np.column_stack([xs, ys, ts]))
    assert np.array_equal(legs[:, 3], [10.0, 0.0, 10.0, 0.0])
    assert np.array_equal(legs[:, 4], [0.0, 0.0, 0.0, 0.0])
