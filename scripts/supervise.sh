#!/usr/bin/env bash
# supervise.sh NAME COMMAND [ARGS...]: run COMMAND and start it again whenever it
# exits (a crash, a kill), after a back-off of 1 s doubling to 30 s; a run that
# lasted RESET_AFTER seconds (60) starts the back-off again from 1 s.
# SIGTERM or SIGINT stops the command, then the loop. `make run` (scripts/serve.sh)
# and the fault tests run the Celery workers and beat through it.
set -uo pipefail
name=$1
shift
delay=${SUPERVISE_MIN_DELAY:-1}
max_delay=${SUPERVISE_MAX_DELAY:-30}
reset_after=${SUPERVISE_RESET_AFTER:-60}
child=""

stop() {
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  exit 0
}
trap stop TERM INT

while true; do
  started=$SECONDS
  "$@" &
  child=$!
  echo "supervise: $name started (pid $child)"
  wait "$child"
  status=$?
  child=""
  if [ $((SECONDS - started)) -ge "$reset_after" ]; then
    delay=${SUPERVISE_MIN_DELAY:-1}
  fi
  echo "supervise: $name exited with status $status; restarting in ${delay} s" >&2
  sleep "$delay" &
  wait $!
  delay=$((delay * 2 > max_delay ? max_delay : delay * 2))
done
