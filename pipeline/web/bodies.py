"""Request bodies read defensively: a size limit, three content types, strict UTF-8, always a 4xx.

Browsers post forms (``application/x-www-form-urlencoded`` or ``multipart/form-data``: mailbox
providers use either for the RFC 8058 one-click POST), partner scripts post JSON. Anything else —
an unknown type, a charset other than UTF-8, a compressed body, bytes that are not UTF-8, a
broken multipart boundary, a file upload, a body over the limit — is refused with a specific
4xx (:class:`BodyError`) before any handler sees it, so hostile input can never become a 500.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import python_multipart
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect

MAX_FIELDS = 60
MAX_VALUE_CHARS = 2_000
_CHARSETS = {"utf-8", "utf8", "us-ascii", "ascii"}


class BodyError(Exception):
    """A request body we refuse; ``status`` is the HTTP status to answer with (4xx)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Fields:
    """Decoded fields of a body, each name with all its values in order."""

    values: dict[str, list[str]] = field(default_factory=dict)
    kind: str = "empty"  # "empty", "form", "multipart" or "json"

    def add(self, name: str, value: str) -> None:
        self.values.setdefault(name, []).append(value)

    def first(self, name: str, default: str = "") -> str:
        found = self.values.get(name)
        return found[0] if found else default

    def all(self, name: str) -> list[str]:
        return list(self.values.get(name, []))

    def __contains__(self, name: object) -> bool:
        return name in self.values


async def read_limited(stream: AsyncIterator[bytes], declared_length: str | None, limit: int) -> bytes:
    """The whole body, or :class:`BodyError` 413 as soon as it is known to exceed ``limit``."""
    if declared_length is not None:
        try:
            length = int(declared_length)
        except ValueError:
            raise BodyError(400, "Content-Length is not a number") from None
        if length < 0:
            raise BodyError(400, "Content-Length is negative")
        if length > limit:
            raise BodyError(413, f"request body too large ({length} bytes; the limit is {limit})")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in stream:
            size += len(chunk)
            if size > limit:
                raise BodyError(413, f"request body too large (over {limit} bytes)")
            chunks.append(chunk)
    except ClientDisconnect:
        raise BodyError(400, "the client went away before sending the whole body") from None
    return b"".join(chunks)


def parse_body(body: bytes, content_type: str | None, content_encoding: str | None = None) -> Fields:
    """Decode ``body`` by its content type; raises :class:`BodyError` (400/415) on anything odd."""
    if content_encoding and content_encoding.strip().lower() not in ("", "identity"):
        raise BodyError(
            415, f"Content-Encoding {content_encoding!r} is not accepted; send the body uncompressed"
        )
    if not content_type:
        if body.strip():
            raise BodyError(415, "a request body needs a Content-Type")
        return Fields()
    media, params = _media_type(content_type)
    charset = params.get("charset", "utf-8").strip().lower()
    if charset not in _CHARSETS:
        raise BodyError(415, f"charset {charset!r} is not accepted; send UTF-8")
    if media == "application/x-www-form-urlencoded":
        fields = _parse_urlencoded(body)
    elif media == "multipart/form-data":
        fields = _parse_multipart(body, params.get("boundary", ""))
    elif media == "application/json" or (media.startswith("application/") and media.endswith("+json")):
        fields = _parse_json(body)
    else:
        raise BodyError(415, f"Content-Type {media!r} is not accepted; send a form or JSON")
    for name, values in fields.values.items():
        for value in values:
            _check_text(name, "field name")
            _check_text(value, f"field {name!r}")
    return fields


def _media_type(header: str) -> tuple[str, dict[str, str]]:
    try:
        media, raw = parse_options_header(header.encode("latin-1"))
        params = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw.items()}
        return media.decode("latin-1").lower().strip(), params
    except (UnicodeError, ValueError) as exc:
        raise BodyError(400, f"unreadable Content-Type header: {exc}") from None


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(400, f"{what} is not valid UTF-8") from None


def _check_text(text: str, what: str) -> None:
    if len(text) > MAX_VALUE_CHARS:
        raise BodyError(400, f"{what} is too long (over {MAX_VALUE_CHARS} characters)")
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn") and char not in "\t\r\n":
            raise BodyError(400, f"{what} contains a control or unassigned character (U+{ord(char):04X})")


def _parse_urlencoded(body: bytes) -> Fields:
    text = _decode(body, "form body")
    if any(ord(c) > 127 for c in text):
        raise BodyError(400, "form body must be percent-encoded ASCII")
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise BodyError(400, "form field is not valid UTF-8 once percent-decoded") from None
    except ValueError as exc:  # too many fields
        raise BodyError(400, f"form body refused: {exc}") from None
    fields = Fields(kind="form")
    for name, value in pairs:
        fields.add(name, value)
    return fields


def _parse_multipart(body: bytes, boundary: str) -> Fields:
    if not boundary or len(boundary) > 70:
        raise BodyError(400, "multipart body without a valid boundary")
    fields = Fields(kind="multipart")
    state: dict[str, object] = {"name": None, "data": bytearray(), "header": b"", "value": b"", "file": False}
    parts: list[tuple[str, bytes]] = []

    def on_part_begin() -> None:
        state.update(name=None, data=bytearray(), file=False)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header"] = state["header"] + data[start:end]  # type: ignore[operator]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] = state["value"] + data[start:end]  # type: ignore[operator]

    def on_header_end() -> None:
        if state["header"].lower() == b"content-disposition":  # type: ignore[attr-defined]
            _, options = parse_options_header(state["value"])
            if b"filename" in options:
                state["file"] = True
            if b"name" in options:
                state["name"] = _decode(options[b"name"], "multipart field name")
        state.update(header=b"", value=b"")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        state["data"].extend(data[start:end])  # type: ignore[attr-defined]

    def on_part_end() -> None:
        if state["file"]:
            raise BodyError(400, "file uploads are not accepted")
        if state["name"] is None:
            raise BodyError(400, "multipart part without a name")
        if len(parts) >= MAX_FIELDS:
            raise BodyError(400, f"too many fields (over {MAX_FIELDS})")
        parts.append((state["name"], bytes(state["data"])))  # type: ignore[arg-type]

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    try:
        parser = python_multipart.MultipartParser(boundary.encode("latin-1"), callbacks)
        parser.write(body)
        parser.finalize()
    except BodyError:
        raise
    except Exception as exc:  # the parser's own errors for broken framing
        raise BodyError(400, f"malformed multipart body: {exc.__class__.__name__}") from None
    if body.strip() and not parts:
        raise BodyError(400, "malformed multipart body: no parts found")
    for name, data in parts:
        fields.add(name, _decode(data, f"multipart field {name!r}"))
    return fields


def _parse_json(body: bytes) -> Fields:
    text = _decode(body, "JSON body")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BodyError(400, f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BodyError(400, "JSON body must be an object")
    if len(data) > MAX_FIELDS:
        raise BodyError(400, f"too many fields (over {MAX_FIELDS})")
    fields = Fields(kind="json")
    for name, value in data.items():
        items = value if isinstance(value, list) else [value]
        if len(items) > MAX_FIELDS:
            raise BodyError(400, f"JSON field {name!r} has too many values")
        for item in items:
            if isinstance(item, bool):
                fields.add(name, "true" if item else "")
            elif isinstance(item, str):
                fields.add(name, item)
            elif item is None:
                continue
            else:
                raise BodyError(400, f"JSON field {name!r} must be a string or a list of strings")
    return fields
