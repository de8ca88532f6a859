"""Benchmarks: `make bench` prints tables of the measured numbers next to their targets."""
