"""Outputs: pure builders, ``updates + settings → {relative path: bytes}`` (pages, feeds, snippets, newsletter)."""
