"""Splitting a Markdown file into YAML front matter and body, keeping line numbers.

YAML is read with PyYAML's *BaseLoader* composer: no implicit typing at all, so every scalar stays
the string the author typed. An unquoted ``17.10`` stays ``"17.10"`` (not the float 17.1), ``no``
stays ``"no"`` (not False) and a date stays text until :mod:`pipeline.dates` parses it. No tag can
construct a Python object. Each value keeps the line it was written on, for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

Value = str | list["Field"] | dict[str, "Field"] | None


@dataclass(frozen=True)
class Field:
    value: Value
    line: int  # 1-based line in the file


@dataclass(frozen=True)
class Document:
    meta: dict[str, Field]
    body: str
    body_line: int  # 1-based line where the body starts
    meta_line: int  # 1-based line of the opening ---


class FrontMatterError(ValueError):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def split(text: str) -> Document:
    """Parse ``---``-delimited front matter at the top of ``text`` (already LF-normalised)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError(1, "missing front matter: the file must start with a line '---'")
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            end = index
            break
    else:
        raise FrontMatterError(1, "front matter is not closed: add a line '---' after it")
    yaml_text = "\n".join(lines[1:end])
    meta = _parse_yaml(yaml_text, first_line=2)
    body = "\n".join(lines[end + 1 :])
    return Document(meta=meta, body=body, body_line=end + 2, meta_line=1)


# libyaml's composer builds the same nodes (with the same line marks) about 8x faster than the
# pure-Python one: 0.4 s of a 1,000-update build. Its error messages are worded differently, so
# invalid YAML is parsed again by the pure-Python composer, whose messages are the ones reported.
_C_LOADER = getattr(yaml, "CBaseLoader", None)


def _compose(yaml_text: str) -> yaml.Node | None:
    if _C_LOADER is not None:
        try:
            return yaml.compose(yaml_text, Loader=_C_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.compose(yaml_text, Loader=yaml.BaseLoader)


def _parse_yaml(yaml_text: str, first_line: int) -> dict[str, Field]:
    offset = first_line - 1
    try:
        node = _compose(yaml_text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + offset) if mark else first_line
        problem = exc.problem or str(exc)
        if exc.context:
            problem = f"{exc.context}, {problem}"
        raise FrontMatterError(line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise FrontMatterError(first_line, f"invalid YAML: {exc}") from None
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise FrontMatterError(node.start_mark.line + 1 + offset, "front matter must be 'key: value' lines")
    converted = _convert(node, offset)
    assert isinstance(converted.value, dict)
    return converted.value


def _convert(node: yaml.Node, offset: int) -> Field:
    line = node.start_mark.line + 1 + offset
    if isinstance(node, yaml.ScalarNode):
        return Field(node.value, line)
    if isinstance(node, yaml.SequenceNode):
        return Field([_convert(item, offset) for item in node.value], line)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Field] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1 + offset
            if not isinstance(key_node, yaml.ScalarNode):
                raise FrontMatterError(key_line, "keys must be plain words")
            if key_node.value in result:
                raise FrontMatterError(key_line, f"key '{key_node.value}' is given twice")
            result[key_node.value] = Field(_convert(value_node, offset).value, key_line)
        return Field(result, line)
    raise FrontMatterError(line, "unsupported YAML node")  # pragma: no cover - aliases resolve
