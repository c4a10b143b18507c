# Two entry points (see README): `make run` and `make test`. Both create ./.venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint bench bench-console bench-1000 bench-glances bench-heal bench-frozen bench-soak screenshots clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "pixel-tui needs Python >= 3.11 (PYTHON=$(PYTHON))"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "could not create $(VENV): on Debian/Ubuntu, apt-get install python3-venv"; exit 1; }
	@echo "setting up $(VENV) (first run, or pyproject.toml changed)" >&2
	@$(BIN)/pip install --quiet --upgrade pip >&2
	@$(BIN)/pip install --quiet -e '.[test]' >&2
	@touch $(STAMP)

# Byte-compiled first, as a wheel install is: where PYTHONDONTWRITEBYTECODE is set, every start would
# otherwise compile the package from source again (a sixth of the time to the first frame).
# Quiet: only the program's own output (make run ARGS="snapshot --json" | jq works). Make turns any
# non-zero exit into its own 2; scripts, cron and systemd call .venv/bin/pixel-tui directly (README).
run: $(STAMP)
	@$(BIN)/python -m compileall -q pixel_tui >/dev/null
	@$(BIN)/pixel-tui $(ARGS)

# The checks a reviewer would run come first: lint and formatting, then the whole suite.
test: $(STAMP)
	$(BIN)/ruff check pixel_tui tests bench screenshots
	$(BIN)/ruff format --check pixel_tui tests bench screenshots
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The edit-test loop: lint, then every test that needs no Docker engine (about half the time of `make test`).
test-fast: $(STAMP)
	$(BIN)/ruff check pixel_tui tests bench screenshots
	$(BIN)/python -m pytest -m "not docker" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check pixel_tui tests bench screenshots
	$(BIN)/ruff format --check pixel_tui tests bench screenshots
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench_collect.py $(ARGS)

bench-console: $(STAMP)
	$(BIN)/python bench/bench_console.py $(ARGS)

# 1 000 containers: snapshot, first frame with data, idle CPU, a sort key, RSS. Its own engine unless
# ARGS="--state FILE" names one that `python bench/engine_1000.py serve --state FILE` keeps up.
bench-1000: $(STAMP)
	$(BIN)/python bench/bench_1000.py $(ARGS)

# pixel-tui beside glances (installed from PyPI into bench/.venv-glances on first use).
bench-glances: $(STAMP)
	$(BIN)/python bench/bench_glances.py $(ARGS)

# `heal --every` against timed-out workers that ignore SIGTERM (30 minutes; ARGS="--minutes 4" shortens it).
bench-heal: $(STAMP)
	$(BIN)/python bench/bench_heal_timeouts.py $(ARGS)

# A frozen engine (dockerd SIGSTOPped): how soon it shows as unreachable, what a collection costs meanwhile.
bench-frozen: $(STAMP)
	$(BIN)/python bench/bench_frozen.py $(ARGS)

# The console and `heal --every 1` against a churning engine for 30 minutes: RSS, descriptors, threads and CPU a
# minute, and whether they stayed flat (ARGS="--minutes 10" shortens it; "--trace DIR" finds what grows).
bench-soak: $(STAMP)
	$(BIN)/python bench/bench_soak.py $(ARGS)

screenshots: $(STAMP)
	$(BIN)/python screenshots/make_screenshots.py

clean:
	rm -rf $(VENV) build *.egg-info
