"""Benchmarks: speed, quality and robustness, each written to docs/ with the command that produced it."""
