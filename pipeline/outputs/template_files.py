"""The template files' fingerprint, apart from the Jinja environment that renders them.

Every build digests the templates to know whether anything changed (a build skipped because
nothing did renders nothing); reading the files needs neither Jinja nor the environment's
globals, which :mod:`pipeline.outputs.templating` imports (≈ 0.1 s with Babel and the taxonomy).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.config.site import TEMPLATES_DIR


def template_fingerprint(templates_dir: Path = TEMPLATES_DIR) -> str:
    """A hash of every template file: a cache of built output is stale when it changes."""
    digest = hashlib.sha256()
    for path in sorted(templates_dir.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(templates_dir).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
