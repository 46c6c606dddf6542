"""Benchmarks, run by hand from the repository root (each module's docstring says how):
`python -m benchmarks.bench_sms` and `python -m benchmarks.bench_telegram`."""
