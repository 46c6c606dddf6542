"""`python -m benchmarks`: the service's figures beside their ceilings, measured in one run."""
