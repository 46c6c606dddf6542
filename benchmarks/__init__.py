"""`python -m benchmarks`: the service's figures beside their ceilings, measured in one run.

The older single-figure scripts stay runnable by hand: `python -m benchmarks.bench_sms` and
`python -m benchmarks.bench_telegram`."""
