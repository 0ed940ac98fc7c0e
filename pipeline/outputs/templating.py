"""The one Jinja2 environment every builder renders with (pages, newsletter, snippets demo)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from pipeline.config.site import TEMPLATES_DIR
from pipeline.config.taxonomy import load_taxonomy
from pipeline.outputs.labels import labels
from pipeline.reading.dates import display_date, rfc3339


@cache
def environment(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """HTML-autoescaping, strict about undefined names so a template typo fails the build.

    Compiled templates are kept in Jinja's per-user bytecode cache (a private folder under the
    temporary directory, checked by each template's source checksum), so a build does not spend
    a quarter of a second compiling the same templates again; the output is the same either way.
    """
    env = jinja2.Environment(
        bytecode_cache=_bytecode_cache(),
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=jinja2.select_autoescape(["html", "xml", "mjml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["rfc3339"] = rfc3339
    env.globals["taxonomy"] = load_taxonomy()
    env.globals["labels"] = labels
    env.globals["display_date"] = display_date
    return env


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # no usable private temporary folder: compile every time
        return None


def template_fingerprint(templates_dir: Path = TEMPLATES_DIR) -> str:
    """A hash of every template file: a cache of built output is stale when it changes."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(templates_dir.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(templates_dir).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
