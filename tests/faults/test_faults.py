"""Fault tests (issue 8): real PostgreSQL, Redis, gunicorn and Celery processes of our
own, killed, stopped and restarted while the app works; nothing may be lost.

Each test ends by comparing every stored score with a clean full recomputation, and
records what it measured for docs/reliability.md.
"""

from __future__ import annotations

import random
import signal
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import psycopg
import pytest
import requests

from tests.faults.stack import Stack, wait_for

pytestmark = pytest.mark.faults

# What a failure page must never show: it would tell an attacker what runs where.
INTERNALS = ("Traceback", "psycopg", "OperationalError", "InterfaceError", "postgres", "django")


def _payload(rng: random.Random, stakeholders: list[int], subject: str) -> dict:
    return {
        "kind": rng.choice(["meeting", "call", "email", "video_call"]),
        "subject": subject,
        "occurred_at": (datetime.now(UTC) - timedelta(days=rng.uniform(0, 200))).isoformat(
            timespec="seconds"
        ),
        "stakeholders": rng.sample(stakeholders, rng.randint(1, 2)),
        "value_given": rng.randint(0, 5),
        "value_received": rng.randint(0, 5),
        "sentiment": rng.choice([None, -1, 0, 1, 2]),
        "duration_minutes": rng.choice([15, 30, 60]),
        "cost": rng.choice(["0", "12.50"]),
    }


def _log(stack: Stack, count: int, prefix: str, seed: int) -> list[requests.Response]:
    rng = random.Random(seed)
    managers = stack.seeded["managers"]
    responses = []
    for n in range(count):
        client = stack.api(managers[n % len(managers)]["token"])
        responses.append(
            client.post(
                stack.base_url + "/api/v1/interactions/",
                json=_payload(rng, stack.seeded["stakeholders"], f"{prefix}-{n}"),
                timeout=30,
            )
        )
    return responses


def _stored(stack: Stack, prefix: str) -> int:
    return stack.sql(
        "SELECT count(*) FROM relations_interaction WHERE subject LIKE %s", (f"{prefix}-%",)
    )[0][0]


def _assert_scores_equal_full_recomputation(stack: Stack) -> dict:
    comparison = stack.probe("compare_with_full_recomputation")
    assert comparison["pending_markers_before"] == 0
    assert comparison["stakeholder_scores"] == len(stack.seeded["stakeholders"])
    assert comparison["difference_count"] == 0, comparison
    return comparison


# --- (a) ------------------------------------------------------------------------------


def test_worker_killed_during_full_recomputation_is_redelivered(healthy, reliability_figures):
    stack = healthy
    assert all(r.status_code == 201 for r in _log(stack, 40, "kill", seed=1))
    stack.wait_until_scores_settle()
    stack.probe("scores_corrupt")  # only a complete recomputation repairs every row
    director = stack.api(stack.seeded["director"]["token"])

    # A row lock held here stops the worker's upsert half-way through the run, so the
    # kill lands inside the recomputation every time, not before or after it.
    with psycopg.connect(stack.postgres.dsn) as blocker:
        blocker.execute(
            "SELECT 1 FROM metrics_stakeholderscore ORDER BY stakeholder_id DESC LIMIT 1 FOR UPDATE"
        )
        response = director.post(stack.base_url + "/api/v1/recompute/", timeout=30)
        assert response.status_code == 202, response.text
        job_url = response.json()["url"]

        def storing() -> bool:
            job = director.get(job_url, timeout=10).json()
            waiting = stack.sql(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND query ILIKE %s",
                ("%metrics_stakeholderscore%",),
            )[0][0]
            return job["status"] == "running" and job["progress"] >= 0.25 and waiting > 0

        wait_for(storing, 60, "the recomputation storing scores")
        killed_worker = stack.worker.pid
        stack.worker.kill(signal.SIGKILL)
        killed = time.monotonic()
        assert director.get(job_url, timeout=10).json()["status"] == "running"
        blocker.rollback()

    stack.restart_worker()  # what a process supervisor does
    wait_for(
        lambda: director.get(job_url, timeout=10).json()["status"] == "done",
        90,
        "the redelivered recomputation finishing",
        interval=0.2,
    )
    redelivered_in = time.monotonic() - killed
    assert stack.worker.pid != killed_worker
    stack.wait_until_scores_settle()
    comparison = _assert_scores_equal_full_recomputation(stack)

    reliability_figures["worker_killed_during_full_recomputation"] = {
        "signal": "SIGKILL to the worker and its pool processes",
        "task_redelivered": True,
        "seconds_from_kill_to_finished_recomputation": round(redelivered_in, 1),
        "visibility_timeout_seconds": int(stack.env["CELERY_VISIBILITY_TIMEOUT"]),
        "stakeholder_scores_compared": comparison["stakeholder_scores"],
        "relationship_scores_compared": comparison["relationship_scores"],
        "scores_differing_from_clean_recomputation": comparison["difference_count"],
    }


# --- (b) ------------------------------------------------------------------------------


def test_redis_down_while_logging_loses_nothing(healthy, reliability_figures):
    stack = healthy
    stack.wait_until_scores_settle()
    stack.redis.stop()
    assert not stack.redis.ping()

    started = time.monotonic()
    responses = _log(stack, 60, "redis-down", seed=2)
    elapsed = time.monotonic() - started
    codes = [r.status_code for r in responses]
    assert codes == [201] * 60, [r.text for r in responses if r.status_code != 201][:3]
    assert _stored(stack, "redis-down") == 60
    pending = stack.pending_markers()
    assert pending > 0  # the database remembers what the lost tasks were to do

    stack.redis.start()  # a new, empty Redis: every queued task is gone
    returned = time.monotonic()
    stack.wait_until_scores_settle(seconds=120)
    repaired_in = time.monotonic() - returned
    comparison = _assert_scores_equal_full_recomputation(stack)
    assert _stored(stack, "redis-down") == 60

    reliability_figures["redis_down_while_logging"] = {
        "interactions_logged_while_redis_down": len(responses),
        "interactions_saved": _stored(stack, "redis-down"),
        "request_errors": sum(code != 201 for code in codes),
        "mean_request_ms_while_down": round(1000 * elapsed / len(responses), 1),
        "dirty_markers_left_for_the_sweep": pending,
        "seconds_from_redis_back_to_scores_current": round(repaired_in, 1),
        "scores_differing_from_clean_recomputation": comparison["difference_count"],
    }


# --- (c) ------------------------------------------------------------------------------


def _browser_session(stack: Stack, username: str) -> requests.Session:
    session = requests.Session()
    login = stack.base_url + "/accounts/login/"
    session.get(login, timeout=10)
    response = session.post(
        login,
        data={
            "username": username,
            "password": "pw",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": login},
        timeout=10,
    )
    assert response.status_code == 200 and "sessionid" in session.cookies, response.text[:500]
    if "/settings/security/enrol/" in response.url:
        # A director must set up a second factor first: enrol as their phone would.
        import re
        from base64 import b32decode

        from django_otp.oath import TOTP

        secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', response.text).group(1)
        totp = TOTP(b32decode(secret), 30, 0, 6, 0)
        totp.time = time.time()
        enrol = stack.base_url + "/settings/security/enrol/"
        enrolled = session.post(
            enrol,
            data={
                "otp_token": f"{totp.token():06d}",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": enrol},
            timeout=10,
        )
        assert "Two-factor authentication is on." in enrolled.text, enrolled.text[:500]
    return session


def test_postgres_restart_fails_cleanly_and_recovers(healthy, reliability_figures):
    stack = healthy
    browser = _browser_session(stack, "manager0")
    client = stack.api(stack.seeded["managers"][0]["token"])
    stakeholder = stack.seeded["stakeholders"][0]
    pages = ["/", f"/stakeholders/{stakeholder}/", "/interactions/new/"]
    assert all(browser.get(stack.base_url + p, timeout=10).status_code == 200 for p in pages)
    web_pid = stack.web.pid
    before = stack.sql("SELECT count(*) FROM relations_interaction")[0][0]

    stack.postgres.stop("immediate")  # a crash: the restart replays the WAL
    rng = random.Random(3)
    outage: list[requests.Response] = []
    for _ in range(5):
        outage += [browser.get(stack.base_url + p, timeout=10) for p in pages]
        outage.append(client.get(stack.base_url + "/api/v1/interactions/", timeout=10))
        outage.append(
            client.post(
                stack.base_url + "/api/v1/interactions/",
                json=_payload(rng, stack.seeded["stakeholders"], "outage"),
                timeout=10,
            )
        )
    for response in outage:
        assert response.status_code == 503, (response.request.url, response.text[:500])
        assert response.headers["Retry-After"]
        for word in INTERNALS:
            assert word.lower() not in response.text.lower(), (word, response.text[:500])
        if "/api/" in response.request.url:
            assert "temporarily unavailable" in response.json()["detail"]
        else:
            assert "Temporarily unavailable" in response.text

    stack.postgres.start()
    back = time.monotonic()
    wait_for(
        lambda: browser.get(stack.base_url + "/", timeout=10).status_code == 200,
        30,
        "the app answering again",
    )
    recovered_in = time.monotonic() - back
    assert stack.web.pid == web_pid and stack.web.alive()  # recovered without a restart
    assert all(browser.get(stack.base_url + p, timeout=10).status_code == 200 for p in pages)
    assert stack.sql("SELECT count(*) FROM relations_interaction")[0][0] == before
    # The worker recovered too: a change made now reaches the scores.
    assert [r.status_code for r in _log(stack, 5, "after-restart", seed=4)] == [201] * 5
    stack.wait_until_scores_settle()
    comparison = _assert_scores_equal_full_recomputation(stack)

    reliability_figures["postgres_restarted_while_serving"] = {
        "stop_mode": "immediate (crash, WAL recovery on start)",
        "requests_during_outage": len(outage),
        "answered_503_without_internals": sum(r.status_code == 503 for r in outage),
        "answered_500": sum(r.status_code == 500 for r in outage),
        "seconds_from_database_back_to_first_page": round(recovered_in, 2),
        "app_restarted": False,
        "scores_differing_from_clean_recomputation": comparison["difference_count"],
    }


# --- (d) ------------------------------------------------------------------------------

CLIENTS = 50
INTERACTIONS = 2000


def test_fifty_concurrent_clients_log_two_thousand_interactions(healthy, reliability_figures):
    stack = healthy
    managers = stack.seeded["managers"]
    per_client = INTERACTIONS // CLIENTS
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(n: int) -> None:
        rng = random.Random(100 + n)
        session = stack.api(managers[n % len(managers)]["token"])
        start.wait()
        for k in range(per_client):
            began = time.monotonic()
            try:
                response = session.post(
                    stack.base_url + "/api/v1/interactions/",
                    json=_payload(rng, stack.seeded["stakeholders"], f"load-{n}-{k}"),
                    timeout=60,
                )
                failure = None if response.status_code == 201 else response.text[:200]
            except requests.RequestException as exc:
                failure = repr(exc)
            with lock:
                latencies.append(time.monotonic() - began)
                if failure:
                    errors.append(failure)

    began = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))
    elapsed = time.monotonic() - began

    assert errors == []
    assert len(latencies) == INTERACTIONS
    assert _stored(stack, "load") == INTERACTIONS
    settled_in = stack.wait_until_scores_settle(seconds=180)
    comparison = _assert_scores_equal_full_recomputation(stack)

    latencies.sort()
    reliability_figures["concurrent_api_load"] = {
        "clients": CLIENTS,
        "interactions_sent": INTERACTIONS,
        "interactions_stored": _stored(stack, "load"),
        "errors": len(errors),
        "seconds": round(elapsed, 1),
        "requests_per_second": round(INTERACTIONS / elapsed, 1),
        "latency_ms_median": round(1000 * statistics.median(latencies)),
        "latency_ms_p95": round(1000 * latencies[int(0.95 * len(latencies))]),
        "seconds_from_last_request_to_scores_current": round(settled_in, 1),
        "stakeholder_scores_compared": comparison["stakeholder_scores"],
        "relationship_scores_compared": comparison["relationship_scores"],
        "scores_differing_from_clean_recomputation": comparison["difference_count"],
        "server": "gunicorn, 3 processes x 4 threads; 1 Celery worker, 2 processes",
    }


# --- (e) ------------------------------------------------------------------------------


class _FormFields(HTMLParser):
    """The values a browser would submit from the page's POST forms."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            if a.get("type") in {"checkbox", "radio"} and "checked" not in a:
                return
            if a.get("type") in {"submit", "button"}:
                return
            self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value") or ""))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.fields.append((self._textarea, ""))

    def handle_data(self, data):
        if self._textarea:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _edit_form(session: requests.Session, url: str) -> list[tuple[str, str]]:
    response = session.get(url, timeout=10)
    assert response.status_code == 200
    parser = _FormFields()
    parser.feed(response.text)
    return [(n, v) for n, v in parser.fields if n not in {"language", "next"}]


def _with(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(n, value if n == name else v) for n, v in fields]


def test_concurrent_edits_are_never_silently_lost(healthy, reliability_figures):
    stack = healthy
    maria, dana = stack.seeded["managers"][0], stack.seeded["director"]
    client_a, client_b = stack.api(maria["token"]), stack.api(dana["token"])
    created = client_a.post(
        stack.base_url + "/api/v1/interactions/",
        json=_payload(random.Random(5), stack.seeded["stakeholders"], "shared"),
        timeout=10,
    )
    assert created.status_code == 201
    url = f"{stack.base_url}/api/v1/interactions/{created.json()['id']}/"

    # API, one after the other: both read version 1; the second writer is refused.
    read_a, read_b = client_a.get(url, timeout=10), client_b.get(url, timeout=10)
    assert read_a.headers["ETag"] == read_b.headers["ETag"] == '"1"'
    first = client_a.patch(url, json={"subject": "Maria's"}, headers={"If-Match": '"1"'})
    assert (first.status_code, first.json()["version"]) == (200, 2)
    second = client_b.patch(url, json={"subject": "Dana's"}, headers={"If-Match": '"1"'})
    assert second.status_code == 409 and "version" in second.json()
    by_body = client_b.patch(url, json={"subject": "Dana's", "version": 1}, timeout=10)
    assert by_body.status_code == 409
    assert client_a.get(url, timeout=10).json()["subject"] == "Maria's"

    # API, at the same moment: of two writers holding the same version, one wins.
    races = 20
    for n in range(races):
        version = client_a.get(url, timeout=10).json()["version"]
        barrier = threading.Barrier(2)

        def edit(client, who, version=version, n=n, barrier=barrier):
            barrier.wait()
            return client.patch(
                url,
                json={"subject": f"{who} {n}"},
                headers={"If-Match": f'"{version}"'},
                timeout=10,
            )

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(edit, (client_a, client_b), ("A", "B")))
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200).json()
        stored = client_a.get(url, timeout=10).json()
        assert (stored["subject"], stored["version"]) == (winner["subject"], version + 1)

    # Browser form: both open the edit page, both save; the second sees the conflict.
    page = url.replace("/api/v1/interactions/", "/interactions/") + "edit/"
    browser_a = _browser_session(stack, "manager0")
    browser_b = _browser_session(stack, "dana")
    form_a, form_b = _edit_form(browser_a, page), _edit_form(browser_b, page)
    assert ("version", str(races + 2)) in form_a
    saved = browser_a.post(
        page,
        data=_with(form_a, "subject", "Maria in the browser"),
        headers={"Referer": page},
        allow_redirects=False,
        timeout=10,
    )
    assert saved.status_code == 302, saved.text[:2000]
    refused = browser_b.post(
        page,
        data=_with(form_b, "subject", "Dana in the browser"),
        headers={"Referer": page},
        timeout=10,
    )
    assert refused.status_code == 200
    assert "Someone else changed this interaction" in refused.text
    assert client_a.get(url, timeout=10).json()["subject"] == "Maria in the browser"

    reliability_figures["concurrent_edits"] = {
        "simultaneous_api_edit_races": races,
        "races_with_exactly_one_winner_and_one_409": races,
        "sequential_stale_api_edits_refused": 2,
        "stale_browser_form_saves_refused": 1,
        "silent_lost_updates": 0,
    }


# --- (f) issue 19: workers outlive their broker -------------------------------------

REDIS_KILLS = 5
LOGGING_CLIENTS = 6


def test_redis_killed_five_times_while_busy(healthy, reliability_figures):
    """Redis SIGKILLed and started empty five times while clients log interactions
    and the worker computes scores: the workers (under scripts/supervise.sh, as
    `make run` runs them) stay up or come back, nothing is lost or doubled, and the
    scores end equal to a clean recomputation."""
    stack = healthy
    stack.wait_until_scores_settle()
    managers = stack.seeded["managers"]
    director = stack.api(stack.seeded["director"]["token"])
    supervisors = {s.name: s.process.pid for s in (stack.worker, stack.graph_worker, stack.beat)}
    restarts_before = {"worker": stack.worker.restarts(), "beat": stack.beat.restarts()}
    sent: list[tuple[str, object]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        rng = random.Random(900 + n)
        session = stack.api(managers[n % len(managers)]["token"])
        k = 0
        while not stop.is_set():
            subject = f"redis-kill-{n}-{k}"
            try:
                response = session.post(
                    stack.base_url + "/api/v1/interactions/",
                    json=_payload(rng, stack.seeded["stakeholders"], subject),
                    timeout=30,
                )
                outcome: object = response.status_code
            except requests.RequestException as exc:
                outcome = repr(exc)
            with lock:
                sent.append((subject, outcome))
            k += 1

    def busy_worker() -> bool:
        """A score task was received since the last look (the worker is at work)."""
        return "Task metrics.tasks." in stack.worker.log_tail(3000)

    outages: list[float] = []
    with ThreadPoolExecutor(LOGGING_CLIENTS) as pool:
        futures = [pool.submit(client, n) for n in range(LOGGING_CLIENTS)]
        for _ in range(REDIS_KILLS):
            wait_for(stack.redis.ping, 30, "Redis up")
            # A full recomputation on top of the stream of score tasks.
            director.post(stack.base_url + "/api/v1/recompute/", timeout=30)
            wait_for(busy_worker, 30, "the worker busy with score tasks")
            time.sleep(1.0)
            stack.redis.stop()  # SIGKILL: everything queued in it is gone
            down = time.monotonic()
            time.sleep(3.0)
            stack.redis.start()  # empty
            outages.append(time.monotonic() - down)
            time.sleep(3.0)
        time.sleep(2.0)
        stop.set()
        for future in futures:
            future.result()
    last_back = time.monotonic()  # 5 s after Redis last came back

    failures = [(s, o) for s, o in sent if o != 201]
    assert failures == [], failures[:5]
    stored = _stored(stack, "redis-kill")
    distinct = stack.sql(
        "SELECT count(DISTINCT subject) FROM relations_interaction WHERE subject LIKE %s",
        ("redis-kill-%",),
    )[0][0]
    assert stored == distinct == len(sent)  # each stored once

    # Every worker process is up: alive throughout, or restarted by its supervisor.
    for service in (stack.worker, stack.graph_worker, stack.beat):
        assert service.alive() and service.process.pid == supervisors[service.name]
        assert wait_for(service.child_pid, 60, f"{service.name} running")
    stack.wait_worker()
    settled_in = stack.wait_until_scores_settle(seconds=120)
    seconds_until_exact = time.monotonic() - last_back
    comparison = _assert_scores_equal_full_recomputation(stack)
    sweep = float(stack.env["RAPPORT_SWEEP_INTERVAL_SECONDS"])
    log = stack.worker.log.read_text()
    restarted = {
        name: service.restarts() - restarts_before[name]
        for name, service in (("worker", stack.worker), ("beat", stack.beat))
    }

    reliability_figures["redis_killed_while_busy"] = {
        "redis_kills": REDIS_KILLS,
        "signal": "SIGKILL, restarted empty (no persistence)",
        "seconds_down_each": round(statistics.mean(outages), 1),
        "logging_clients": LOGGING_CLIENTS,
        "interactions_sent": len(sent),
        "interactions_stored": stored,
        "interactions_stored_twice": stored - distinct,
        "request_errors": len(failures),
        "worker_connection_losses_logged": log.count("Connection to broker lost"),
        "worker_restarts_by_supervisor": restarted["worker"],
        "beat_restarts_by_supervisor": restarted["beat"],
        "sweep_interval_seconds": sweep,
        "seconds_from_clients_stopped_to_scores_exact": round(seconds_until_exact, 1),
        "seconds_waiting_for_markers_after_clients_stopped": round(settled_in, 1),
        "stakeholder_scores_compared": comparison["stakeholder_scores"],
        "relationship_scores_compared": comparison["relationship_scores"],
        "scores_differing_from_clean_recomputation": comparison["difference_count"],
        "supervisor": "scripts/supervise.sh (as `make run`), back-off 1-2 s in the test",
    }


def test_beat_killed_is_restarted_and_sweeps(healthy, reliability_figures):
    """Beat SIGKILLed: its supervisor starts it again, and the restarted beat's sweep
    repairs changes whose tasks Redis lost."""
    stack = healthy
    stack.wait_until_scores_settle()
    killed_pid = stack.beat.kill_child()
    killed = time.monotonic()
    stack.beat.wait_restarted(killed_pid)
    restarted_in = time.monotonic() - killed

    stack.redis.stop()  # the tasks of what follows are lost: only the sweep repairs it
    assert [r.status_code for r in _log(stack, 10, "beat-kill", seed=6)] == [201] * 10
    assert stack.pending_markers() > 0
    stack.redis.start()
    back = time.monotonic()
    stack.wait_until_scores_settle(seconds=90)
    repaired_in = time.monotonic() - back
    comparison = _assert_scores_equal_full_recomputation(stack)
    assert _stored(stack, "beat-kill") == 10

    reliability_figures["beat_killed"] = {
        "signal": "SIGKILL to beat",
        "seconds_to_restart_by_supervisor": round(restarted_in, 1),
        "interactions_logged_while_redis_down_after": 10,
        "seconds_from_redis_back_to_scores_exact": round(repaired_in, 1),
        "scores_differing_from_clean_recomputation": comparison["difference_count"],
    }


def test_graph_worker_killed_mid_network_computation(healthy, reliability_figures):
    """The graph worker SIGKILLed while it stores a network computation: its
    supervisor starts it again and the task, never acknowledged, runs again."""
    stack = healthy
    assert all(r.status_code == 201 for r in _log(stack, 20, "graph-kill", seed=7))
    # A table lock stops the computation at its store step, so the kill lands inside it.
    with psycopg.connect(stack.postgres.dsn) as blocker:
        blocker.execute("LOCK TABLE networks_nodemetric IN SHARE MODE")
        run = stack.probe("network_enqueue")["run"]

        def storing() -> bool:
            status = stack.sql("SELECT status FROM networks_networkrun WHERE id = %s", (run,))
            waiting = stack.sql(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND query ILIKE %s",
                ("%networks_nodemetric%",),
            )[0][0]
            return status[0][0] == "running" and waiting > 0

        wait_for(storing, 60, "the network computation storing its metrics")
        killed_pid = stack.graph_worker.kill_child()
        killed = time.monotonic()
        blocker.rollback()

    stack.graph_worker.wait_restarted(killed_pid)
    restarted_in = time.monotonic() - killed
    stack.wait_worker(stack.graph_worker)

    def finished() -> bool:
        return (
            stack.sql("SELECT status FROM networks_networkrun WHERE id = %s", (run,))[0][0]
            == "done"
        )

    wait_for(finished, 90, "the redelivered network computation finishing", interval=0.2)
    finished_in = time.monotonic() - killed
    assert stack.sql("SELECT count(*) FROM networks_nodemetric")[0][0] > 0

    reliability_figures["graph_worker_killed_mid_computation"] = {
        "signal": "SIGKILL to the graph worker (solo pool) while storing",
        "seconds_to_restart_by_supervisor": round(restarted_in, 1),
        "task_redelivered": True,
        "seconds_from_kill_to_finished_computation": round(finished_in, 1),
        "visibility_timeout_seconds": int(stack.env["CELERY_VISIBILITY_TIMEOUT"]),
    }
