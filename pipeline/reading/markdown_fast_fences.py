"""Fenced code blocks taken out of a document the way the fenced_code extension takes them out.

The extension is a preprocessor: before any block is parsed it finds each fence with its own
regex, stores ``<pre><code class="language-x">…</code></pre>`` in the HTML stash and leaves a
placeholder on a line of its own between blank lines, which later becomes a paragraph and is
swapped back for the stored HTML. :func:`extract` does the same with the extension's regex and
escaping, and gives the fast path the text with its own placeholders (``STX f<n> ETX``) and
the HTML of each fence. Fences with ``{attributes}`` or ``hl_lines`` raise :class:`Decline`.
"""

from __future__ import annotations

from pipeline.reading.markdown_fast_inline import ETX, STX, Decline
from pipeline.reading.markdown_fast_library import (
    escape_attrib_html,  # the extension's own escaping
    fence_matches,
)

PREFIX = STX + "f"


def extract(text: str) -> tuple[str, list[str], list[str]]:
    """(text with placeholders, the text outside the fences, each fence's HTML), or Decline."""
    pieces: list[str] = []
    outside: list[str] = []
    codes: list[str] = []
    position = 0
    for match in fence_matches(text):  # FENCED_BLOCK_RE.finditer, tried at line starts only
        if match.group("attrs") is not None or match.group("hl_lines") is not None:
            raise Decline  # attribute lists and highlighted lines: the library's handle_attrs
        lang = match.group("lang")
        lang_attr = f' class="language-{escape_attrib_html(lang)}"' if lang else ""
        codes.append(f"<pre><code{lang_attr}>{_escape(match.group('code'))}</code></pre>")
        before = text[position : match.start()]
        outside.append(before)
        pieces.append(f"{before}\n{PREFIX}{len(codes) - 1}{ETX}\n")
        position = match.end()
    outside.append(text[position:])
    pieces.append(text[position:])
    return "".join(pieces), outside, codes


def _escape(code: str) -> str:
    """FencedBlockPreprocessor._escape: the code's text as HTML."""
    return code.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
