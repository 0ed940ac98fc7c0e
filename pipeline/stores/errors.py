"""The stores' failures a user can meet, in a module that imports nothing.

The CLI turns them into one line (``error: …``) for every command; defining them here lets it
name them without importing the stores, which a build that uses none should not pay for.
"""

from __future__ import annotations


class SchemaError(Exception):
    """The database's schema does not match this program; the message says what to do (one line)."""


class DatabaseUnavailable(Exception):
    """The database cannot be reached; the message names it (without its password)."""
