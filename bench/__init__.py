"""Benchmarks: each module has `run() -> dict`; `python -m bench [name …]` runs them."""
