"""HTTP load generator of the benchmark, run in a process of its own.

    python -m demo.bench.loadgen --url http://127.0.0.1:8765/api/v1/stakeholders/ \
        --header "Authorization: Token …" --concurrency 6 --duration 8 --warmup 30

A fixed number of client threads, each with its own connection (re-opened when
the server closes it, as gunicorn's sync workers do), send the warm-up requests,
then the measured ones: `--requests N` of them, or as many as `--duration S`
seconds allow. Prints one JSON object: requests per second over the
measured phase, client-side latency percentiles, status counts and, when the
server sends them (the benchmark's middleware), the server time and query count.
Standard library only, so that it does not depend on Django.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class Client:
    def __init__(self, url: str, method: str, headers: dict[str, str], body: bytes | None) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.method, self.headers, self.body = method, headers, body
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def send(self) -> tuple[int, float, dict[str, str]]:
        start = time.perf_counter()
        try:
            self.connection.request(self.method, self.path, body=self.body, headers=self.headers)
            response = self.connection.getresponse()
            response.read()
        except (ConnectionError, http.client.HTTPException):
            # The server closed a kept-alive connection under us: once more, afresh.
            self.connection.close()
            start = time.perf_counter()
            self.connection.request(self.method, self.path, body=self.body, headers=self.headers)
            response = self.connection.getresponse()
            response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.will_close:
            self.connection.close()
        return response.status, elapsed, {k.lower(): v for k, v in response.getheaders()}


def run(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    concurrency: int = 6,
    requests: int | None = 600,
    duration: float | None = None,
    warmup: int = 60,
) -> dict:
    headers = {"Connection": "keep-alive", **(headers or {})}
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    clients = [Client(url, method, headers, body) for _ in range(concurrency)]
    lock = threading.Lock()
    remaining = [0]
    deadline = [0.0]
    latencies: list[float] = []
    server_ms: list[float] = []
    queries: list[int] = []
    statuses: dict[str, int] = {}

    def work(client: Client, record: bool) -> None:
        while True:
            with lock:
                if remaining[0] <= 0 or time.perf_counter() > deadline[0]:
                    return
                remaining[0] -= 1
            status, elapsed, response_headers = client.send()
            if not record:
                continue
            with lock:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                latencies.append(elapsed)
                if "x-bench-time-ms" in response_headers:
                    server_ms.append(float(response_headers["x-bench-time-ms"]))
                if "x-bench-queries" in response_headers:
                    queries.append(int(response_headers["x-bench-queries"]))

    def phase(count: int, record: bool, seconds: float | None = None) -> float:
        remaining[0] = count
        start = time.perf_counter()
        deadline[0] = start + seconds if seconds else float("inf")
        threads = [threading.Thread(target=work, args=(c, record)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - start

    phase(warmup, record=False)
    # With a duration, requests run until it is over (those in flight then finish).
    seconds = phase(requests or sys.maxsize, record=True, seconds=duration)
    done = sum(statuses.values())
    ok = sum(n for status, n in statuses.items() if status.startswith("2"))
    return {
        "url": url,
        "method": method,
        "concurrency": concurrency,
        "requests": done,
        "ok": ok,
        "statuses": statuses,
        "seconds": seconds,
        "rps": done / seconds if seconds else None,
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "min": min(latencies, default=None),
            "max": max(latencies, default=None),
        },
        "server_ms": {"p50": percentile(server_ms, 50), "p95": percentile(server_ms, 95)},
        "queries": {
            "min": min(queries, default=None),
            "median": statistics.median(queries) if queries else None,
            "max": max(queries, default=None),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[], help='"Name: value"')
    parser.add_argument("--body", default=None, help="request body (JSON)")
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--requests", type=int, default=None, help="measured requests")
    parser.add_argument("--duration", type=float, default=None, help="measured seconds")
    parser.add_argument("--warmup", type=int, default=60)
    args = parser.parse_args(argv)
    headers = dict(h.split(": ", 1) for h in args.header)
    result = run(
        args.url,
        method=args.method,
        headers=headers,
        body=args.body.encode() if args.body is not None else None,
        concurrency=args.concurrency,
        requests=args.requests if args.requests or args.duration else 600,
        duration=args.duration,
        warmup=args.warmup,
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
