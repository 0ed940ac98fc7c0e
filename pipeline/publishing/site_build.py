"""The site build: content in, every output file out, then one atomic publish.

``build_files`` is the pure part (content folder → ``{path: bytes | Deferred}``); ``run_build`` is
the job the CLI and the scheduler share. Each output kind is one builder with the same
signature, listed in :func:`builders`; their outputs must not overlap.

Builds are incremental without ever being allowed to differ from a cold build:

* the content cache (:mod:`pipeline.caching.content_cache`) skips parsing and rendering files whose
  bytes, settings and code are unchanged;
* builders return :class:`~pipeline.caching.deferred.Deferred` outputs keyed by a digest of their inputs,
  and publishing makes only those whose key changed;
* when nothing the build reads has changed since the last build (the content folder's file
  stats, settings, code and templates, and no scheduled update has come due) and the output
  folder is as that build left it, the build is skipped altogether.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from pipeline import forkpool
from pipeline.caching.deferred import Deferred, Output
from pipeline.caching.fingerprint import digest, quick_digest
from pipeline.config.site import Settings
from pipeline.outputs import urls
from pipeline.publishing.journal import interrupted
from pipeline.publishing.manifest import Manifest, manifest_intact, read_manifest
from pipeline.publishing.publish import PublishReport, publish
from pipeline.reading.files import Found, UnsafeFile, discover, read_beneath, version
from pipeline.reading.model import ContentSet, Renderer, Update

Builder = Callable[[Sequence[Update], Settings], Mapping[str, Output]]


@cache
def builders() -> tuple[Builder, ...]:
    """The output builders, in order. Their modules (Jinja, the templates, the feeds: ≈ 0.1 s to
    import) are imported by the first build that makes outputs, not by one skipped because
    nothing changed."""
    from pipeline.outputs import feeds, pages, signup_form, snippets

    return (pages.build, snippets.build, feeds.build, signup_form.describe)


# Paths another job publishes into the same folder; a site build carries them over untouched.
NEWSLETTER_PREFIX = urls.NEWSLETTERS


class BuildError(Exception):
    pass


@dataclass
class BuildResult:
    content: ContentSet
    files: dict[str, Output]


@dataclass
class BuildSummary:
    """What a build published, also for a build skipped because nothing changed."""

    updates: int
    drafts: int
    scheduled: list[tuple[str, str]]  # (RFC 3339 date, source) of updates not yet due, soonest first
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, content: ContentSet) -> BuildSummary:
        return cls(
            updates=len(content.updates),
            drafts=content.drafts,
            scheduled=[(when.isoformat(), source) for when, source in content.scheduled],
            warnings=[str(w) for w in content.warnings],
        )


@dataclass
class SiteBuildOutcome:
    """What run_build did: the summary, the publish report, and whether it was skipped."""

    summary: BuildSummary
    report: PublishReport
    skipped: bool = False  # nothing had changed: the output folder was left as it was
    result: BuildResult | None = None  # None when skipped


def build_files(
    content_dir: str | Path,
    settings: Settings,
    now: datetime,
    renderer: Renderer | None = None,
    use_cache: bool = True,
    found: Found | None = None,
) -> BuildResult:
    """Everything a build publishes, described in memory; raises ContentError on bad content.

    Markdown goes through the persistent render cache and whole files through the content cache
    unless ``use_cache`` is off (``build --no-cache``). ``found``: the content folder's walk,
    when the caller made it already.
    """
    from pipeline.caching.content_cache import read_cached  # not needed by a skipped build

    forkpool.meanwhile("import the builders", builders)  # while the files are read
    # The content cache is written while pages and feeds are made; run_build joins the writer.
    content = read_cached(content_dir, settings, now, renderer=renderer, use_cache=use_cache, found=found)
    files: dict[str, Output] = {}
    owner: dict[str, str] = {}

    def add(name: str, produced: Mapping[str, Output]) -> None:
        for path, data in produced.items():
            if path in files:
                raise BuildError(f"two outputs want the same path {path!r}: {owner[path]} and {name}")
            if path.startswith(NEWSLETTER_PREFIX) and name != "newsletter":
                raise BuildError(f"{name} must not write under {NEWSLETTER_PREFIX}: {path!r}")
            files[path] = data
            owner[path] = name

    for builder in builders():
        add(builder.__module__, builder(content.updates, settings))
    root = Path(content_dir)
    add("content assets", {rel: _asset(root, rel, path) for rel, path in content.assets.items()})
    return BuildResult(content=content, files=files)


def _asset(root: Path, rel: str, path: Path) -> Deferred:
    """A file copied from the content folder, remade only when its size or mtime changes.

    Read without following links (:func:`pipeline.reading.files.read_beneath`): a file swapped
    for a link since the content was checked fails the build instead of being published.
    """
    st = os.lstat(path)

    def produce() -> bytes:
        try:
            return read_beneath(root, rel)
        except UnsafeFile as exc:
            raise BuildError(f"{rel}:0: error: {rel} {exc.reason}") from None
        except OSError as exc:
            raise BuildError(f"{rel}:0: error: cannot read {rel}: {exc.strerror}") from None

    return Deferred(digest("asset", str(path), st.st_size, st.st_mtime_ns, st.st_ino), produce)


def run_build(
    content_dir: str | Path,
    out_dir: str | Path,
    settings: Settings,
    now: datetime,
    renderer: Renderer | None = None,
    use_cache: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> SiteBuildOutcome:
    """Build and publish; on any error the previous output folder is left exactly as it was.

    ``progress(done, total)`` follows the files being made and written.
    """
    out = Path(out_dir).absolute()
    _refuse_overlap(out, content_dir, settings)
    manifest_path = Path(settings.state_dir) / "outputs" / f"{digest(str(out))}.json"
    found = _walk(content_dir) if use_cache else None  # one walk for the digest and the reading
    inputs = input_digest(content_dir, settings, found) if use_cache else None
    manifest: Manifest | None = None
    if inputs is not None:
        manifest = read_manifest(manifest_path)
        skipped = _skip_if_unchanged(manifest, out, inputs, now)
        if skipped is not None:
            return skipped
    try:
        with collector_paused():
            result = build_files(
                content_dir, settings, now, renderer=renderer, use_cache=use_cache, found=found
            )
            summary = BuildSummary.of(result.content)
            stamp = _stamp(inputs, result.content, summary) if inputs is not None else {}
            report = publish(
                out,
                result.files,
                preserve=lambda rel: rel.startswith(NEWSLETTER_PREFIX),
                stamp=stamp,
                manifest_path=manifest_path,
                reuse=use_cache,
                progress=progress,
                read_before=manifest,
            )
    finally:
        forkpool.join_background()  # the caches are on disk before the build says it is done
    from pipeline.publishing.effects import run_after_publish  # not needed by a skipped build

    run_after_publish(report, settings)  # effects.AFTER_PUBLISH: WebSub's pending list, …
    return SiteBuildOutcome(summary=summary, report=report, result=result)


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for one build in a single-threaded process (a command).

    A build's objects (sources, updates, outputs, caches) live until it ends and hold almost no
    cycles: at 10,000 updates the main process ran four full collections that freed nothing and
    cost 0.3 s, some of it while the other core waited (three alternating pairs, wall 7.43 →
    7.21 s, peak RSS unchanged). Forked workers inherit the setting. Where jobs run in threads
    (the scheduler, the preview server) the collector is the whole process's, so it keeps
    running; reference counting frees everything that is not in a cycle either way.
    """
    pause = gc.isenabled() and threading.active_count() == 1
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause:
            gc.enable()


def _refuse_overlap(out: Path, content_dir: str | Path, settings: Settings) -> None:
    """OUT must not be inside the content or the state folder, nor hold either: an output folder
    under content/media was published again as media by every later build (the site grew by a
    copy of itself each time), and one in the state folder mixes public files with private state."""
    real_out = out.resolve()
    for name, folder in (("the content folder", content_dir), ("the state folder", settings.state_dir)):
        real = Path(folder).absolute().resolve()
        if real_out.is_relative_to(real) or real.is_relative_to(real_out):
            where = "inside" if real_out.is_relative_to(real) else "around"
            raise BuildError(f"--out {out} is {where} {name} {real}: choose a folder outside it")


def _walk(content_dir: str | Path) -> Found | None:
    root = Path(content_dir)
    return discover(root) if root.is_dir() else None  # a missing folder: reading says so


def input_digest(content_dir: str | Path, settings: Settings, found: Found | None = None) -> str:
    """Everything a build reads besides the clock: code, templates, settings, the content files.

    Content files are taken by their stats (path, mode, size, mtime, ctime, inode), not their
    bytes: 10,000 stats cost milliseconds. Any write changes a file's ctime, even one that keeps
    its size and sets its mtime back (an editor, ``rsync -t``, ``touch -r``); without the ctime
    such a rewrite skipped the build and left every output as it was. The files are
    those the build reads (:func:`pipeline.reading.files.discover`: names starting with ``.``
    or ``_`` are skipped by both), and what it refuses, with the reason.
    """
    root = str(Path(content_dir).absolute())
    if found is None:
        found = _walk(content_dir)
    stats = ""
    refused: list[tuple[str, str]] = []
    if found is not None:
        entries = [*found.markdown, *((rel, st) for rel, (_path, st) in found.assets.items())]
        entries.sort(key=lambda item: item[0])
        # One NUL-joined text (a path cannot hold NUL, numbers do not): the repr of 10,000
        # tuples that digest() hashed cost three times as much.
        stats = quick_digest(*(f"{rel}\0{version(st)}" for rel, st in entries))
        refused = [(r.rel, r.reason) for r in found.refused]
    return digest(settings.context_digest, root, stats, refused)


def _stamp(inputs: str, content: ContentSet, summary: BuildSummary) -> dict[str, Any]:
    """The build's record: its inputs and the window of time in which it publishes the same set."""
    newest = max((u.date for u in content.updates), default=None)
    return {
        "inputs": inputs,
        "valid_from": newest.isoformat() if newest else None,
        "valid_until": content.scheduled[0][0].isoformat() if content.scheduled else None,
        "summary": {
            "updates": summary.updates,
            "drafts": summary.drafts,
            "scheduled": summary.scheduled,
            "warnings": summary.warnings,
        },
    }


def _skip_if_unchanged(
    manifest: Manifest | None, out: Path, inputs: str, now: datetime
) -> SiteBuildOutcome | None:
    """The skipped build's outcome when nothing it reads changed, else None (build).

    ``manifest``: the output folder's manifest as read before the build (None: there is none);
    publishing gets the same one, so it is parsed once.
    """
    if interrupted(out):
        return None  # the last publish was killed half-way: publishing again completes it
    stamp = manifest.stamp if manifest is not None else None
    if not stamp or stamp.get("inputs") != inputs:
        return None
    valid_from, valid_until = stamp.get("valid_from"), stamp.get("valid_until")
    if valid_from is not None and now < datetime.fromisoformat(valid_from):
        return None  # an update published last time would not be published now
    if valid_until is not None and now >= datetime.fromisoformat(valid_until):
        return None  # a scheduled update has come due
    if not out.is_dir() or not manifest_intact(out, manifest):
        return None
    try:
        saved = stamp["summary"]
        summary = BuildSummary(
            updates=int(saved["updates"]),
            drafts=int(saved["drafts"]),
            scheduled=[(str(when), str(source)) for when, source in saved["scheduled"]],
            warnings=[str(w) for w in saved["warnings"]],
        )
    except (KeyError, TypeError, ValueError):
        return None
    report = PublishReport(unchanged=len(manifest.files))
    return SiteBuildOutcome(summary=summary, report=report, skipped=True)
