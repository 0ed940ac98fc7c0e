"""One module per CLI command; see :mod:`pipeline.cli`."""
