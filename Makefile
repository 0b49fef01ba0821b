# The README's two commands: `make run` and `make test`.
PYTHON ?= python3.12
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: install run test check lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	npm ci --no-audit --no-fund --loglevel=error

# Installs, migrates, loads the small demo (once) with its scores, network and 90 days
# of derived history (seed_demo --recompute runs backfill_history), serves web (and,
# with a broker configured, the Celery worker and beat) on http://127.0.0.1:$(PORT).
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --size small --seed 1 --if-empty --recompute
	PORT=$(PORT) scripts/serve.sh

# The whole test suite. On the embedded default (no DATABASE_URL) it runs on
# SQLite; .ci/run sets DATABASE_URL and CELERY_BROKER_URL to PostgreSQL and Redis.
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

check: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

# Benchmarks against the targets, on PostgreSQL and Redis in a database of their
# own (BENCH_SIZE=large by default); writes docs/benchmarks.md and .json.
bench: install
	scripts/bench.sh

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles
