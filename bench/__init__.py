"""Benchmarks of the Pitchlab pipeline: `python -m bench [--quick]` (or `make bench`).

Each measurement runs in its own subprocess (bench.child) so its peak RSS is its own;
bench.__main__ collects the results into BENCHMARKS.json and BENCHMARKS.md.
"""
