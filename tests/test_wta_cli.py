"""``shieldwall wta``: solve and bench, JSON output, located errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from typer.testing import CliRunner

from shieldwall.cli.main import app
from shieldwall.wta import evaluate, generate_square

runner = CliRunner()


def write_square(path, problem) -> None:
    n = problem.n_targets
    rows = [str(n), " ".join(f"{v!r}" for v in problem.values.tolist())]
    rows += [" ".join(f"{v!r}" for v in r) for r in problem.p.tolist()]
    path.write_text("\n".join(rows) + "\n")


def test_solve_json(tmp_path):
    prob = generate_square(6, seed=3)
    f = tmp_path / "sq6.txt"
    write_square(f, prob)
    res = runner.invoke(app, ["wta", "solve", str(f), "--json", "--solver", "exact", "--time-limit", "10"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert set(d) == {"objective", "lower_bound", "gap", "status", "time_s", "assignment"}
    x = np.zeros((6, 6), dtype=int)
    for i, j, c in d["assignment"]:
        x[i, j] = c
    assert d["objective"] == evaluate(prob, x)
    assert d["status"] == "optimal" and d["lower_bound"] <= d["objective"] + 1e-12


def test_solve_table_and_bench(tmp_path):
    for k in range(2):
        write_square(tmp_path / f"g{k}.txt", generate_square(5, seed=k))
    (tmp_path / "best_known.csv").write_text("instance,best_UB,best_LB\ng0,1.0,1.0\n")
    res = runner.invoke(app, ["wta", "solve", str(tmp_path / "g0.txt"), "--format", "square", "--solver", "greedy"])
    assert res.exit_code == 0 and "objective" in res.stdout and "status" in res.stdout
    res = runner.invoke(app, ["wta", "bench", str(tmp_path), "--solver", "greedy"])
    assert res.exit_code == 0, res.output
    assert "g0" in res.stdout and "g1" in res.stdout and "best known" in res.stdout


def test_malformed_file_is_a_located_error(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text("2 4 1\n5\n6\n7\n8\n0 0 0.5\n0 1 zero\n")
    res = runner.invoke(app, ["wta", "solve", str(f)])
    assert res.exit_code == 2
    assert f"{f}:7:" in res.stderr and "Traceback" not in res.output
    res = runner.invoke(app, ["wta", "solve", str(tmp_path / "missing.txt")])
    assert res.exit_code == 2 and "does not exist" in res.stderr
    res = runner.invoke(app, ["wta", "solve", str(f), "--solver", "cplex"])
    assert res.exit_code == 2 and "unknown solver" in res.stderr


def test_subprocess_error_has_no_traceback(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text("3\n1 2 3\n0.5 0.5 0.5\n0.5 0.5\n")
    proc = subprocess.run([sys.executable, "-m", "shieldwall", "wta", "solve", str(f), "--format", "square"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and f"{f}:4:" in proc.stderr
