# Resync: `make run` serves a demo, `make test` runs the suite, `make bench` measures.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The web server's port: `make run PORT=8001` when 8000 is taken.
PORT ?= 8000

.PHONY: run serve reset test lint format bench loadtest screenshots clean

$(STAMP): requirements/base.txt requirements/prod.txt requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $(STAMP)

# run_embedded checks the ports, migrates and creates the demo admin before serving; it
# exits non-zero on any failure, and so does make.
run: $(STAMP)
	$(PY) manage.py run_embedded --port $(PORT) --jobs 5000

# The production server (granian; README: Production) on this checkout's settings: set the
# production environment first. WEB_CONCURRENCY and RESYNC_SERVER_THREADS size it.
serve: $(STAMP)
	$(PY) -m resync_site.serve --bind 127.0.0.1:$(PORT)

# Start the embedded default over: a new SQLite database and new development secrets (the
# demo admin gets a new password). A PostgreSQL DATABASE_URL is never dropped from here.
reset:
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "make reset removes the embedded SQLite database only; DATABASE_URL is set: drop that database yourself." >&2; \
		exit 1; \
	fi
	rm -f db.sqlite3 db.sqlite3-wal db.sqlite3-shm $${RESYNC_LOCAL_FILE:-.resync-local.json}
	@echo "Removed the local database and secrets; \`make run\` creates new ones."

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m bandit -c pyproject.toml -r apps resync_site --severity-level medium --quiet
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Each benchmark prints its own table; together they take about fourteen minutes (plus
# several the first time tests.bench.export loads its 1,000,000-job plan, kept afterwards).
bench: $(STAMP)
	$(PY) -m tests.bench.serving
	$(PY) -m tests.bench.baseline
	$(PY) -m tests.bench.sync
	$(PY) -m tests.bench.memory
	$(PY) -m tests.bench.pools
	$(PY) -m tests.bench.cache
	$(PY) -m tests.bench.outage
	$(PY) -m tests.bench.login_flood
	$(PY) -m tests.bench.security_events
	$(PY) -m tests.bench.metrics
	$(PY) -m tests.bench.console
	$(PY) -m tests.bench.export

# A PNG of each console page at 1280 px in docs/screenshots/ (headless Chromium: Debian's
# chromium and chromium-driver).
screenshots: $(STAMP)
	$(PY) -m pytest tests/core/console/screenshots.py -p no:cacheprovider -q

# The seed's Locust profile (1,000 users, 50/s, 60 s; FULL=1: the seed's 5 minutes) against
# `make serve`'s server on PostgreSQL + Redis; prints p50/p95/p99, failures, CPU and RSS.
loadtest: $(STAMP)
	$(PY) -m tests.bench.loadtest $(if $(FULL),--full)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
