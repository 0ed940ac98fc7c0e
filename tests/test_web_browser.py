"""The partner sign-up form in a real headless Chromium, served from another origin than the service."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pipeline.web import form_snippet
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


@pytest.fixture
def browser() -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


def test_sign_up_from_a_partner_page_with_and_without_scripts(tmp_path, partner, browser):
    folder, origin = partner
    with running_service(tmp_path / "service", allowed_origins=[origin]) as service:
        (folder / "index.html").write_bytes(form_snippet.render(service.settings, "en"))

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
        (folder / "index.html").write_bytes(form_snippet.render(service.settings, "sv"))
        page = browser.new_page()
        page.goto(f"{origin}/index.html")
        page.fill("input[name=email]", "elsewhere@example.se")
        page.click("button[type=submit]")
        page.wait_for_url(f"{service.url}subscribe")  # fetch refused by CORS; the plain post is refused too
        assert service.subscriber("elsewhere@example.se") is None
        assert service.mailbox.settle() == 0
