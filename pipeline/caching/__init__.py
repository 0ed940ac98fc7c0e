"""Caching: fingerprints of what outputs depend on, deferred outputs, and the persistent build caches."""
