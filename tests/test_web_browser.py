"""The partner sign-up form in a real headless Chromium, served from another origin than the service."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pipeline.outputs import signup_form
from tests.browser_helpers import launched_chromium, require_chromium
from tests.web_helpers import Service, links, running_service

require_chromium()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def partner(tmp_path) -> Iterator[tuple[Path, str]]:
    folder = tmp_path / "partner"
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium for the file: each ``new_page`` is a new browser context (no shared cookies)."""
    with launched_chromium() as chromium:
        yield chromium


def test_sign_up_from_a_partner_page_with_and_without_scripts(tmp_path, partner, browser):
    folder, origin = partner
    with running_service(tmp_path / "service", allowed_origins=[origin]) as service:
        (folder / "index.html").write_bytes(signup_form.render(service.settings, "en"))

        page = browser.new_page()
        page.goto(f"{origin}/index.html?campaign=x")
        page.fill("input[name=email]", "browser@example.se")
        page.click("#g17-group-capacity-building")  # 17.9's group: one of seven <details>
        page.check("input[name=targets][value='17.9']")
        page.click("button[type=submit]")
        result = page.locator(".g17-subscribe-result")
        result.wait_for(state="visible")
        page.wait_for_function("document.querySelector('.g17-subscribe-result').textContent.length > 0")
        assert "If the address can receive email" in result.text_content()
        assert page.url == f"{origin}/index.html?campaign=x"  # answered in place
        subscriber = service.subscriber("browser@example.se")
        assert subscriber.status == "pending" and subscriber.targets == ("17.9",) and subscriber.lang == "en"
        assert subscriber.consent_page == f"{origin}/index.html"

        confirm(service, browser, "browser@example.se")

        no_script = browser.new_context(java_script_enabled=False).new_page()
        no_script.goto(f"{origin}/index.html")
        no_script.fill("input[name=email]", "plain@example.se")
        no_script.click("button[type=submit]")
        no_script.wait_for_url(f"{service.url}subscribe")
        assert "Check your email" in no_script.content()
        assert service.subscriber("plain@example.se").status == "pending"


def confirm(service: Service, browser: Any, address: str) -> None:
    (link,) = links(service.mailbox.to(address)[0], "confirm")
    page = browser.new_page()
    page.goto(link)
    assert service.subscriber(address).status == "pending"  # opening the link changes nothing
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "confirmed" in page.content()
    assert service.subscriber(address).status == "active"


def test_a_page_on_an_origin_not_allowed_cannot_sign_anyone_up(tmp_path, partner, browser):
    folder, origin = partner
    with running_service(tmp_path / "service", allowed_origins=["https://only.partner.example"]) as service:
        (folder / "index.html").write_bytes(signup_form.render(service.settings, "sv"))
        page = browser.new_page()
        page.goto(f"{origin}/index.html")
        page.fill("input[name=email]", "elsewhere@example.se")
        page.click("button[type=submit]")
        page.wait_for_url(f"{service.url}subscribe")  # fetch refused by CORS; the plain post is refused too
        assert service.subscriber("elsewhere@example.se") is None
        assert service.mailbox.settle() == 0


def test_the_services_own_form_signs_up_in_a_browser(tmp_path, browser):
    # Issue 17: "Origin: null" is refused, so the service's page must make the browser send its
    # real Origin (Referrer-Policy: same-origin; under no-referrer Chromium would send "null").
    with running_service(tmp_path / "service", allowed_origins=["https://only.partner.example"]) as service:
        page = browser.new_page()
        page.goto(f"{service.url}subscribe?lang=en")
        page.fill("input[name=email]", "own-form@example.se")
        with page.expect_navigation():
            page.click("button[type=submit]")
        headers, status = service.extra["requests"].wait("POST", "/subscribe")
        assert (headers.get("origin"), status) == (service.url.rstrip("/"), 202)
        assert "Check your email" in page.content()
        assert service.subscriber("own-form@example.se").status == "pending"


def test_a_sandboxed_iframe_cannot_sign_anyone_up(tmp_path, partner, browser):
    """Issue 17 defect 10: the sandboxed frame's opaque origin arrives as "Origin: null"."""
    folder, origin = partner
    with running_service(tmp_path / "service", allowed_origins=["https://only.partner.example"]) as service:
        frame = (
            f"<form method=post action='{service.url}subscribe'>"
            "<input name=email value='framed@example.se'></form>"
            "<script>document.forms[0].submit()</script>"
        )
        (folder / "index.html").write_text(
            f'<!doctype html><iframe sandbox="allow-forms allow-scripts" srcdoc="{frame}"></iframe>',
            encoding="utf-8",
        )
        page = browser.new_page()
        page.goto(f"{origin}/index.html")
        # Observed at the service: Playwright can miss the response of a frame in another process.
        headers, status = service.extra["requests"].wait("POST", "/subscribe")
        assert (headers.get("origin"), status) == ("null", 403)
        assert service.subscriber("framed@example.se") is None
        assert service.mailbox.settle() == 0
