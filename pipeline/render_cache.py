"""A persistent cache of rendered Markdown, and rendering the misses on both cores.

Python-Markdown is most of a cold build (about 2.8 ms per update here), and almost every update
in a growing archive is unchanged between builds. So each rendered body is stored under
``<state_dir>/cache/markdown-…/`` (never inside outputs/), named by
:func:`pipeline.markdown_render.cache_key` — a hash of the body, the extensions and their
settings and the renderer version — so an edit, a Markdown upgrade or a renderer change can never
be served an old rendering.

An entry is never trusted blindly: it starts with a format header, carries its own key and a
SHA-256 of its payload, and anything that does not check out (truncated write, disk corruption,
hand edits, an entry from another format version) counts as a miss, is re-rendered and rewritten.
Entries are written to a temporary file and renamed into place, so two builds sharing a state
folder never see half an entry.

Misses are rendered in a process pool when there are enough of them to pay for starting it
(workers import Markdown and the results travel back pickled); a handful of misses, the usual
rebuild, are rendered in-process.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import json
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import markdown

from pipeline.markdown_render import RENDERER_VERSION, Rendered, cache_key, render_markdown
from pipeline.settings import Settings

FORMAT = b"goal17-markdown-cache 1\n"
# Folder per renderer generation: a version bump abandons the old folder, which is then removed.
GENERATION = f"markdown-r{RENDERER_VERSION}-md{markdown.__version__}"
CACHE_PREFIX = "markdown-"
POOL_THRESHOLD = 50  # fewer misses than this render faster in-process than a pool starts
WORKERS = 2
CHUNK = 32  # bodies per task: big enough to amortise pickling, small enough to balance cores

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    rejected: int = 0  # entries found but corrupt or stale, re-rendered
    pooled: bool = False
    rejected_paths: list[str] = field(default_factory=list)


def cache_dir(settings: Settings) -> Path:
    """Where rendered Markdown lives for this site: the state folder, outside every output."""
    return Path(settings.state_dir) / "cache" / GENERATION


class CachedRenderer:
    """A ``Renderer`` for :func:`pipeline.content.read_content`: ``list[str] -> list[Rendered]``.

    ``folder=None`` renders everything (still in parallel) without reading or writing a cache,
    for ``build --no-cache``. ``progress(done, total)`` is called as bodies are done.
    """

    def __init__(
        self,
        folder: str | Path | None,
        workers: int = WORKERS,
        pool_threshold: int = POOL_THRESHOLD,
        progress: Progress | None = None,
    ):
        self.folder = Path(folder) if folder is not None else None
        self.workers = workers
        self.pool_threshold = pool_threshold
        self.progress = progress
        self.stats = CacheStats()

    def __call__(self, bodies: list[str]) -> list[Rendered]:
        results: list[Rendered | None] = [None] * len(bodies)
        keys = [cache_key(body) for body in bodies]
        missing: dict[str, list[int]] = {}  # key -> positions (equal bodies are rendered once)
        for index, key in enumerate(keys):
            cached = self._load(key) if self.folder is not None else None
            if cached is not None:
                results[index] = cached
                self.stats.hits += 1
            else:
                missing.setdefault(key, []).append(index)
        done = self.stats.hits
        if self.progress:
            self.progress(done, len(bodies))
        todo = [(key, bodies[positions[0]]) for key, positions in missing.items()]
        self.stats.misses = len(todo)
        for key, rendered in self._render(todo):
            for index in missing[key]:
                results[index] = rendered
            if self.folder is not None:
                self._store(key, rendered)
            done += len(missing[key])
            if self.progress:
                self.progress(done, len(bodies))
        if self.folder is not None:
            _remove_other_generations(self.folder)
        assert all(r is not None for r in results)
        return results  # type: ignore[return-value]

    # -- rendering ---------------------------------------------------------------------------

    def _render(self, todo: list[tuple[str, str]]):
        """Yield ``(key, Rendered)`` for every item, in a pool when that pays off."""
        if self.workers < 2 or len(todo) < self.pool_threshold:
            for key, body in todo:
                yield key, render_markdown(body)
            return
        self.stats.pooled = True
        chunks = [todo[i : i + CHUNK] for i in range(0, len(todo), CHUNK)]
        with concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=_context()) as pool:
            for keys, rendered in zip(
                ([key for key, _ in chunk] for chunk in chunks),
                pool.map(_render_chunk, ([body for _, body in chunk] for chunk in chunks)),
                strict=True,
            ):
                yield from zip(keys, rendered, strict=True)

    # -- storage -----------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / key

    def _load(self, key: str) -> Rendered | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError:
            data = b""
        rendered = decode_entry(key, data)
        if rendered is None:
            self.stats.rejected += 1
            self.stats.rejected_paths.append(str(path))
        return rendered

    def _store(self, key: str, rendered: Rendered) -> None:
        path = self._path(key)
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(encode_entry(key, rendered))
            os.replace(tmp, path)
        except OSError:
            # A cache that cannot be written only costs speed next time; the build goes on.
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def encode_entry(key: str, rendered: Rendered) -> bytes:
    """Header, checksum line, then the JSON payload (which repeats the key it was stored under)."""
    payload = json.dumps(
        {
            "key": key,
            "html": rendered.html,
            "toc_html": rendered.toc_html,
            "headings": rendered.heading_count,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    return FORMAT + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n" + payload


def decode_entry(key: str, data: bytes) -> Rendered | None:
    """The entry's rendering, or None if it is not exactly what :func:`encode_entry` wrote for ``key``."""
    if not data.startswith(FORMAT):
        return None
    rest = data[len(FORMAT) :]
    checksum, newline, payload = rest.partition(b"\n")
    if not newline or hashlib.sha256(payload).hexdigest().encode("ascii") != checksum:
        return None
    try:
        value = json.loads(payload)
        if value["key"] != key:
            return None
        html, toc, headings = value["html"], value["toc_html"], value["headings"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (isinstance(html, str) and isinstance(toc, str) and isinstance(headings, int)):
        return None
    return Rendered(html=html, toc_html=toc, heading_count=headings)


def _render_chunk(bodies: Sequence[str]) -> list[Rendered]:
    return [render_markdown(body) for body in bodies]


def _context():
    # fork starts workers in milliseconds and shares the parent's imported modules; the build
    # starts no threads before rendering, so forking is safe here.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _remove_other_generations(folder: Path) -> None:
    """Drop cache folders of other renderer generations: they can never be hit again."""
    parent = folder.parent
    try:
        siblings = list(parent.iterdir())
    except OSError:
        return
    for sibling in siblings:
        if sibling.name.startswith(CACHE_PREFIX) and sibling.name != folder.name and sibling.is_dir():
            shutil.rmtree(sibling, ignore_errors=True)


def cached_renderer(
    settings: Settings, use_cache: bool = True, progress: Progress | None = None
) -> CachedRenderer:
    """The renderer a site build uses: cached under the state folder unless ``use_cache`` is off."""
    return CachedRenderer(cache_dir(settings) if use_cache else None, progress=progress)
