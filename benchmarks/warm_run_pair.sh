#!/bin/bash
# Issue 20's goal, side by side: a warm `shieldwall run examples/city-defence.yaml -n 1000` (report
# included) of this tree against another revision's tree, paired and alternating, both as
# `python -m shieldwall` on this checkout's .venv (run_speed.py does the same with an output check,
# which refuses a baseline whose report differs, as any before issue 20's acceptance pass does).
#   git worktree add --detach /tmp/base REV && benchmarks/warm_run_pair.sh /tmp/base [ROUNDS]
# The first run of each tree warms numba's cache (a minute for a tree never run); then ROUNDS pairs.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"; base="$(cd "$1" && pwd)"; rounds="${2:-7}"
py="$here/.venv/bin/python"; out="$(mktemp -d)"; times="$out/times"
run() { (cd "$1" && env PYTHONPATH="$1/src" "$py" -m shieldwall run examples/city-defence.yaml \
         --replications 1000 --seed 2024 --out "$out/$2" >/dev/null); }
run "$here" warm-this; run "$base" warm-base
for i in $(seq "$rounds"); do
  for side in this base; do
    dir=$here; [ "$side" = base ] && dir=$base
    /usr/bin/time -f "$side %e %U %S" bash -c "$(declare -f run); py=$py out=$out; run $dir $side-$i" 2>>"$times"
  done
done
"$py" - "$times" <<'PY'
import statistics as st, sys
rows = [line.split() for line in open(sys.argv[1]) if line.startswith(("this", "base"))]
for side in ("this", "base"):
    wall = [float(r[1]) for r in rows if r[0] == side]
    cpu = [float(r[2]) + float(r[3]) for r in rows if r[0] == side]
    print(f"{side}: wall median {st.median(wall):.2f} s (min {min(wall):.2f}, max {max(wall):.2f}), CPU median {st.median(cpu):.2f} s")
this = [float(r[1]) for r in rows if r[0] == "this"]; base = [float(r[1]) for r in rows if r[0] == "base"]
print(f"paired ratio base / this, median: {st.median([b / t for t, b in zip(this, base)]):.2f}x")
PY
