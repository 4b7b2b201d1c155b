# Two commands from a fresh clone: `make lab` (open the course) and `make test` (check it all).
# Everything else is for maintainers. The venv is built from requirements-lock.txt (exact versions)
# and pyproject.toml (the package and its ranges); it is rebuilt when either changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := notebooks,torch,trl,dev,bench
PORT   ?= 8888
APP_PORT ?= 8866
APP_HOST ?= 127.0.0.1
APP_TOKEN ?=
# An extra wheel index for pip, empty by default. On Linux without the torch wheel at hand,
# EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu gets torch's CPU build instead of CUDA's GBs.
EXTRA_INDEX_URL ?=
PIP_INDEX := $(if $(EXTRA_INDEX_URL),--extra-index-url=$(EXTRA_INDEX_URL))
# Unit tests and notebooks run on TEST_JOBS pytest-xdist workers, a test file per worker (--dist loadfile
# keeps a file's module fixtures in one process). For the notebooks, conftest.py counts a chapter's two
# editions as one file: they run one after the other in one worker, so the second reads the trainer
# results of the first from that worker's run cache.
TEST_JOBS ?= 2
XDIST  := $(if $(filter 1,$(TEST_JOBS)),,-n $(TEST_JOBS) --dist loadfile)
NBVAL  := --nbval --nbval-current-env --nbval-cell-timeout=120 --nbval-sanitize-with nbval-sanitize.cfg

# No browser pop-up without a display; JupyterLab refuses to run as root without --allow-root.
LAB_FLAGS := --ip=127.0.0.1 --port=$(PORT) $(if $(DISPLAY),,--no-browser) \
             $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup workspace lab test lint unit notebooks learner bench html app lock clean

setup: $(STAMP)

$(STAMP): requirements-lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(PIP_INDEX) \
	    -c requirements-lock.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

# The learner's own copy of the course, my-notebooks/ (git-ignored): missing chapters are copied in,
# nothing there is ever overwritten or deleted. REFRESH=06 takes the course's new chapter 6 and keeps
# the learner's copy beside it under a dated name.
workspace: setup
	$(BIN)/python -m dpo_toy.course workspace --refresh="$(REFRESH)"

# JupyterLab rooted at my-notebooks/ (so the solutions are not served), on chapter 0.
lab: setup
	$(BIN)/python -m dpo_toy.course lab --refresh="$(REFRESH)" $(LAB_FLAGS)

test: setup lint
	$(BIN)/python -m pytest $(XDIST) tests
	$(BIN)/python -m pytest $(XDIST) $(NBVAL) notebooks app

lint: setup
	$(BIN)/ruff check dpo_toy tests benchmarks notebooks app
	$(BIN)/ruff format --check dpo_toy tests benchmarks

# Unit tests only (no notebooks): the fast loop while editing the package.
unit: setup
	$(BIN)/python -m pytest $(XDIST) tests

# Re-execute every notebook and store its outputs (byte-identical when nothing changed).
notebooks: setup
	$(BIN)/python -m dpo_toy.course execute

# Regenerate the learner edition (notebooks/*.ipynb) from notebooks/solutions/ and execute it.
learner: setup
	$(BIN)/python -m dpo_toy.course learner

bench: setup
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/bradley_terry.py
	$(BIN)/python benchmarks/classroom.py
	$(BIN)/python benchmarks/grade.py
	$(BIN)/python benchmarks/site.py

# Grade a folder of submitted notebooks: a CSV of every check's verdict and a class report.
# make grade DIR=submissions [CSV=results.csv] [JOBS=2] [TIMEOUT=300]
CSV     ?= results.csv
JOBS    ?= 2
TIMEOUT ?= 300
.PHONY: grade
grade: setup
	@test -n "$(DIR)" || { echo "usage: make grade DIR=<folder of submitted notebooks>"; exit 2; }
	$(BIN)/python -m dpo_toy.grade "$(DIR)" --csv "$(CSV)" --jobs $(JOBS) --timeout $(TIMEOUT)

# The course as a static site (executed notebooks, no kernel, no network needed): build/site/index.html.
# Opens from file:// or any sub-path of a static host; .github/workflows/pages.yml publishes it.
html: setup
	$(BIN)/python -m dpo_toy.site

# The classroom β explorer without code cells (Voilà; dpo_toy.classroom): on 127.0.0.1:$(APP_PORT),
# requests for any other Host refused, idle kernels (no open page) shut down after 5 minutes.
# APP_HOST=0.0.0.0 serves the classroom network and then requires a token (APP_TOKEN, or a random
# one printed in the URL).
app: setup
	$(BIN)/python -m dpo_toy.classroom --port=$(APP_PORT) --host=$(APP_HOST) --token="$(APP_TOKEN)" \
	    $(if $(DISPLAY),,--no-browser)

# Refresh requirements-lock.txt after changing the ranges in pyproject.toml.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet $(PIP_INDEX) "torch==2.13.0" -e ".[$(EXTRAS)]"
	{ head -n 2 requirements-lock.txt; .lock-venv/bin/python -m pip freeze --exclude-editable \
	    | sed 's/^torch==\(.*\)+cpu/torch==\1/'; } > requirements-lock.new
	mv requirements-lock.new requirements-lock.txt && rm -rf .lock-venv

clean:
	rm -rf $(VENV) build _build .pytest_cache .ruff_cache .hypothesis
