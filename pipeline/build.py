"""The site build: content in, every output file out, then one atomic publish.

``build_files`` is the pure part (content folder → ``{path: bytes}``); ``run_build`` is the job the
CLI and the scheduler share. Each output kind is one builder with the same signature, listed in
``BUILDERS``; their outputs must not overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline import feeds, pages, snippets, websub
from pipeline.content import ContentSet, Renderer, Update, read_content
from pipeline.publish import PublishReport, publish
from pipeline.render_cache import cached_renderer
from pipeline.settings import Settings
from pipeline.web import form_snippet

Builder = Callable[[Sequence[Update], Settings], dict[str, bytes]]

BUILDERS: list[Builder] = [
    pages.build,
    snippets.build,
    feeds.build,
    form_snippet.build,
]

# Paths another job publishes into the same folder; a site build carries them over untouched.
NEWSLETTER_PREFIX = "newsletters/"


class BuildError(Exception):
    pass


@dataclass
class BuildResult:
    content: ContentSet
    files: dict[str, bytes]


@dataclass
class BuildOutcome:
    result: BuildResult
    report: PublishReport


def build_files(
    content_dir: str | Path, settings: Settings, now: datetime, renderer: Renderer | None = None
) -> BuildResult:
    """Everything a build publishes, in memory; raises ContentError on bad content.

    Markdown goes through the persistent render cache (``pipeline.render_cache``) unless another
    ``renderer`` is given (``build --no-cache`` passes one that renders everything afresh).
    """
    if renderer is None:
        renderer = cached_renderer(settings)
    content = read_content(content_dir, settings, now, renderer=renderer)
    files: dict[str, bytes] = {}
    owner: dict[str, str] = {}

    def add(name: str, produced: dict[str, bytes]) -> None:
        for path, data in produced.items():
            if path in files:
                raise BuildError(f"two outputs want the same path {path!r}: {owner[path]} and {name}")
            if path.startswith(NEWSLETTER_PREFIX) and name != "newsletter":
                raise BuildError(f"{name} must not write under {NEWSLETTER_PREFIX}: {path!r}")
            files[path] = data
            owner[path] = name

    for builder in BUILDERS:
        add(builder.__module__, builder(content.updates, settings))
    add("content assets", {rel: path.read_bytes() for rel, path in content.assets.items()})
    return BuildResult(content=content, files=files)


def run_build(
    content_dir: str | Path,
    out_dir: str | Path,
    settings: Settings,
    now: datetime,
    renderer: Renderer | None = None,
) -> BuildOutcome:
    """Build and publish; on any error the previous output folder is left exactly as it was."""
    result = build_files(content_dir, settings, now, renderer=renderer)
    report = publish(out_dir, result.files, preserve=lambda rel: rel.startswith(NEWSLETTER_PREFIX))
    websub.record_build(report, settings)  # remember changed feeds for the next WebSub ping
    return BuildOutcome(result=result, report=report)
