"""Helpers shared by the test suite, the golden-data recorders and the benchmarks."""
