# Two entry points, each installing what it needs into .venv first (see README).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test browser bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/shieldwall run examples/city-defence.yaml --replications 1000 --seed 2024 --out out/demo
	$(BIN)/shieldwall compare examples/campaign-winter-no-purchase.yaml examples/campaign-winter.yaml \
	  --replications 200 --seed 1 --out out/demo/what-the-purchase-buys.json
	$(BIN)/shieldwall allocate examples/sweeps/allocation-pac3.yaml --workers 2 --out out/demo/where-the-interceptors-go.json

# The browser tests drive Debian's Chromium (never a downloaded browser): installed here when
# missing and we are root; otherwise those tests skip and say why.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	      || echo "note: could not install chromium: the browser tests will skip"; \
	  else echo "note: no $(CHROMIUM) and not root: the browser tests will skip (apt-get install chromium)"; fi; \
	fi

# The engine's tests run twice: as built, and in the kernel's debug build (asserted buffer bounds
# and conservation identities, every array index checked: shieldwall/jit.py).
ENGINE_TESTS = tests/test_engine_closed_form.py tests/test_engine_invariants.py tests/test_oracle.py \
               tests/test_regression.py tests/test_policies.py tests/test_intercept.py tests/test_kernel_checks.py \
               tests/test_hazards.py tests/test_leak_causes.py tests/test_engagements.py tests/test_ballistic.py \
               tests/test_c2.py tests/test_detection.py tests/test_acoustic.py tests/test_attacks.py

test: $(STAMP) browser
	$(BIN)/python -m pytest -q
	SHIELDWALL_KERNEL_CHECKS=1 NUMBA_BOUNDSCHECK=1 $(BIN)/python -m pytest -q $(ENGINE_TESTS)

# Performance, side by side in one run each; each prints its table (raid_speed and wta_bench also
# write theirs into benchmarks/RESULTS.md; campaign_speed --markdown prints the section to paste).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/raid_speed.py
	$(BIN)/python benchmarks/wta_bench.py
	$(BIN)/python benchmarks/campaign_speed.py --markdown
	$(BIN)/python benchmarks/sweep_speed.py
	$(BIN)/python benchmarks/allocate_search.py
