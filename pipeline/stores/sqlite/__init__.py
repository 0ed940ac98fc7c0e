"""The SQLite implementation of every store: ``state.sqlite3`` in the state folder (the default)."""
