"""Weapon-target assignment: problem, readers, generators and the common checks over every registered solver."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest

from shieldwall.errors import ShieldwallError
from shieldwall.wta import (
    InstanceFormatError,
    Problem,
    WTAError,
    check_assignment,
    evaluate,
    generate_andersen,
    generate_square,
    get_solver,
    read_andersen,
    read_instance,
    read_square,
    solver_ids,
)
from shieldwall.wta.solvers import STATUSES

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wta"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/wta is absent (public clone)")


# ---------------------------------------------------------------------------------------------- helpers


def brute_force(problem: Problem) -> float:
    """Least objective over every assignment (units may stay idle) by enumeration; tiny instances only."""
    m, n = problem.p.shape
    per_type = []
    for i in range(m):
        opts = [v for v in itertools.product(range(problem.counts[i] + 1), repeat=n) if sum(v) <= problem.counts[i]]
        if problem.mask is not None:
            opts = [v for v in opts if all(problem.mask[i, j] or v[j] == 0 for j in range(n))]
        per_type.append(opts)
    best = np.inf
    for rows in itertools.product(*per_type):
        best = min(best, evaluate(problem, np.array(rows)))
    return best


def tiny_instances() -> list[Problem]:
    out = []
    for seed in range(4):
        out.append(generate_andersen(2, mu=2, seed=seed))  # 2 types x 2 units, 4 targets
        out.append(generate_square(4, seed=seed))
    rng = np.random.default_rng(7)
    for k in range(3):  # cost-aware with masks: idle units and forbidden pairs matter
        m, n = 3, 3
        out.append(Problem(values=rng.uniform(1, 10, n), p=rng.uniform(0.2, 0.9, (m, n)), counts=[2, 1, 1],
                           costs=rng.uniform(0.5, 4.0, m), cost_weight=1.0, mask=rng.random((m, n)) < 0.7,
                           name=f"cost-{k}"))
    return out


TINY = tiny_instances()
OPTIMA = [brute_force(p) for p in TINY]


@pytest.fixture(scope="module", autouse=True)
def warm():
    """Compile or load every kernel once, so that the time-limit check below measures solving."""
    from shieldwall.wta.solvers import compile_kernels

    compile_kernels()
    for sid in solver_ids():
        get_solver(sid, time_limit_s=5).solve(generate_andersen(3, mu=2, seed=0))


# ---------------------------------------------------------------------------------------------- problem


def test_evaluate_by_hand():
    p = Problem(values=[10.0, 4.0], p=[[0.5, 0.2], [0.9, 0.0]], counts=[2, 1], costs=[1.0, 3.0], cost_weight=0.5)
    x = np.array([[1, 1], [1, 0]])
    # target 0: 10 * 0.5 * 0.1 = 0.5; target 1: 4 * 0.8 = 3.2; cost 0.5 * (2 * 1 + 1 * 3) = 2.5
    assert evaluate(p, x) == pytest.approx(0.5 + 3.2 + 2.5)
    assert check_assignment(p, x) == []
    assert check_assignment(p, np.array([[2, 1], [0, 0]])) != []


def test_problem_validation():
    with pytest.raises(WTAError, match="kill probabilities"):
        Problem(values=[1.0], p=[[1.5]], counts=[1])
    with pytest.raises(WTAError, match="values has"):
        Problem(values=[1.0, 2.0], p=[[0.5]], counts=[1])
    assert issubclass(WTAError, ShieldwallError)


def test_generators_are_seeded_and_in_range():
    a, b = generate_andersen(10, mu=3, seed=5), generate_andersen(10, mu=3, seed=5)
    assert np.array_equal(a.p, b.p) and np.array_equal(a.values, b.values)
    assert a.p.shape == (10, 20) and set(a.counts) == {3}
    assert np.all(a.values == np.round(a.values)) and a.values.min() >= 1 and a.values.max() <= 100
    s = generate_square(30, seed=2)
    assert s.p.min() >= 0.6 and s.p.max() <= 0.9 and s.values.min() >= 25 and s.values.max() <= 100
    assert not np.array_equal(generate_square(30, seed=3).p, s.p)


def test_readers_round_trip(tmp_path):
    prob = generate_andersen(3, mu=2, seed=1)
    lines = ["3 6 2"] + [f"{v:g}" for v in prob.values]
    lines += [f"{i} {j} {float(prob.p[i, j])!r}" for i in range(3) for j in range(6)]
    f = tmp_path / "a.txt"
    f.write_text("\n".join(lines) + "\n")
    got = read_instance(f)
    assert np.array_equal(got.p, prob.p) and np.array_equal(got.values, prob.values) and got.name == "a"
    sq = "3\n10 20 30\n0.5 0.6 0.7\n0.1 0.2 0.3\n 0.9 0.8\n0.7\n"
    g = read_square(sq)
    assert g.p[2].tolist() == [0.9, 0.8, 0.7] and g.counts.tolist() == [1, 1, 1]


@pytest.mark.parametrize("text, reader, line, match", [
    ("2 4 1\n1\n2\n3\n", read_andersen, 4, "ends early"),
    ("1 1 1\n5\n0 0 abc\n", read_andersen, 3, "expected a number"),
    ("1 1 1\n5\n0 3 0.5\n", read_andersen, 3, "out of range"),
    ("1 1 1\n5\n0 0 1.5\n", read_andersen, 3, "outside"),
    ("2\n1 2\n0.5 0.5\n0.5 nope\n", read_square, 4, "expected a number"),
    ("2\n1 2\n0.5 0.5\n0.5 0.5 0.1\n", read_square, 4, "extra"),
])
def test_reader_errors_carry_line_numbers(text, reader, line, match):
    with pytest.raises(InstanceFormatError, match=match) as exc:
        reader(text, file="x.txt")
    assert exc.value.line == line
    assert f"x.txt:{line}:" in str(exc.value)


# ---------------------------------------------------------------------------------------------- common checks


@pytest.mark.parametrize("solver_id", solver_ids())
@pytest.mark.parametrize("k", range(len(TINY)))
def test_common_checks(solver_id, k):
    problem, opt = TINY[k], OPTIMA[k]
    res = get_solver(solver_id, time_limit_s=5, seed=3).solve(problem)
    assert check_assignment(problem, res.assignment) == []
    assert res.objective == pytest.approx(evaluate(problem, res.assignment), rel=1e-12)
    assert res.status in STATUSES
    # the bound is a true lower bound on the optimum, and the objective cannot beat the optimum
    assert res.lower_bound <= opt + 1e-9 * max(1.0, opt)
    assert res.objective >= opt - 1e-9 * max(1.0, opt)
    assert 0.0 <= res.gap <= 1.0 + 1e-12
    if res.status == "optimal":
        assert res.objective == pytest.approx(opt, rel=1e-9, abs=1e-12)
    again = get_solver(solver_id, time_limit_s=5, seed=3).solve(problem)
    assert np.array_equal(again.assignment, res.assignment)


@pytest.mark.parametrize("k", range(len(TINY)))
def test_exact_matches_enumeration(k):
    res = get_solver("exact", time_limit_s=10).solve(TINY[k])
    assert res.status == "optimal"
    assert res.objective == pytest.approx(OPTIMA[k], rel=1e-9, abs=1e-12)


def test_cost_weight_leaves_units_idle():
    # one cheap weak unit and one dear strong one; the dear one is not worth its cost here
    p = Problem(values=[10.0], p=[[0.5], [0.9]], counts=[1, 1], costs=[0.1, 50.0], cost_weight=1.0)
    for sid in solver_ids():
        res = get_solver(sid, time_limit_s=5).solve(p)
        assert res.assignment.tolist() == [[1], [0]], sid


@pytest.mark.parametrize("solver_id", solver_ids())
def test_time_limit_is_respected_loosely(solver_id):
    """A behaviour, not a timing: the solver stops near its limit and still answers. The bound
    is loose (machines here are shared and slow) and kernels are compiled first."""
    from shieldwall.wta.solvers import compile_kernels

    compile_kernels()
    problem = generate_andersen(60, mu=3, seed=11)
    res = get_solver(solver_id, time_limit_s=0.3).solve(problem)
    assert res.time_s < 0.3 + 5.0
    assert check_assignment(problem, res.assignment) == []


def test_heuristics_improve_on_greedy_and_exact_proves_mid_size():
    problem = generate_andersen(30, mu=2, seed=4)
    g = get_solver("greedy").solve(problem)
    ls = get_solver("local-search", time_limit_s=2).solve(problem)
    ex = get_solver("exact", time_limit_s=30).solve(problem)
    assert ls.objective <= g.objective + 1e-12
    assert ex.status == "optimal" and ex.gap <= 1e-6
    assert ex.objective <= ls.objective + 1e-9
    assert ex.lower_bound <= ex.objective + 1e-12


def test_unknown_solver_and_setting():
    with pytest.raises(WTAError, match="unknown solver"):
        get_solver("cplex")
    with pytest.raises(WTAError, match="unknown settings"):
        get_solver("greedy", colour="red")


# ---------------------------------------------------------------------------------------------- shared instances


def _proven(folder: Path) -> dict[str, float]:
    """Instances whose best_known.csv records a proof of optimality, with the best upper bound."""
    out = {}
    with (folder / "best_known.csv").open() as fh:
        for row in csv.DictReader(fh):
            runs = row.get("proven_opt_runs(approach:time)")
            proven = bool(runs) if runs is not None else float(row["gap_pct"]) <= 1e-3
            if proven:
                out[row["instance"]] = float(row["best_UB"])
    return out


SHARED_CASES = [("square", n) for n in ("wta5", "wta10", "wta20", "wta30", "wta40")] + [
    ("andersen2022", "wta_50x100x1"), ("andersen2022", "wta_100x200x1"), ("andersen2022", "wta_50x100x2")]


@needs_shared
@pytest.mark.parametrize("family, name", SHARED_CASES)
def test_known_optima_of_shared_instances(family, name):
    folder = SHARED / family
    best = _proven(folder)
    assert name in best
    res = get_solver("exact", time_limit_s=60).solve(read_instance(folder / f"{name}.txt"))
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best[name], rel=1e-6)


@needs_shared
def test_wta5_optimum_is_the_documented_one():
    res = get_solver("exact").solve(read_instance(SHARED / "square" / "wta5.txt"))
    assert res.objective == pytest.approx(48.364, abs=1e-6)


# ---------------------------------------------------------------------------------------------- the proof's parts


def _all_patterns(problem: Problem, j: int):
    ranges = [range(c + 1) if problem.allowed()[i, j] else range(1) for i, c in enumerate(problem.counts)]
    return [np.array(a) for a in itertools.product(*ranges)]


@pytest.mark.parametrize("seed", range(6))
def test_pricing_and_enumeration_are_exact(seed):
    """The lower bounds and the optimality proof rest on two kernels: the least-value pattern per target
    (pricing) and every pattern within a threshold (enumeration). Both against brute force."""
    from shieldwall.wta._kernels import enumerate_kernel, price_kernel
    from shieldwall.wta.base import SolverArrays

    rng = np.random.default_rng(seed)
    m, n = 4, 3
    prob = Problem(values=rng.uniform(1, 50, n), p=rng.uniform(0.05, 0.95, (m, n)), counts=rng.integers(0, 3, m),
                   costs=rng.uniform(0, 2, m), cost_weight=float(seed % 2), mask=rng.random((m, n)) < 0.8)
    arr = SolverArrays(prob)
    duals = rng.uniform(0, 15, m)
    best, pats = price_kernel(arr.values, arr.q, arr.w, arr.allowed, arr.counts, arr.ucost, duals)
    cu = arr.ucost + duals
    thr = np.empty(n)
    want = 0
    for j in range(n):
        vals = [prob.values[j] * np.prod(arr.q[:, j] ** a) + cu @ a for a in _all_patterns(prob, j)]
        assert best[j] == pytest.approx(min(vals), rel=1e-12)
        row = pats[j][pats[j] >= 0]
        a = np.bincount(row, minlength=m)
        assert prob.values[j] * np.prod(arr.q[:, j] ** a) + cu @ a == pytest.approx(best[j], rel=1e-12)
        thr[j] = best[j] + rng.uniform(0, 10)
        want += sum(v <= thr[j] for v in vals)
    tg, *_rest, overflow = enumerate_kernel(arr.values, arr.q, arr.w, arr.allowed, arr.counts, arr.ucost, duals,
                                            best, thr, 10_000, 80_000)
    assert not overflow
    assert tg.size == want


def test_warm_up_compiles_every_kernel_the_solvers_call() -> None:
    """compile_kernels runs every registered solver and epoch algorithm; afterwards no kernel
    that is called from Python (not only inlined into another) is left to compile mid-timing."""
    from numba.core.registry import CPUDispatcher

    from shieldwall.wta import _kernels as K
    from shieldwall.wta.solvers import compile_kernels

    compile_kernels()
    called = {"greedy_kernel", "ils_kernel", "descend", "price_kernel", "enumerate_kernel", "epoch_greedy",
              "epoch_improve", "_survival", "_reinsert"}
    kernels = {n: f for n, f in vars(K).items() if isinstance(f, CPUDispatcher)}
    assert called <= set(kernels)
    assert [n for n in sorted(called) if not kernels[n].signatures] == []


def test_descent_is_skipped_when_one_pass_cannot_fit_the_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    """mu = 100,000: one move/swap pass is quadratic in the units (minutes); with -t 1 the solvers
    used to run it anyway. Now no pass starts that cannot end before the deadline."""
    import time

    from shieldwall.wta import _kernels, search
    from shieldwall.wta.base import SolverArrays, x_from_units
    from shieldwall.wta.problem import generate_andersen

    big = generate_andersen(3, mu=100_000, seed=1, n=6)
    arr = SolverArrays(big)
    assert not search.descent_fits(arr, time.perf_counter() + 1.0)
    small = SolverArrays(generate_andersen(3, mu=2, seed=1))
    assert search.descent_fits(small, time.perf_counter() + 1.0)

    def never(*args: object) -> None:
        raise AssertionError("a descent pass ran past the deadline")

    monkeypatch.setattr(_kernels, "descend", never)
    x = np.zeros(big.p.shape, np.int64)
    assert search.polish(big, arr, x, time.perf_counter() + 1.0) is x
    x0 = x_from_units(arr, np.zeros(arr.unit_type.size, np.int64), big.p.shape)
    monkeypatch.setattr(_kernels, "ils_kernel", never)
    _, done, timed_out = search.iterated_local_search(big, arr, x0, 0, time.perf_counter() + 1.0, 100, 10, 3, 10)
    assert done == 0 and timed_out


def test_instances_past_the_bounds_are_refused_with_their_line(tmp_path: Path) -> None:
    from shieldwall.wta.problem import InstanceFormatError, read_instance

    (tmp_path / "huge.txt").write_text("2 3 1000000000\n")
    with pytest.raises(InstanceFormatError, match="huge.txt:1: units in all: 2,000,000,000 is more than"):
        read_instance(tmp_path / "huge.txt")
    (tmp_path / "wide.txt").write_text("100000\n")
    with pytest.raises(InstanceFormatError, match="weapon types: 100,000"):
        read_instance(tmp_path / "wide.txt")
