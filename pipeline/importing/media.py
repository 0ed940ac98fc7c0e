"""``--download-images``: copies of the old site's images in ``content/media/``.

Only http(s) URLs, each within a size limit and a time limit, and only raster formats a browser
shows (PNG, JPEG, GIF, WebP, AVIF): an SVG can carry script, and assets are published as they
are. An image that cannot be fetched keeps its absolute URL and is reported.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from pipeline.importing.existing import Existing
from pipeline.importing.model import ImportFailed
from pipeline.importing.source import fetch
from pipeline.reading.slugs import slugify

MEDIA_DIR = "media"
TYPES = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/avif": ".avif",
}


@dataclass
class Downloads:
    paths: dict[str, str] = field(default_factory=dict)  # URL -> content-relative path
    files: dict[str, bytes] = field(default_factory=dict)  # content-relative path -> bytes
    failed: dict[str, str] = field(default_factory=dict)  # URL -> why


def download_images(
    urls: Iterable[str],
    existing: Existing,
    timeout: float,
    max_bytes: int,
    progress: Callable[[int, int], None] | None = None,
    fetcher: Callable[[str, float, int], object] = fetch,
) -> Downloads:
    result = Downloads()
    todo = list(dict.fromkeys(urls))
    by_content: dict[bytes, str] = {}
    for done, url in enumerate(todo, start=1):
        if urlsplit(url).scheme not in ("http", "https"):
            result.failed[url] = "not an http(s) URL"
        else:
            try:
                fetched = fetcher(url, timeout, max_bytes)
            except ImportFailed as exc:
                result.failed[url] = str(exc).removeprefix(f"{url}: ")
            else:
                extension = TYPES.get(fetched.content_type)
                if extension is None:
                    result.failed[url] = (
                        f"not a PNG, JPEG, GIF, WebP or AVIF image ({fetched.content_type or 'no type'})"
                    )
                elif fetched.data in by_content:
                    result.paths[url] = by_content[fetched.data]
                else:
                    rel = _name(url, extension, existing, result.files)
                    result.files[rel] = fetched.data
                    result.paths[url] = by_content[fetched.data] = rel
        if progress is not None:
            progress(done, len(todo))
    return result


def _name(url: str, extension: str, existing: Existing, planned: dict[str, bytes]) -> str:
    stem = slugify(posixpath.splitext(posixpath.basename(unquote(urlsplit(url).path)))[0])[:60] or "bild"
    candidate, number = f"{MEDIA_DIR}/{stem}{extension}", 1
    while existing.taken(candidate) or candidate in planned:
        number += 1
        candidate = f"{MEDIA_DIR}/{stem}-{number}{extension}"
    return candidate
