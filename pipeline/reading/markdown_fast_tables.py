"""Pipe tables the way Python-Markdown's tables extension reads and writes them.

TableProcessor takes a block whose first line splits into cells and whose second is the
separator row (dashes, colons, pipes); each row is split at its pipes and each cell's text is
inline Markdown. Rows with backslashes, or with a pipe inside code, raise :class:`Decline`
(the library's own split keeps those pipes).
"""

from __future__ import annotations

import re

from pipeline.reading.markdown_fast_inline import Decline, inline

_TABLE_SEPARATOR = frozenset("|:- ")
_TICKS = re.compile("`+")


def is_table(lines: list[str]) -> bool:
    """TableProcessor.test, for rows without backticks or backslashes (others decline)."""
    rows = [row.strip(" ") for row in lines]
    if len(rows) < 2:
        return False
    if any("\\" in row or ("`" in row and _code_hides_a_pipe(row)) for row in rows):
        raise Decline  # escaped pipes, or a pipe inside code, splits cells the library's way
    border = rows[0].startswith("|") or rows[0].endswith("|")
    width = len(_split_row(rows[0], border))
    is_table = width > 1
    if width == 1 and border:
        is_table = all(row.startswith("|") or row.endswith("|") for row in rows[1:])
    if not is_table:
        return False
    separator = _split_row(rows[1], border)
    return len(separator) == width and set("".join(separator)) <= _TABLE_SEPARATOR


def _code_hides_a_pipe(row: str) -> bool:
    """Would TableProcessor._split keep a pipe of this row (no backslashes) out of the split?

    It pairs each backtick run with the next run of the same length and ignores the pipes
    between them; with no pipe inside such a pair, its split is the plain one.
    """
    runs = [(run.start(), run.end(), run.end() - run.start()) for run in _TICKS.finditer(row)]
    index = 0
    while index < len(runs):
        start, _, size = runs[index]
        for later in range(index + 1, len(runs)):
            if runs[later][2] == size:
                if "|" in row[start : runs[later][1]]:
                    return True
                index = later
                break
        index += 1
    return False


def _split_row(row: str, border: bool) -> list[str]:
    if border:
        if row.startswith("|"):
            row = row[1:]
        if row.endswith("|"):
            row = row[:-1]
    return row.split("|")


def table(lines: list[str]) -> str:
    border = lines[0].strip(" ").startswith("|") or lines[0].strip(" ").endswith("|")
    aligns = []
    for cell in _split_row(lines[1].strip(" "), border):
        cell = cell.strip(" ")
        if cell.startswith(":") and cell.endswith(":"):
            aligns.append(' style="text-align: center;"')
        elif cell.startswith(":"):
            aligns.append(' style="text-align: left;"')
        elif cell.endswith(":"):
            aligns.append(' style="text-align: right;"')
        else:
            aligns.append("")
    html = ["<table>\n<thead>\n", _row(lines[0], border, aligns, "th"), "</thead>\n<tbody>\n"]
    if len(lines) < 3:
        html.append("<tr>\n" + "<td></td>\n" * len(aligns) + "</tr>\n")  # no alignment here
    for line in lines[2:]:
        html.append(_row(line, border, aligns, "td"))
    html.append("</tbody>\n</table>")
    return "".join(html)


def _row(line: str, border: bool, aligns: list[str], tag: str) -> str:
    cells = _split_row(line.strip(" "), border)
    html = ["<tr>\n"]
    for index, align in enumerate(aligns):
        text = cells[index].strip(" ") if index < len(cells) else ""
        html.append(f"<{tag}{align}>{inline(text) if text else ''}</{tag}>\n")
    html.append("</tr>\n")
    return "".join(html)
