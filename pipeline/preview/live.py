"""The local preview behind ``python -m pipeline serve``: everything as it will be, on one port.

A production build (``outputs/``) links to the real base URL, so opened locally its stylesheet,
links, forms and mail links all point at the public site. The preview therefore builds its own
copy with the local address as base URL, into ``<state_dir>/preview-site/site/``, never into
``outputs/``; and it has its own state folder (``…/state/``: caches, a newsletter issue store,
subscribers and the outbox), so a sign-up tried in the preview never reaches the real subscriber
list and no mail leaves the machine (the transport is always the outbox).

What it builds: the site build (pages, feeds, snippets) exactly as ``build`` does, then the
newsletter archive with every issue recorded in the preview's own store plus the next issue as
it would be built now (planned, not recorded, so rebuilding never adds issues).

:class:`Watcher` polls ``content/``, ``templates/`` and the settings file and rebuilds on a
change. Pages answered by the preview carry one extra ``<script>`` (added while serving, so the
files on disk stay the same bytes a real build makes) that polls :data:`STAMP_PATH` and reloads
the page after a rebuild; a failed rebuild shows its message in the page and keeps the last good
site.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.config.site import TEMPLATES_DIR, Settings

PREVIEW_DIR = "preview-site"
STAMP_PATH = "/_preview/stamp"
SCRIPT_PATH = "/_preview/reload.js"
SERVICE_PREFIXES = ("/subscribe", "/confirm/", "/unsubscribe/", "/preferences/")
POLL_SECONDS = 0.5

RELOAD_JS = b"""// goal-17 preview: reload this page after a rebuild; show a failed build's message.
(function () {
  "use strict";
  var seen = null;
  function show(message) {
    var box = document.getElementById("goal17-preview-error");
    if (!message) { if (box) { box.remove(); } return; }
    if (!box) {
      box = document.createElement("pre");
      box.id = "goal17-preview-error";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;left:0;right:0;bottom:0;margin:0;padding:1rem;" +
        "max-height:40vh;overflow:auto;white-space:pre-wrap;background:#5c0011;color:#fff;" +
        "font:14px/1.4 monospace;z-index:2147483647";
      document.body.appendChild(box);
    }
    box.textContent = "Preview build failed (the last good build is shown):\\n" + message;
  }
  function poll() {
    fetch("/_preview/stamp", { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (seen !== null && state.stamp !== seen && !state.error) { location.reload(); return; }
        seen = state.stamp;
        show(state.error);
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
"""
SCRIPT_TAG = b'<script src="' + SCRIPT_PATH.encode() + b'" defer></script>'


@dataclass(frozen=True)
class PreviewPaths:
    """Where one preview lives: ``root/site`` is served, ``root/state`` is its own state."""

    root: Path

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def state(self) -> Path:
        return self.root / "state"


def preview_paths(settings: Settings) -> PreviewPaths:
    return PreviewPaths(Path(settings.state_dir).resolve() / PREVIEW_DIR)


def preview_settings(settings: Settings, base_url: str, paths: PreviewPaths) -> Settings:
    """The settings with the local URL everywhere a link is made, and the preview's own state.

    The site's base URL, the service's public URL and the newsletter's unsubscribe and
    preferences pages all become ``base_url``; mail goes to the preview's outbox whatever the
    settings file says.
    """
    sections = {name: dict(table) for name, table in settings.sections.items()}
    sections.setdefault("web", {})["public_url"] = base_url
    sections.setdefault("newsletter", {}).update(
        state_dir=str(paths.state),
        outbox="",
        transport="outbox",
        unsubscribe_url="",
        preferences_url="",
    )
    local = settings.with_overrides(base_url=base_url, state_dir=str(paths.state))
    return dataclasses.replace(local, sections=sections)


@dataclass
class BuildState:
    """What the page script polls: a counter bumped by every good build, and the last failure."""

    stamp: int = 0
    error: str | None = None

    def as_json(self) -> bytes:
        return json.dumps({"stamp": self.stamp, "error": self.error}).encode("utf-8")


class PreviewBuilder:
    """Builds the preview; one build at a time; never raises for a problem the user can fix."""

    def __init__(
        self,
        content_dir: str | Path,
        settings: Callable[[], Settings],
        paths: PreviewPaths,
        now: Callable[[], datetime],
    ):
        """``settings`` is called for every build, so an edited settings file counts at once."""
        self.content_dir = Path(content_dir)
        self.settings = settings
        self.paths = paths
        self.now = now
        self.state = BuildState()
        self._lock = threading.Lock()

    def build(self) -> str | None:
        """Build once; returns None on success, else the one-line (or few-line) reason."""
        with self._lock:
            try:
                self._build()
            except Exception as exc:  # noqa: BLE001 - every failure is shown, the server keeps running
                self.state.error = _describe(exc)
                return self.state.error
            self.state.error = None
            self.state.stamp += 1
            return None

    def _build(self) -> None:
        from pipeline.caching.content_cache import read_cached
        from pipeline.caching.render_cache import cached_renderer
        from pipeline.outputs.newsletter.archive import archive_files, publish_archive
        from pipeline.outputs.templating import environment
        from pipeline.publishing.site_build import run_build
        from pipeline.stores.backend import open_backend

        environment.cache_clear()  # templates are read again: an edited template shows at once
        self.paths.site.mkdir(parents=True, exist_ok=True)
        settings, now = self.settings(), self.now()
        run_build(
            self.content_dir,
            self.paths.site,
            settings,
            now,
            renderer=cached_renderer(settings, use_cache=True),
            use_cache=True,
        )
        config = settings.newsletter
        with open_backend(settings).issues() as store:
            issues = list(store.all())
            upcoming = store.plan(
                read_cached(self.content_dir, settings, now).updates,  # filled by the build
                now,
                first_issue_days=config.first_issue_days,
            )
        if upcoming.items:
            issues.append(upcoming)
        publish_archive(self.paths.site, archive_files(issues, settings, config))


def _describe(exc: BaseException) -> str:
    """A failure as the user should read it: the file:line problems, not a traceback."""
    import jinja2

    from pipeline.config.site import SettingsError
    from pipeline.reading.model import ContentError

    if isinstance(exc, SettingsError):
        return "invalid settings: " + "; ".join(exc.problems)
    if isinstance(exc, ContentError):
        return "\n".join([str(exc), *(str(p) for p in exc.problems)])
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"template error: {exc.filename}:{exc.lineno}: {exc.message}"
    if isinstance(exc, jinja2.TemplateError):
        return f"template error: {exc}"
    return f"{type(exc).__name__}: {exc}"


def snapshot(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    """Every file under ``paths`` with its mtime and size: a change in any of them changes this."""
    seen: list[tuple[str, int, int]] = []
    for base in paths:
        if base.is_file():
            files = [base]
        elif base.is_dir():
            files = [p for p in base.rglob("*") if p.is_file()]
        else:
            continue
        for path in files:
            try:
                stat = path.stat()
            except OSError:  # removed while we looked: the next poll sees the new state
                continue
            seen.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(seen))


def watched_paths(content_dir: str | Path, settings: Settings) -> list[Path]:
    paths = [Path(content_dir), TEMPLATES_DIR]
    if settings.source != "<defaults>":
        paths.append(Path(settings.source))
    return paths


class Watcher(threading.Thread):
    """Polls the watched files and calls ``on_change`` after a change (a polling loop, no inotify)."""

    def __init__(
        self,
        paths: list[Path],
        on_change: Callable[[], None],
        interval: float = POLL_SECONDS,
    ):
        super().__init__(name="preview-watcher", daemon=True)
        self.paths = paths
        self.on_change = on_change
        self.interval = interval
        self.stopped = threading.Event()
        self.last = snapshot(paths)

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            current = snapshot(self.paths)
            if current != self.last:
                self.last = current
                self.on_change()

    def stop(self) -> None:
        self.stopped.set()


class PreviewApp:
    """ASGI wrapper: the stamp and the reload script, and the script tag added to built pages."""

    def __init__(self, app: Any, state: BuildState):
        self.app = app
        self.state = state

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == STAMP_PATH:
            await _respond(send, self.state.as_json(), "application/json")
            return
        if path == SCRIPT_PATH:
            await _respond(send, RELOAD_JS, "application/javascript; charset=utf-8")
            return
        if path.startswith(SERVICE_PREFIXES):  # the service's pages forbid scripts (CSP): leave them
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _Injector(send))


class _Injector:
    """Adds the reload script to an HTML response (the static files send one body message)."""

    def __init__(self, send: Callable):
        self.send = send
        self.start: dict | None = None

    async def __call__(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            if headers.get(b"content-type", b"").startswith(b"text/html"):
                self.start = message
                return
            await self.send(message)
            return
        if self.start is not None and message["type"] == "http.response.body":
            body = message.get("body", b"")
            headers = self.start.get("headers", [])
            if not message.get("more_body") and b"</body>" in body:  # a HEAD answer has no body
                body = body.replace(b"</body>", SCRIPT_TAG + b"\n</body>", 1)
                headers = [
                    (name, str(len(body)).encode() if name == b"content-length" else value)
                    for name, value in headers
                ]
            await self.send({**self.start, "headers": headers})
            self.start = None
            await self.send({**message, "body": body})
            return
        await self.send(message)


async def _respond(send: Callable, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
