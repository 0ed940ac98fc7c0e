"""Reading: a content folder → validated, rendered :class:`Update` values (no outputs, no state)."""
