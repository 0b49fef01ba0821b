#!/usr/bin/env bash
# Serve the web app; with CELERY_BROKER_URL set also a Celery worker (default
# queue), a graph worker (graph queue) and beat, each under scripts/supervise.sh:
# one that exits (a crash, a lost broker) is started again with a back-off, and
# the web server stays up. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PORT=${PORT:-8000}
export DJANGO_DEBUG=${DJANGO_DEBUG:-1}

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait' EXIT INT TERM

if [ -n "${CELERY_BROKER_URL:-}" ]; then
  scripts/supervise.sh worker \
    $BIN/celery -A config worker --loglevel=INFO --concurrency=2 -Q celery -n default@%h &
  pids+=($!)
  # The heavy graph queue gets its own worker, one task at a time. The solo
  # pool runs the task in this (non-daemonic) process, which may fork: the
  # sampled betweenness then uses RAPPORT_BETWEENNESS_PROCESSES cores.
  scripts/supervise.sh graph-worker \
    $BIN/celery -A config worker --loglevel=INFO -Q graph --pool=solo -n graph@%h &
  pids+=($!)
  scripts/supervise.sh beat \
    $BIN/celery -A config beat --loglevel=INFO --schedule /tmp/rapport-celerybeat-schedule &
  pids+=($!)
else
  echo "No CELERY_BROKER_URL: background tasks run inside the web process (embedded default)."
fi

echo
echo "Rapport is running on http://127.0.0.1:${PORT}/"
# The web server is the app: when it ends, everything ends (the trap stops the rest).
$BIN/python manage.py runserver "127.0.0.1:${PORT}" &
web=$!
pids+=($web)
wait "$web"
