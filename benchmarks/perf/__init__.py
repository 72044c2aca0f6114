"""Performance tooling: synthetic data at scale, the benchmark suite and the load test.

Used by `marketplace bench` and `marketplace loadtest`; nothing here runs in the product's requests.
"""
