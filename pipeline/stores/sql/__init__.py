"""What the SQLite and PostgreSQL stores share: the rules, written once in SQL both engines accept.

A store's class per backend (``pipeline/stores/sqlite/``, ``pipeline/stores/postgres/``) combines
one of these rule classes with its backend's :class:`~pipeline.stores.sql.access.SqlAccess` and
keeps the SQL that differs (schema scripts, row locks) next to its twin.
"""
