"""Benchmarks for issue 8: a synthetic corpus, the naive baseline and the runner (``python -m bench``)."""
