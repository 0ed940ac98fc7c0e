"""The cyclic garbage collector is paused for a build in a command, and only there.

A command's build pauses it (its objects live until it ends; full collections found nothing);
the scheduler and the preview server run builds in threads, where the collector is shared by
every thread, so it keeps running there. Either way it is as it was once the build has ended,
also when the build fails.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from pipeline.publishing.site_build import run_build
from pipeline.reading.content import render_all
from pipeline.reading.model import ContentError
from tests.conftest import NOW


class Spy:
    """A renderer that notes whether the collector was running when the build rendered."""

    def __init__(self) -> None:
        self.seen: list[bool] = []

    def __call__(self, bodies, then=None, settle=None):
        self.seen.append(gc.isenabled())
        return render_all(bodies, then)


@pytest.fixture
def collecting() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_a_commands_build_runs_without_the_collector_and_gives_it_back(
    tmp_path, content_dir, write_update, settings, collecting
) -> None:
    write_update("ett", date="2026-11-20T09:00")
    spy = Spy()
    run_build(content_dir, tmp_path / "out", settings, NOW, renderer=spy, use_cache=False)
    assert spy.seen == [False]
    assert gc.isenabled()


def test_a_failed_build_gives_the_collector_back(
    tmp_path, content_dir, write_update, settings, collecting
) -> None:
    (content_dir / "trasig.md").write_text("---\ntitle: [\n---\nText\n", encoding="utf-8")
    with pytest.raises(ContentError):
        run_build(content_dir, tmp_path / "out", settings, NOW, use_cache=False)
    assert gc.isenabled()


def test_a_build_beside_other_threads_leaves_the_collector_running(
    tmp_path, content_dir, write_update, settings, collecting
) -> None:
    write_update("ett", date="2026-11-20T09:00")
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        spy = Spy()
        run_build(content_dir, tmp_path / "out", settings, NOW, renderer=spy, use_cache=False)
    finally:
        release.set()
        other.join()
    assert spy.seen == [True]
    assert gc.isenabled()


def test_a_build_with_the_collector_off_leaves_it_off(
    tmp_path, content_dir, write_update, settings, collecting
) -> None:
    write_update("ett", date="2026-11-20T09:00")
    gc.disable()
    run_build(content_dir, tmp_path / "out", settings, NOW, use_cache=False)
    assert not gc.isenabled()
    gc.enable()
