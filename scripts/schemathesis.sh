#!/usr/bin/env bash
# Fuzz API v1 against its own OpenAPI schema: no 5xx, no schema violations.
#
# Usage: [DATABASE_URL=postgres://…/rapport_fuzz] scripts/schemathesis.sh [extra schemathesis args]
# Without DATABASE_URL a throw-away SQLite file is used. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
SCHEMATHESIS=${SCHEMATHESIS:-.venv/bin/schemathesis}
WORKDIR=$(mktemp -d)
export DATABASE_URL=${DATABASE_URL:-sqlite:///$WORKDIR/fuzz.sqlite3}
# The fuzzer sends thousands of requests: a throttle would answer 429 to most of them.
export RAPPORT_API_THROTTLE_RATE=off
export DJANGO_DEBUG=false
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
# Custom body serializers (the raw message/rfc822 of e-mail capture).
export SCHEMATHESIS_HOOKS=${SCHEMATHESIS_HOOKS:-scripts.schemathesis_hooks}
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD

"$PYTHON" manage.py migrate --noinput -v0

"$PYTHON" manage.py shell -c "$(cat <<'PY'
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.utils import timezone

from relations import models as m
from relations.services import interaction_log

director_group, _ = Group.objects.get_or_create(name="director")
manager_group, _ = Group.objects.get_or_create(name="manager")
fuzzer, _ = User.objects.get_or_create(username="schemathesis", defaults={"email": "fuzz@example.org"})
fuzzer.groups.add(director_group, manager_group)
colleague, _ = User.objects.get_or_create(username="colleague")
colleague.groups.add(manager_group)
if not m.Organization.objects.exists():
    org = m.Organization.objects.create(name="Acme", sector="Energy", country="NL")
    people = [
        m.Stakeholder.objects.create(name=f"Person {i}", organization=org, owner=colleague, importance=i)
        for i in range(1, 4)
    ]
    team = m.Team.objects.create(name="Energy team")
    team.members.add(fuzzer, colleague)
    interaction = interaction_log(
        by=colleague, participants=[colleague], stakeholders=people[:2], subject="Kick-off",
        occurred_at=timezone.now() - timedelta(days=3), value_given=3, value_received=2,
    )
    m.Commitment.objects.create(
        stakeholder=people[0], responsible=colleague, description="Send proposal",
        due_date=timezone.localdate() + timedelta(days=7), interaction=interaction,
    )
    goal = m.StrategicGoal.objects.create(title="Grow energy", owner=colleague)
    m.GoalStakeholder.objects.create(goal=goal, stakeholder=people[0], role="sponsor")
    m.Outcome.objects.create(stakeholder=people[0], credited_to=colleague, goal=goal, value=Decimal("1000"))
    m.StakeholderLink.objects.create(from_stakeholder=people[0], to_stakeholder=people[1])
PY
)"

TOKEN=$("$PYTHON" manage.py create_api_token schemathesis)
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

"$PYTHON" manage.py runserver --noreload --nothreading "127.0.0.1:$PORT" >"$WORKDIR/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORKDIR"' EXIT

for _ in $(seq 1 50); do
  if "$PYTHON" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/api/schema/')" 2>/dev/null; then
    break
  fi
  sleep 0.2
done

# positive_data_acceptance is left out on purpose: it expects every schema-valid
# body to succeed, but ids are plain integers in the schema and DESIGN §6 asks
# for a 400 naming the field when an id does not exist (or may not be seen).
status=0
"$SCHEMATHESIS" run "http://127.0.0.1:$PORT/api/schema/" \
  -H "Authorization: Token $TOKEN" \
  --checks all --exclude-checks positive_data_acceptance \
  --max-examples 25 --seed 1 --report json --report-json-path "$WORKDIR/report.json" \
  "$@" || status=$?

server_errors=$(grep -c "Internal Server Error" "$WORKDIR/server.log" || true)
if grep -q "Internal Server Error\|Traceback" "$WORKDIR/server.log"; then
  echo "--- server errors (from $WORKDIR/server.log) ---"
  grep -B2 -A30 "Traceback" "$WORKDIR/server.log" | head -200
  status=1
fi
# With RAPPORT_RELIABILITY_REPORT=path, add what was tried to the reliability figures
# (docs/reliability.json, written by the fault tests) that docs/reliability.md quotes.
if [ -n "${RAPPORT_RELIABILITY_REPORT:-}" ] && [ -s "$WORKDIR/report.json" ]; then
  "$PYTHON" scripts/reliability_fuzz_figures.py "$WORKDIR/report.json" "$RAPPORT_RELIABILITY_REPORT" "$server_errors" "$status"
fi
exit $status
