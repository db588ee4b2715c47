# Resync: `make run` serves a demo, `make test` runs the suite, `make bench` measures.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean

$(STAMP): requirements/base.txt requirements/prod.txt requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_demo_admin
	$(PY) manage.py run_embedded --port 8000 --jobs 5000

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Each benchmark prints its own table; together they take about ten minutes.
bench: $(STAMP)
	$(PY) -m tests.bench.baseline
	$(PY) -m tests.bench.sync
	$(PY) -m tests.bench.pools
	$(PY) -m tests.bench.cache
	$(PY) -m tests.bench.outage
	$(PY) -m tests.bench.login_flood

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
