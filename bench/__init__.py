"""Council's benchmarks: the real bot against the fake Discord and the fake model servers.

Run ``python -m bench`` from the checkout's root for the full run (about two and a half
minutes) or ``python -m bench --quick`` for the smoke run the test suite uses. Each benchmark
module exposes ``run(quick, workdir)`` returning `bench.report.Metric`s; `bench.__main__` prints
them as a table and writes ``bench/results.json``. The fakes serve from this process
(`bench.world.Fakes`); the bot runs as ``council-bot run`` in a child process
(`bench.botrun`), so its loop lag, memory and CPU are measured on their own.
"""
