"""Developer tools that are not part of the pipeline package (``python -m tools.screenshots``)."""
