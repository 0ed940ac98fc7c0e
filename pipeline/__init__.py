"""goal-17 syndication: Markdown updates in, pages, feeds, snippets and newsletters out."""

__version__ = "0.1.0"
