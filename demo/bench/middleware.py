"""Reports each response's database queries and server time (benchmark only)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack

from django.db import connections
from django.http import HttpRequest, HttpResponse

QUERIES_HEADER = "X-Bench-Queries"
TIME_HEADER = "X-Bench-Time-Ms"


class BenchTimingMiddleware:
    """First in the stack: counts every query of the request on every alias."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = 0

        def counter(execute, sql, params, many, context):  # noqa: ANN001, ANN202
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        start = time.perf_counter()
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(counter))
            response = self.get_response(request)
        response[QUERIES_HEADER] = str(count)
        response[TIME_HEADER] = f"{(time.perf_counter() - start) * 1000:.2f}"
        return response
