"""Benchmarks (run as modules: `python -m bench.transitions --help`)."""
