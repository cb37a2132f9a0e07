"""Council's benchmarks: the real bot against the fake Discord and the fake model servers.

Run ``python -m bench`` for the full run (a few minutes) or ``python -m bench --quick`` for the
smoke run the test suite uses. Each benchmark module exposes ``run(quick, workdir)`` returning
`bench.report.Metric`s; `bench.__main__` prints them as a table and writes ``bench/results.json``.
"""
