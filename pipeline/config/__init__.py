"""Configuration: ``site.toml`` and every settings table, read and validated once at the edge."""
