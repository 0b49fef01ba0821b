"""Benchmark-only machinery of `make bench`.

The views and the middleware are switched on by `RAPPORT_BENCH_VIEWS=1` alone
(config.settings, config.urls), which the benchmark sets on the server it starts;
production never serves them. `loadgen` is the HTTP load generator the
benchmark runs in a process of its own.
"""
