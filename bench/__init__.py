"""Benchmarks and load generators; each is `python -m bench.<name>`."""
