"""Private services for the fault tests: a PostgreSQL cluster, a Redis server, the
app under gunicorn, Celery workers and beat, each a real process the tests may kill.

Nothing here touches the machine's shared PostgreSQL (5432) or Redis (6379):
every service listens on a free port of its own and lives in a temporary folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_BIN_CANDIDATES = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin"]


def _die_with_the_tests() -> None:
    """In the child before exec: SIGKILL it if the test process dies (Linux), so that
    an interrupted run leaves no server behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class StackUnavailable(Exception):
    """The private services cannot be started on this machine (the reason says why)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], object], seconds: float, what: str, interval=0.05):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {seconds:.0f} s")
        time.sleep(interval)


def pg_bin() -> Path:
    for candidate in PG_BIN_CANDIDATES:
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise StackUnavailable("no PostgreSQL server binaries (initdb) on this machine")


def _as_postgres_user() -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` user."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if not runuser:
        raise StackUnavailable("running as root without runuser to switch to `postgres`")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise StackUnavailable("running as root and there is no `postgres` OS user") from exc
    return [runuser, "-u", "postgres", "--"]


class PrivatePostgres:
    """A throw-away cluster: trust authentication, its socket in its own folder."""

    def __init__(self, workdir: Path):
        self.bin = pg_bin()
        self.prefix = _as_postgres_user()
        self.dir = workdir / "pg"
        self.dir.mkdir()
        if self.prefix:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = free_port()
        self._run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ]
        )

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.prefix + args, capture_output=True, text=True, check=check, cwd=self.dir
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/rapport_faults"

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=rapport_faults"

    def start(self) -> None:
        # fsync off: the tests kill processes, not the machine, so the OS page cache
        # survives every fault they cause; an immediate stop still needs WAL recovery.
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        result = self._run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.log),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr}{self.log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: no checkpoint, the next start recovers from the WAL."""
        self._run(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
            check=False,
        )

    def running(self) -> bool:
        result = self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "status"], False)
        return result.returncode == 0

    def create_database(self) -> None:
        self._run(
            [
                str(self.bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "rapport_faults",
            ]
        )

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text()[-chars:]
        except OSError:
            return ""


class PrivateRedis:
    def __init__(self, workdir: Path):
        self.binary = shutil.which("redis-server")
        if not self.binary:
            raise StackUnavailable("no redis-server on this machine")
        self.port = free_port()
        self.log = workdir / "redis.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_the_tests,
            )
        wait_for(self.ping, 15, "Redis answering PING")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.exceptions.ConnectionError:
            return False

    def stop(self) -> None:
        """SIGKILL: Redis vanishes with everything queued in it (nothing is on disk)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


SUPERVISE = ROOT / "scripts" / "supervise.sh"


class Service:
    """A long-running process of ours (gunicorn, a Celery worker, beat) in its own
    process group, so that a kill reaches its children too.

    `supervised`: run through scripts/supervise.sh, as `make run` does, which starts
    the command again whenever it exits; `kill_child` then kills only the command
    (a crash), `kill` the supervisor and all (a machine-level stop)."""

    def __init__(
        self,
        name: str,
        args: list[str],
        env: dict[str, str],
        workdir: Path,
        supervised: bool = False,
    ):
        self.name = name
        self.supervised = supervised
        if supervised:
            # The command dies with its supervisor, even a SIGKILLed one.
            args = [str(SUPERVISE), name, "setpriv", "--pdeathsig", "KILL", *args]
        self.args = args
        self.env = env
        self.log = workdir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "a") as log:
            log.write(f"\n--- start {time.strftime('%H:%M:%S')} ---\n")
            log.flush()
            self.process = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_the_tests,
            )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return bool(self.process and self.process.poll() is None)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the whole group (a prefork worker's pool children included)."""
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)
        if sig == signal.SIGKILL and self.process:
            # Orphaned pool children would keep consuming: reap the group for sure.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)

    # --- under the supervisor ---------------------------------------------------------
    def child_pid(self) -> int | None:
        """The supervised command's process (the supervisor's child), if running."""
        if not self.alive():
            return None
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:  # ppid
                return int(stat.parent.name)
        return None

    def kill_child(self, sig: int = signal.SIGKILL) -> int:
        """Kill the supervised command alone (a crash); returns the killed pid."""
        pid = wait_for(self.child_pid, 30, f"{self.name} running under its supervisor")
        os.kill(pid, sig)
        return pid

    def wait_restarted(self, old_pid: int, seconds: float = 60) -> int:
        """The supervisor started the command again: its new pid."""
        return wait_for(
            lambda: (pid := self.child_pid()) not in (None, old_pid) and pid,
            seconds,
            f"{self.name} restarted by its supervisor",
            interval=0.1,
        )

    def restarts(self) -> int:
        """How many times the supervisor found the command exited (all runs of this log)."""
        try:
            return self.log.read_text().count(f"supervise: {self.name} exited")
        except OSError:
            return 0

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text()[-chars:]
        except OSError:
            return ""


# The test run's own settings: the private deployment sets its own.
OUTER_SETTINGS = ("PYTEST", "DJANGO", "CELERY", "RAPPORT", "DATABASE_URL", "HYPOTHESIS")


class Stack:
    """The whole private deployment; `start()` brings it up, `close()` removes it."""

    def __init__(self):
        self.workdir = Path(tempfile.mkdtemp(prefix="rapport-faults-"))
        os.chmod(self.workdir, 0o755)  # the postgres user must reach its folder inside
        self.postgres = PrivatePostgres(self.workdir)
        self.redis = PrivateRedis(self.workdir)
        self.web_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(OUTER_SETTINGS)},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": self.postgres.url,
            "CELERY_BROKER_URL": self.redis.url,
            "DJANGO_SECRET_KEY": "faults-only-" + "x" * 50,
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_LOG_LEVEL": "WARNING",
            # Redelivery of a killed worker's task within seconds, not an hour: the
            # visibility timeout still exceeds the longest task of these tests.
            "CELERY_VISIBILITY_TIMEOUT": "8",
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CELERY_UNACKED_RESTORE_THROTTLE": "1",
            "RAPPORT_SWEEP_INTERVAL_SECONDS": "2",
            "RAPPORT_API_THROTTLE_RATE": "100000/hour",
            "PYTHONUNBUFFERED": "1",
            # The supervisor's back-off, short for the tests (1 s, at most 2 s).
            "SUPERVISE_MAX_DELAY": "2",
        }
        self.web = Service(
            "web",
            [
                str(BIN / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "3",
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--timeout",
                "60",
                "--backlog",
                "256",
                "--graceful-timeout",
                "5",
            ],
            self.env,
            self.workdir,
        )
        self.worker = self._worker(1)
        self.beat = Service(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(self.workdir / "celerybeat-schedule"),
            ],
            self.env,
            self.workdir,
            supervised=True,
        )
        # The graph queue's own worker, as `make run` and docker-compose run it.
        self.graph_worker = Service(
            "graph-worker",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                "-Q",
                "graph",
                "--pool=solo",
                "-n",
                "graph@localhost",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            self.env,
            self.workdir,
            supervised=True,
        )
        self.workers_started = 1

    def _worker(self, n: int) -> Service:
        return Service(
            f"worker{n}",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                "-Q",
                "celery",
                "--pool=prefork",
                "--concurrency=2",
                "-n",
                f"faults{n}@localhost",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            self.env,
            self.workdir,
            supervised=True,
        )

    # --- life cycle -------------------------------------------------------------------
    def start(self) -> None:
        self.postgres.start()
        self.postgres.create_database()
        self.redis.start()
        self.manage("migrate", "--noinput", "-v0")
        self.web.start()
        self.worker.start()
        self.graph_worker.start()
        self.beat.start()
        self.wait_web()
        self.wait_worker()

    def close(self) -> None:
        for service in (self.beat, self.graph_worker, self.worker, self.web):
            service.stop()
        self.redis.stop()
        self.postgres.stop("immediate")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def restart_worker(self) -> None:
        """A new worker process (a supervisor restarting the killed one)."""
        self.workers_started += 1
        self.worker = self._worker(self.workers_started)
        self.worker.start()
        self.wait_worker()

    def wait_web(self) -> None:
        import requests

        def up() -> bool:
            if not self.web.alive():
                raise RuntimeError(f"gunicorn exited: {self.web.log_tail()}")
            try:
                return requests.get(self.base_url + "/api/schema/", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_for(up, 60, "the web server answering", interval=0.2)

    def wait_worker(self, worker: Service | None = None) -> None:
        """The worker has connected to the broker and consumes (its log says ready
        since it was last started, by us or by its supervisor)."""
        worker = worker or self.worker

        def ready() -> bool:
            if not worker.alive():
                raise RuntimeError(f"the worker exited: {worker.log_tail()}")
            latest = re.split(r"--- start|supervise: \S+ started", worker.log_tail(10**8))[-1]
            return "ready." in latest

        wait_for(ready, 60, f"the Celery {worker.name} ready", interval=0.2)

    # --- running Django code against the private database ---------------------------
    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr[-3000:]}")
        return result.stdout

    def probe(self, command: str, **arguments) -> dict:
        """Run `tests.faults.probe.<command>(**arguments)` in a Django process on the
        private database; returns its JSON answer."""
        result = subprocess.run(
            [sys.executable, "-m", "tests.faults.probe", command, json.dumps(arguments)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"probe {command} failed: {result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def api(self, token: str):
        """An HTTP client of the API, signed in with `token`."""
        import requests

        session = requests.Session()
        session.headers.update({"Authorization": f"Token {token}", "Accept": "application/json"})
        return session

    def pending_markers(self) -> int:
        return self.sql("SELECT count(*) FROM metrics_pendingrecompute")[0][0]

    def wait_until_scores_settle(self, seconds: float = 90) -> float:
        """No dirty marker left: every change has reached the stored scores. Returns
        how long that took."""
        started = time.monotonic()
        try:
            wait_for(lambda: self.pending_markers() == 0, seconds, "no pending marker", 0.1)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n{self.worker.log_tail()}") from None
        return time.monotonic() - started

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.postgres.dsn, autocommit=True) as connection:
            cursor = connection.execute(query, params)
            return cursor.fetchall() if cursor.description else []
