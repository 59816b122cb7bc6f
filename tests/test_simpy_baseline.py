"""The SimPy baseline (benchmarks/simpy_baseline.py) against the closed form and the engine.

The baseline is an independent re-implementation of the model, the yardstick of the engine's
speed; it is only a fair yardstick if it simulates the same model. Both use the same random
numbers, so they should agree well within their 99 % intervals."""

from __future__ import annotations

import importlib.util
import json
import math
import sys

import numpy as np
import pytest

pytest.importorskip("simpy", reason="the SimPy baseline needs simpy (pip install simpy, the 'bench' extra)")

from conftest import EXAMPLES, ROOT, make_scenario, within_sigma  # noqa: E402
from shieldwall.engine.compile import compile_scenario  # noqa: E402
from shieldwall.engine.runner import run  # noqa: E402
from shieldwall.scenario.load import load_scenario  # noqa: E402


def _load_baseline():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("simpy_baseline", ROOT / "benchmarks" / "simpy_baseline.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


baseline = _load_baseline()


def _agree(x: np.ndarray, y: np.ndarray) -> bool:
    """Means within 2.58 combined standard errors (99 %), plus a small tolerance."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    se = math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
    return abs(x.mean() - y.mean()) <= 2.58 * se + 0.02


def _check_against_engine(scenario, replications: int, seed: int) -> dict:  # type: ignore[no-untyped-def]
    compiled = compile_scenario(scenario, seed)
    ours = baseline.simulate(compiled, replications, seed)
    engine = run(scenario, replications=replications, seed=seed)
    for t, tid in enumerate(compiled.threat_type_ids):
        assert _agree(ours["leaked"][:, t], engine.leaked[:, t]), (
            tid, ours["leaked"][:, t].mean(), engine.leaked[:, t].mean())
    for k, iid in enumerate(compiled.interceptor_ids):
        assert _agree(ours["rounds"][:, :, k].sum(axis=1), engine.interceptors_fired[:, k]), (
            iid, ours["rounds"][:, :, k].sum(axis=1).mean(), engine.interceptors_fired[:, k].mean())
    # conservation: every threat ends once; rounds fired never exceed stock
    launched = ours["killed"] + ours["leaked"] + ours["expired"]
    assert (launched.sum(axis=1) == compiled.n_threats).all()
    assert (ours["rounds"] + ours["remaining"] == compiled.stock).all()
    return ours


def test_two_shot_closed_form_and_engine() -> None:
    n = 2000
    ours = _check_against_engine(make_scenario(), n, seed=3)
    leak = ours["leaked"][:, 0].mean()
    assert within_sigma(leak, (1.0 - 0.6) ** 2, n), leak
    assert (ours["rounds"].sum(axis=(1, 2)) == 2).all()  # one engagement, a full salvo of two


def test_small_example_agrees_with_engine() -> None:
    _check_against_engine(load_scenario(EXAMPLES / "small.yaml"), 100, seed=1)


def test_command_line_writes_the_run_summary_fields(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = EXAMPLES / "small.yaml"
    assert baseline.main([str(path), "--replications", "5", "--seed", "2", "--out", str(tmp_path)]) == 0
    assert "s simulation" in capsys.readouterr().out
    ours = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    engine = run(load_scenario(path), replications=5, seed=2).summary()

    def shape(d):  # type: ignore[no-untyped-def]
        """The nested keys of a summary, without the values."""
        return {k: shape(v) for k, v in d.items()} if isinstance(d, dict) else None

    assert shape(ours) == shape(engine)
    assert ours["replications"] == 5 and ours["seed"] == 2
