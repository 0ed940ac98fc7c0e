"""WebSub publishing: tell the hub which feeds changed, so subscribers get updates in seconds.

The build job calls :func:`record_build` with its publish report; when a hub is configured, the
URLs of the subscription documents it rewrote (``feeds/**/{rss.xml,atom.xml,feed.json}``, not
archive pages) are added to a pending list (``state_dir/websub-pending.json`` with SQLite, a table
with PostgreSQL: :meth:`pipeline.stores.backend.Backend.websub_pending`). :func:`ping`
(``python -m pipeline ping``, or the scheduler's :func:`ping_job`) POSTs
``hub.mode=publish&hub.url=<feed URL>`` to the hub for each pending URL and removes it from the
list once the hub accepted it (any 2xx). Pending URLs accumulate across builds, so a hub that is
down for a while misses nothing: the next successful ping sends everything still pending.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from pipeline import __version__
from pipeline.config.site import Settings
from pipeline.outputs.urls import FEED_FILES, FEEDS
from pipeline.publishing.publish import PublishReport

if TYPE_CHECKING:  # the stores' protocols import the send log and e-mail validation: 0.1 s a build
    import urllib.request

    from pipeline.stores.protocols import WebSubPendingStore

# urllib.request (with http.client and ssl) and the stores' backend are imported where a ping or
# the pending list needs them: every build imports this module (an after-publish effect), and
# without a hub it needs neither (12 ms of a 1 s edit build).

DEFAULT_TIMEOUT = 10.0
USER_AGENT = f"goal17-syndication/{__version__} (WebSub publisher)"


class PingError(Exception):
    """The hub could not be told; the message says which hub, which URL and why."""


@dataclass
class PingResult:
    hub: str
    pinged: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.pinged:
            return f"websub: nothing to ping ({self.hub})"
        return f"websub: {self.hub} notified of {len(self.pinged)} changed feed URL(s)"


def is_topic(path: str) -> bool:
    """A subscription document readers subscribe to (archive pages never change for them)."""
    return (
        path.startswith(FEEDS)
        and not path.startswith(f"{FEEDS}archive/")
        and path.rsplit("/", 1)[-1] in FEED_FILES
    )


def changed_feed_urls(report: PublishReport, settings: Settings) -> list[str]:
    return sorted(settings.url(path) for path in report.written if is_topic(path))


def record_build(report: PublishReport, settings: Settings) -> None:
    """Remember the feeds a build changed, for the next ping; a no-op without a hub.

    An after-publish effect (:mod:`pipeline.publishing.effects`): the build only records, the
    ping job talks to the hub, so a build never waits on it.
    """
    if not settings.websub_hub:
        return
    urls = changed_feed_urls(report, settings)
    if urls:
        with _pending_list(settings) as store:
            store.add(urls)  # tolerant: never fails a build that is already published


def pending(settings: Settings) -> list[str]:
    with _pending_list(settings) as store:
        return store.pending()


def ping(
    settings: Settings,
    hub: str | None = None,
    urls: Iterable[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> PingResult:
    """Notify ``hub`` (default: the configured one) of ``urls`` (default: the pending ones).

    Stops at the first failure with :class:`PingError`; URLs not yet accepted stay pending.
    """
    hub = hub or settings.websub_hub
    if not hub:
        raise PingError(
            "no WebSub hub configured: set websub_hub in the [site] table of site.toml or pass --hub"
        )
    if urlsplit(hub).scheme not in ("http", "https") or not urlsplit(hub).netloc:
        raise PingError(f"WebSub hub must be an http(s) URL, got {hub!r}")
    targets = sorted(set(urls)) if urls is not None else pending(settings)
    result = PingResult(hub=hub)
    opener = _opener(hub)
    try:
        for url in targets:
            _publish(opener, hub, url, timeout)
            result.pinged.append(url)
    finally:
        if result.pinged:
            with _pending_list(settings) as store:
                store.remove(result.pinged)
        result.remaining = pending(settings)
    return result


def ping_job(settings: Settings, options: dict[str, Any]) -> str:
    """Scheduler job: ping the hub about pending feed changes (options: ``hub``, ``timeout``)."""
    unknown = set(options) - {"hub", "timeout"}
    if unknown:
        raise PingError(f"unknown option(s) for the ping job: {', '.join(sorted(unknown))}")
    timeout = float(options.get("timeout", DEFAULT_TIMEOUT))
    return ping(settings, hub=options.get("hub"), timeout=timeout).summary()


def all_feed_urls(out_dir: str | Path, settings: Settings) -> list[str]:
    """Every subscription document in a built output folder (for a first, complete ping)."""
    feeds = Path(out_dir) / "feeds"
    if not feeds.is_dir():
        raise PingError(f"{feeds} not found: build the site first (python -m pipeline build)")
    return sorted(
        settings.url(path.relative_to(out_dir).as_posix())
        for path in feeds.rglob("*")
        if path.is_file() and is_topic(path.relative_to(out_dir).as_posix())
    )


def _publish(opener: urllib.request.OpenerDirector, hub: str, url: str, timeout: float) -> None:
    import urllib.error
    import urllib.request

    body = urlencode({"hub.mode": "publish", "hub.url": url}).encode("ascii")
    request = urllib.request.Request(
        hub,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT},
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read(65536)
            status = response.status
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode("utf-8", "replace").strip()
        raise PingError(
            f"hub {hub} refused hub.url={url}: HTTP {exc.code} {exc.reason}"
            + (f": {detail}" if detail else "")
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            raise PingError(f"hub {hub} did not answer within {timeout:g} s (hub.url={url})") from None
        raise PingError(f"hub {hub} unreachable: {reason} (hub.url={url})") from None
    if not 200 <= status < 300:
        raise PingError(f"hub {hub} answered HTTP {status} for hub.url={url}")


def _opener(hub: str) -> urllib.request.OpenerDirector:
    """Environment proxies apply, except for a hub on this machine."""
    import urllib.request

    host = urlsplit(hub).hostname or ""
    try:
        loopback = host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


@contextmanager
def _pending_list(settings: Settings) -> Iterator[WebSubPendingStore]:
    """The configured backend's pending list; a damaged one is a :class:`PingError`."""
    from pipeline.stores.backend import open_backend
    from pipeline.stores.sqlite.websub_pending import PendingListDamaged

    try:
        with open_backend(settings).websub_pending() as store:
            yield store
    except PendingListDamaged as exc:
        raise PingError(str(exc)) from None
