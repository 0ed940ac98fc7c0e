"""The plain-text part: rendered from the issue's data through its own template, then wrapped.

Not scraped from the HTML, so it reads as text: headings underlined, one bullet per update, and
every link listed once at the end as ``[n] URL``. Lines are wrapped to :data:`WIDTH` characters,
keeping each line's indent; a URL is never broken, so a line holding only a URL longer than that
(a very long base URL or slug) is the one exception.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import jinja2

WIDTH = 78
_LINK_LINE = re.compile(r"^\s*(?:\[\d+\] )?\S+://\S+$")  # "[3] https://…" or a bare URL: never broken


def wrap(text: str, width: int = WIDTH) -> str:
    """Wrap every line longer than ``width`` at spaces, continuing with the same indent."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width or _LINK_LINE.match(line):
            out.append(line)
            continue
        body = line.lstrip(" ")
        indent = line[: len(line) - len(body)]
        # continuation lines of a "* item" bullet line up with its text
        follow = indent + "  " if body.startswith("* ") else indent
        out.extend(
            textwrap.wrap(
                body,
                width=width,
                initial_indent=indent,
                subsequent_indent=follow,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(out)


def render_text(ctx: dict[str, Any], env: jinja2.Environment, template: str) -> str:
    """Render ``template`` (no HTML escaping: it is text) and wrap it; ends with one newline."""
    text = env.get_template(template).render(ctx)
    lines = [line.rstrip() if line != "-- " else line for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return wrap("\n".join(lines)) + "\n"
