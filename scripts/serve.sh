#!/usr/bin/env bash
# Serve the web app; with CELERY_BROKER_URL set also a Celery worker (default
# queue), a graph worker (graph queue) and beat. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${PORT:-8000}
export DJANGO_DEBUG=${DJANGO_DEBUG:-1}

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM

if [ -n "${CELERY_BROKER_URL:-}" ]; then
  $BIN/celery -A config worker --loglevel=INFO --concurrency=2 -Q celery -n default@%h &
  pids+=($!)
  # The heavy graph queue gets its own worker, one task at a time. The solo
  # pool runs the task in this (non-daemonic) process, which may fork: the
  # sampled betweenness then uses RAPPORT_BETWEENNESS_PROCESSES cores.
  $BIN/celery -A config worker --loglevel=INFO -Q graph --pool=solo -n graph@%h &
  pids+=($!)
  $BIN/celery -A config beat --loglevel=INFO --schedule /tmp/rapport-celerybeat-schedule &
  pids+=($!)
else
  echo "No CELERY_BROKER_URL: background tasks run inside the web process (embedded default)."
fi

echo
echo "Rapport is running on http://127.0.0.1:${PORT}/"
$BIN/python manage.py runserver "127.0.0.1:${PORT}" &
pids+=($!)
wait -n "${pids[@]}"
