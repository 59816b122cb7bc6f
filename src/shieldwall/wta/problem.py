"""The static weapon-target assignment problem, its evaluator, readers and generators.

A problem has ``m`` weapon types and ``n`` targets. Type ``i`` has ``counts[i]`` identical units; one unit of type
``i`` fired at target ``j`` kills it with probability ``p[i, j]``, independently of the others. An assignment is an
integer matrix ``x[m, n]`` (units of type ``i`` on target ``j``) and costs

    sum_j values[j] * prod_i (1 - p[i, j]) ** x[i, j]  +  cost_weight * sum_ij costs[i] * x[i, j]

(expected surviving target value plus the weighted cost of the units fired). ``mask[i, j] = False`` forbids type ``i``
on target ``j`` (outside its envelope). Units need not all be used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from shieldwall import limits as L
from shieldwall.errors import ShieldwallError

__all__ = [
    "Problem",
    "WTAError",
    "InstanceFormatError",
    "evaluate",
    "check_assignment",
    "read_instance",
    "read_andersen",
    "read_square",
    "generate_square",
    "generate_andersen",
]


class WTAError(ShieldwallError):
    """A weapon-target assignment input that cannot be used as given."""


class InstanceFormatError(WTAError):
    """An instance file that does not follow its format; carries the file and the 1-based line."""

    def __init__(self, file: str | None, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = file or "<input>"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, eq=False)
class Problem:
    """A static WTA instance. Arrays are copied to float64 / int64 and made read-only."""

    values: np.ndarray  # (n,) target values V_j >= 0
    p: np.ndarray  # (m, n) kill probabilities in [0, 1]
    counts: np.ndarray  # (m,) units per weapon type, >= 0
    costs: np.ndarray | None = None  # (m,) cost of one unit of each type
    cost_weight: float = 0.0  # lambda: weight of the interceptor cost against surviving value
    mask: np.ndarray | None = None  # (m, n) bool, True where type i may engage target j
    name: str = ""
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        v = np.array(self.values, dtype=np.float64).reshape(-1)
        p = np.array(self.p, dtype=np.float64)
        if p.ndim != 2:
            raise WTAError(f"p must be a 2-D array (types x targets), got shape {p.shape}")
        m, n = p.shape
        c = np.array(self.counts, dtype=np.int64).reshape(-1)
        if c.size == 1 and m != 1:
            c = np.full(m, int(c[0]), dtype=np.int64)
        if v.shape != (n,):
            raise WTAError(f"values has {v.size} entries but p has {n} targets (columns)")
        if c.shape != (m,):
            raise WTAError(f"counts has {c.size} entries but p has {m} weapon types (rows)")
        if not np.all(np.isfinite(v)) or np.any(v < 0):
            raise WTAError("target values must be finite and >= 0")
        if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
            raise WTAError("kill probabilities must lie in [0, 1]")
        if np.any(c < 0):
            raise WTAError("unit counts must be >= 0")
        costs = None
        if self.costs is not None:
            costs = np.array(self.costs, dtype=np.float64).reshape(-1)
            if costs.shape != (m,):
                raise WTAError(f"costs has {costs.size} entries but there are {m} weapon types")
            if not np.all(np.isfinite(costs)) or np.any(costs < 0):
                raise WTAError("unit costs must be finite and >= 0")
        lam = float(self.cost_weight)
        if not np.isfinite(lam) or lam < 0:
            raise WTAError("cost_weight must be finite and >= 0")
        mask = None
        if self.mask is not None:
            mask = np.array(self.mask, dtype=bool)
            if mask.shape != (m, n):
                raise WTAError(f"mask has shape {mask.shape}, expected {(m, n)}")
        for name, arr in (("values", v), ("p", p), ("counts", c), ("costs", costs), ("mask", mask)):
            if arr is not None:
                arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "cost_weight", lam)

    @property
    def n_types(self) -> int:
        return int(self.p.shape[0])

    @property
    def n_targets(self) -> int:
        return int(self.p.shape[1])

    @property
    def n_units(self) -> int:
        return int(self.counts.sum())

    def unit_costs(self) -> np.ndarray:
        """lambda * cost of one unit of each type (zeros without costs)."""
        if self.costs is None or self.cost_weight == 0.0:
            return np.zeros(self.n_types)
        return self.cost_weight * self.costs

    def allowed(self) -> np.ndarray:
        """(m, n) bool: where a unit may be placed (mask, and p > 0)."""
        key = "allowed"
        if key not in self._cache:
            a = self.p > 0
            if self.mask is not None:
                a &= self.mask
            a.setflags(write=False)
            self._cache[key] = a
        return self._cache[key]

    def evaluate(self, x: np.ndarray) -> float:
        return evaluate(self, x)


def _as_assignment(problem: Problem, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.shape != problem.p.shape:
        raise WTAError(f"assignment has shape {x.shape}, expected {problem.p.shape}")
    return x.astype(np.int64, copy=False)


def evaluate(problem: Problem, x: np.ndarray) -> float:
    """Objective of the assignment ``x[m, n]``: expected surviving value plus lambda * cost."""
    x = _as_assignment(problem, x)
    ii, jj = np.nonzero(x > 0)
    surv = problem.values.copy()
    np.multiply.at(surv, jj, (1.0 - problem.p[ii, jj]) ** x[ii, jj])
    obj = float(surv.sum())
    if problem.costs is not None and problem.cost_weight:
        obj += problem.cost_weight * float(problem.costs @ x.sum(axis=1))
    return obj


def check_assignment(problem: Problem, x: np.ndarray) -> list[str]:
    """Reasons why ``x`` is infeasible; empty when it is feasible."""
    x = _as_assignment(problem, x)
    bad = []
    if np.any(x < 0):
        bad.append("negative entries")
    over = np.nonzero(x.sum(axis=1) > problem.counts)[0]
    if over.size:
        bad.append(f"types {over[:5].tolist()} use more units than they have")
    if problem.mask is not None and np.any((x > 0) & ~problem.mask):
        bad.append("units assigned outside the feasibility mask")
    return bad


# ----------------------------------------------------------------------------------------------- readers


def _tokens(text: str):
    """(token, 1-based line) for every whitespace-separated token."""
    for lineno, line in enumerate(text.splitlines(), start=1):
        for tok in line.split():
            yield tok, lineno


def _num(tok: str, line: int, file: str | None, what: str, kind=float):
    try:
        val = kind(tok)
    except ValueError:
        raise InstanceFormatError(file, line, f"{what}: expected {'an integer' if kind is int else 'a number'}, "
                                              f"found {tok!r}") from None
    if kind is float and not np.isfinite(val):
        raise InstanceFormatError(file, line, f"{what}: expected a finite number, found {tok!r}")
    return val


def _check_size(file: str | None, line: int, m: int, n: int, units: int) -> None:
    """The bounds of shieldwall.limits: past them an instance does not fit a solver's memory or time."""
    for what, value, most in (("weapon types", m, L.MAX_WTA_TYPES), ("targets", n, L.MAX_WTA_TARGETS),
                              ("types x targets", m * n, L.MAX_WTA_CELLS), ("units in all", units, L.MAX_WTA_UNITS)):
        if value > most:
            raise InstanceFormatError(file, line, f"{what}: {value:,} is more than the {most:,} shieldwall solves "
                                                  "(docs/wta.md, Bounds)")


def read_andersen(text: str, file: str | None = None, name: str = "") -> Problem:
    """Andersen-Pavlikov-Toffolo format: ``m n mu``; n lines V_j; m*n lines ``i j p_ij`` (0-based i, j)."""
    lines = text.splitlines()
    rows = [(k + 1, ln.split()) for k, ln in enumerate(lines) if ln.strip()]
    if not rows:
        raise InstanceFormatError(file, None, "empty file")
    head_line, head = rows[0]
    if len(head) != 3:
        raise InstanceFormatError(file, head_line, f"header must be 'm n mu' (3 integers), found {len(head)} fields")
    m = _num(head[0], head_line, file, "m (weapon types)", int)
    n = _num(head[1], head_line, file, "n (targets)", int)
    mu = _num(head[2], head_line, file, "mu (units per type)", int)
    if m < 1 or n < 1 or mu < 0:
        raise InstanceFormatError(file, head_line, f"need m >= 1, n >= 1, mu >= 0; found m={m} n={n} mu={mu}")
    _check_size(file, head_line, m, n, m * mu)
    need = 1 + n + m * n
    if len(rows) < need:
        last = rows[-1][0]
        raise InstanceFormatError(file, last, f"file ends early: {len(rows)} non-empty lines, expected {need} "
                                              f"(header, {n} values, {m * n} probabilities)")
    if len(rows) > need:
        raise InstanceFormatError(file, rows[need][0], f"unexpected extra line (expected {need} non-empty lines)")
    values = np.empty(n)
    for j in range(n):
        ln, f = rows[1 + j]
        if len(f) != 1:
            raise InstanceFormatError(file, ln, f"target value {j}: expected one number, found {len(f)} fields")
        values[j] = _num(f[0], ln, file, f"target value {j}")
        if values[j] < 0:
            raise InstanceFormatError(file, ln, f"target value {j} is negative ({f[0]})")
    p = np.full((m, n), np.nan)
    for k in range(m * n):
        ln, f = rows[1 + n + k]
        if len(f) != 3:
            raise InstanceFormatError(file, ln, f"expected 'i j p_ij' (3 fields), found {len(f)} fields")
        i = _num(f[0], ln, file, "weapon index i", int)
        j = _num(f[1], ln, file, "target index j", int)
        pij = _num(f[2], ln, file, "kill probability")
        if not (0 <= i < m) or not (0 <= j < n):
            raise InstanceFormatError(file, ln, f"index out of range: i={i} (0..{m - 1}), j={j} (0..{n - 1})")
        if not (0.0 <= pij <= 1.0):
            raise InstanceFormatError(file, ln, f"kill probability {pij} is outside [0, 1]")
        if not np.isnan(p[i, j]):
            raise InstanceFormatError(file, ln, f"probability for (i={i}, j={j}) given twice")
        p[i, j] = pij
    return Problem(values=values, p=p, counts=np.full(m, mu), name=name)


def read_square(text: str, file: str | None = None, name: str = "") -> Problem:
    """Square (Ahuja-style) format: N; N target values; N x N kill probabilities (row = weapon), whitespace separated."""
    toks = list(_tokens(text))
    if not toks:
        raise InstanceFormatError(file, None, "empty file")
    n = _num(toks[0][0], toks[0][1], file, "N (size)", int)
    if n < 1:
        raise InstanceFormatError(file, toks[0][1], f"N must be >= 1, found {n}")
    _check_size(file, toks[0][1], n, n, n)
    need = 1 + n + n * n
    if len(toks) < need:
        raise InstanceFormatError(file, toks[-1][1], f"file ends early: {len(toks)} numbers, expected {need} "
                                                     f"(N, {n} values, {n}x{n} probabilities)")
    if len(toks) > need:
        raise InstanceFormatError(file, toks[need][1], f"unexpected extra number {toks[need][0]!r} "
                                                       f"(expected {need} numbers)")
    values = np.array([_num(t, ln, file, f"target value {k}") for k, (t, ln) in enumerate(toks[1:1 + n])])
    for k, (t, ln) in enumerate(toks[1:1 + n]):
        if values[k] < 0:
            raise InstanceFormatError(file, ln, f"target value {k} is negative ({t})")
    flat = np.empty(n * n)
    for k, (t, ln) in enumerate(toks[1 + n:]):
        flat[k] = _num(t, ln, file, f"kill probability (weapon {k // n}, target {k % n})")
        if not (0.0 <= flat[k] <= 1.0):
            raise InstanceFormatError(file, ln, f"kill probability {t} (weapon {k // n}, target {k % n}) "
                                                "is outside [0, 1]")
    return Problem(values=values, p=flat.reshape(n, n), counts=np.ones(n, dtype=np.int64), name=name)


def detect_format(text: str) -> str:
    """'andersen' when the first non-empty line has three fields, 'square' when it has one."""
    for line in text.splitlines():
        f = line.split()
        if f:
            return "andersen" if len(f) == 3 else "square" if len(f) == 1 else "unknown"
    return "unknown"


def read_instance(path: str | Path, fmt: str = "auto") -> Problem:
    """Read an instance file in the Andersen or square format (``fmt``: auto, andersen, square)."""
    path = Path(path)
    file = str(path)
    from shieldwall.scenario.yaml_source import read_text_once

    text = read_text_once(path, limit=L.MAX_WTA_FILE_BYTES)  # once, bounded: pipes, devices, FIFOs
    if fmt == "auto":
        fmt = detect_format(text)
        if fmt == "unknown":
            raise InstanceFormatError(file, 1, "cannot tell the format: the first line should hold 'm n mu' "
                                               "(andersen) or 'N' (square); use --format")
    if fmt == "andersen":
        return read_andersen(text, file, name=path.stem)
    if fmt == "square":
        return read_square(text, file, name=path.stem)
    raise WTAError(f"unknown instance format {fmt!r} (expected auto, andersen or square)")


# ----------------------------------------------------------------------------------------------- generators


def generate_square(n: int, seed: int = 0, m: int | None = None) -> Problem:
    """Ahuja-style instance: ``m`` (default n) single weapons, ``n`` targets, V ~ U[25, 100], p ~ U[0.6, 0.9]."""
    m = n if m is None else m
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5157A, n, m]))
    values = rng.uniform(25.0, 100.0, size=n)
    p = rng.uniform(0.6, 0.9, size=(m, n))
    return Problem(values=values, p=p, counts=np.ones(m, dtype=np.int64), name=f"square-{m}x{n}-s{seed}")


def generate_andersen(m: int, mu: int = 1, seed: int = 0, n: int | None = None) -> Problem:
    """Andersen-style instance: ``m`` types of ``mu`` units, ``n = 2m`` targets, V integer in [1, 100], p ~ U(0, 1)."""
    n = 2 * m if n is None else n
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xA7D, m, n]))
    values = rng.integers(1, 101, size=n).astype(np.float64)
    p = rng.uniform(0.0, 1.0, size=(m, n))
    p = np.clip(p, 1e-9, 1.0 - 1e-9)
    return Problem(values=values, p=p, counts=np.full(m, mu, dtype=np.int64), name=f"andersen-{m}x{n}x{mu}-s{seed}")
