"""The few Python-Markdown helpers the fast path uses, copied so a fast-path build never imports it.

Importing any part of the ``markdown`` package runs its ``__init__``, which loads the whole
library (core, every processor, ``xml.etree``) and, through ``fenced_code``'s ``codehilite``,
pygments: 50–80 ms of an edit build whose one changed body takes the fast path anyway. These are
copied verbatim from **Python-Markdown 3.11.3** (BSD licence, © the Python-Markdown project):
``markdown/serializers.py`` (``RE_AMP``, ``_escape_attrib_html``),
``markdown/extensions/fenced_code.py`` (``FencedBlockPreprocessor.FENCED_BLOCK_RE``),
``markdown/inlinepatterns.py`` (``HTML_RE``) and ``markdown/extensions/toc.py`` (``IDCOUNT_RE``,
``strip_tags``, ``unique``, ``nest_toc_tokens``). The fast path is only on with that release
(``markdown_fast.VERIFIED_WITH``), and ``tests/test_markdown_fast_library.py`` checks that each
copy equals the library's own (the regexes' patterns and flags, the functions on hostile inputs).
:func:`fence_matches` is ours: the fence regex's search, tried only where a fence can start
(``tests/test_markdown_fast_scans.py`` compares it with ``finditer``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableSet
from textwrap import dedent

from pipeline.caching.library_versions import version

# markdown.__version__, from the installed distribution's metadata (no import of the package).
MARKDOWN_VERSION = version("markdown")

# markdown/serializers.py
RE_AMP = re.compile(r"&(?!(?:\#[0-9]+|\#x[0-9a-f]+|[0-9a-z]+);)", re.I)


def escape_attrib_html(text: str) -> str:
    """``markdown.serializers._escape_attrib_html``."""
    if "&" in text:
        text = RE_AMP.sub("&amp;", text)
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


# markdown/extensions/fenced_code.py, FencedBlockPreprocessor.FENCED_BLOCK_RE
FENCED_BLOCK_RE = re.compile(
    dedent(r"""
            (?P<fence>^(?:~{3,}|`{3,}))[ ]*                          # opening fence
            ((\{(?P<attrs>[^\n]*)\})|                                # (optional {attrs} or
            (\.?(?P<lang>[\w#.+-]*)[ ]*)?                            # optional (.)lang
            (hl_lines=(?P<quot>"|')(?P<hl_lines>.*?)(?P=quot)[ ]*)?) # optional hl_lines)
            \n                                                       # newline (end of opening fence)
            (?P<code>.*?)(?<=\n)                                     # the code block
            (?P=fence)[ ]*$                                          # closing fence
        """),
    re.MULTILINE | re.DOTALL | re.VERBOSE,
)


def fence_matches(text: str) -> Iterator[re.Match[str]]:
    """``FENCED_BLOCK_RE.finditer(text)``, the regex tried only where a fence can open.

    Its ``^`` (multiline) makes ``re`` try every position of the document; a match can only
    start at the start of a line that starts with three backticks or tildes, found here with
    ``str.find``. From each such place on, the regex answers as its own search would.
    """
    position = 0
    while (start := _fence_start(text, position)) != -1:
        match = FENCED_BLOCK_RE.match(text, start)
        if match is None:
            position = start + 1
        else:
            yield match
            position = match.end()


def _fence_start(text: str, position: int) -> int:
    """The first index from ``position`` on where a line starts with ``` or ~~~, or -1."""
    found = -1
    for fence in ("```", "~~~"):
        at = text.find(fence, position)
        while at > 0 and text[at - 1] != "\n":
            at = text.find(fence, at + 1)
        if at != -1 and (found == -1 or at < found):
            found = at
    return found


# markdown/inlinepatterns.py
HTML_RE = (
    # Tag
    r"""(<(\/?+[a-zA-Z][^\s"'<>@]*+(?:\s+[^\s"'=<>]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s"'=<>]++))?+)*+\s*+/?|"""
    # Comment
    r"!--(?:(?!<!--|-->).)*--|"
    # Processing instruction
    r"[?](?:(?!<[?]|[?]>).)*[?]|"
    # `CDATA`
    r"!\[CDATA\[(?:(?!<!\[CDATA\[|\]\]>).)*\]\]"
    r")>)"
)

# markdown/extensions/toc.py
IDCOUNT_RE = re.compile(r"^(.*)_([0-9]+)$")


def strip_tags(text: str) -> str:
    """``markdown.extensions.toc.strip_tags``: HTML tags stripped, entities unaffected."""
    while (start := text.find("<!--")) != -1 and (end := text.find("-->", start)) != -1:
        text = f"{text[:start]}{text[end + 3 :]}"
    text = re.sub(HTML_RE, "", text, flags=re.DOTALL)
    return " ".join(text.split())


def unique(id: str, ids: MutableSet[str], counters: dict[str, int] | None = None) -> str:  # noqa: A002
    """``markdown.extensions.toc.unique``: ``id``, or ``id_1``, ``id_2`` … if taken."""
    if id in ids or not id:
        m = IDCOUNT_RE.match(id)
        if m:
            base, count = m.group(1), int(m.group(2))
        else:
            base, count = id, 0
        skip = False
        if counters is not None:
            known = counters.get(base, 0)
            if count <= known or id == f"{base}_{known + 1}":
                skip = True
                count = max(count, known)
        count += 1
        while f"{base}_{count}" in ids:
            count += 1
        id = f"{base}_{count}"
        if skip:
            counters[base] = count  # type: ignore[index]  # skip is only set with counters
    ids.add(id)
    return id


def nest_toc_tokens(toc_list: list[dict]) -> list[dict]:
    """``markdown.extensions.toc.nest_toc_tokens``: a flat list of headings, nested by level."""
    ordered_list: list[dict] = []
    if len(toc_list):
        last = toc_list.pop(0)
        last["children"] = []
        levels = [last["level"]]
        ordered_list.append(last)
        parents: list[dict] = []
        while toc_list:
            t = toc_list.pop(0)
            current_level = t["level"]
            t["children"] = []
            if current_level < levels[-1]:
                levels.pop()
                to_pop = 0
                for p in reversed(parents):
                    if current_level <= p["level"]:
                        to_pop += 1
                    else:
                        break
                if to_pop:
                    levels = levels[:-to_pop]
                    parents = parents[:-to_pop]
                levels.append(current_level)
            if current_level == levels[-1]:
                (parents[-1]["children"] if parents else ordered_list).append(t)
            else:
                last["children"].append(t)
                parents.append(last)
                levels.append(current_level)
            last = t
    return ordered_list
