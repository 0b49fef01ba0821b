#!/usr/bin/env bash
# The benchmarks: builds the demo network (large by default) in a database of its
# own on PostgreSQL, then measures against the targets. Writes docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
SIZE=${BENCH_SIZE:-large}
DB=${BENCH_DATABASE:-rapport_bench}
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$DB}
export CELERY_BROKER_URL=${BENCH_BROKER_URL:-redis://127.0.0.1:6379/9}
REPEAT=${BENCH_REPEAT:-3}

psql -q -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = '$DB'" \
  | grep -q 1 || createdb -h 127.0.0.1 -U postgres "$DB"
$BIN/python manage.py migrate --noinput -v0
echo "Building the $SIZE demo network…"
$BIN/python manage.py seed_demo --size "$SIZE" --seed 1 --flush -v1 | sed -n 1,3p  # reads it all: head would break the pipe
# As autovacuum would have by then: statistics, and the visibility map index-only scans use.
psql -q -h 127.0.0.1 -U postgres -d "$DB" -c "VACUUM ANALYZE"
$BIN/python manage.py bench_scores --repeat "$REPEAT" --samples "${BENCH_SAMPLES:-100}"
$BIN/python manage.py bench_network --repeat "$REPEAT"
# The API and pages through gunicorn with a real worker, peak memory, and worker
# throughput with one and two worker processes.
$BIN/python manage.py bench_web --repeat "$REPEAT"
# CSV import of 100,000 rows, where the command exists (its figures beside the others).
if $BIN/python manage.py help bench_import >/dev/null 2>&1; then
  $BIN/python manage.py bench_import --rows "${BENCH_IMPORT_ROWS:-100000}" --report
else
  echo "No bench_import command: the CSV import is not measured."
fi
