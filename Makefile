# ODApp: the two commands of the README, and a few helpers.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: demo test setup serve lint bench clean

# Create the virtual environment and install ODApp with its test tools (again when pyproject changes).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

# First command: set up, load the Dresden demo catalogue into var/odapp.sqlite, serve on :8080.
demo: $(STAMP)
	$(BIN)/odapp db upgrade
	$(BIN)/odapp demo
	$(BIN)/odapp serve

serve: $(STAMP)
	$(BIN)/odapp serve

# Second command: set up, start PostgreSQL + PostGIS (Debian packages) and run every test.
test: $(STAMP)
	bash scripts/test-services.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/catalog_io.py --sizes 10000 --backends sqlite,postgresql
	$(BIN)/python bench/search.py --sizes 10000 --backends sqlite,postgresql
	$(BIN)/python bench/sensors.py --days 365 --streams 2 --backends sqlite,postgresql
	$(BIN)/python bench/harvest.py --datasets 10000 --backends sqlite,postgresql
	$(BIN)/python bench/ogc_features.py --points 100000 --requests 300

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache test-artifacts
