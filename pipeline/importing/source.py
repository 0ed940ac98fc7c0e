"""Reading the input: a file, or an http(s) URL with a time limit and a size limit.

Only http and https are fetched, redirects included (no ``file:``, no ``ftp:``), so a feed URL
given to the importer can never make it read a local file. Every failure is one line.
"""

from __future__ import annotations

import http.client
import os
import stat
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline import __version__
from pipeline.importing.model import ImportFailed

USER_AGENT = f"goal17-import/{__version__}"


@dataclass(frozen=True)
class Fetched:
    data: bytes
    content_type: str  # "" for files


def is_url(spec: str) -> bool:
    return urlsplit(spec).scheme.lower() in ("http", "https")


def _opener() -> urllib.request.OpenerDirector:
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def read_input(spec: str, timeout: float, max_bytes: int) -> Fetched:
    """The bytes of the file or URL ``spec``."""
    if is_url(spec):
        return fetch(spec, timeout, max_bytes)
    if "://" in spec:
        raise ImportFailed(f"{spec}: only http(s) URLs and files can be imported")
    path = Path(spec)
    try:
        if stat.S_ISDIR(path.stat().st_mode):
            raise IsADirectoryError(spec)
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):  # /dev/zero, a pipe: st_size says nothing, reads never end
                raise ImportFailed(f"{spec}: not a regular file; save the feed or export to a file first")
            if info.st_size > max_bytes:
                raise ImportFailed(
                    f"{spec}: {info.st_size} bytes is more than the limit of {max_bytes} (--max-bytes)"
                )
            data = file.read(max_bytes + 1)  # the file may have grown since the fstat
        if len(data) > max_bytes:
            raise ImportFailed(f"{spec}: more than the limit of {max_bytes} bytes (--max-bytes)")
        return Fetched(data, "")
    except FileNotFoundError:
        raise ImportFailed(f"{spec}: file not found") from None
    except IsADirectoryError:
        raise ImportFailed(f"{spec}: is a folder, expected a feed or export file") from None
    except OSError as exc:
        raise ImportFailed(f"{spec}: cannot read: {exc.strerror or exc}") from None


def fetch(url: str, timeout: float, max_bytes: int) -> Fetched:
    """GET ``url``; refuses bodies over ``max_bytes`` without reading the rest."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
    try:
        with _opener().open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise ImportFailed(f"{url}: {length} bytes is more than the limit of {max_bytes}")
            data = response.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise ImportFailed(f"{url}: more than the limit of {max_bytes} bytes")
            return Fetched(data, response.headers.get_content_type() if response.headers else "")
    except urllib.error.HTTPError as exc:
        raise ImportFailed(f"{url}: the server answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise ImportFailed(f"{url}: no answer within {timeout:g} s (--timeout)") from None
        if isinstance(reason, str) and reason.startswith("unknown url type"):
            raise ImportFailed(f"{url}: redirected to an address that is not http(s)") from None
        text = getattr(reason, "strerror", None) or str(reason)
        raise ImportFailed(f"{url}: cannot reach the server: {text}") from None
    except TimeoutError:
        raise ImportFailed(f"{url}: no answer within {timeout:g} s (--timeout)") from None
    except (OSError, ValueError, http.client.HTTPException) as exc:  # reset, cut short, invalid URL …
        raise ImportFailed(f"{url}: download failed: {type(exc).__name__}: {exc}") from None
