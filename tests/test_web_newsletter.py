"""The service and the newsletter together: links from a really sent issue work, and ``send`` skips
whoever unsubscribed with them. Real SMTP (aiosmtpd), real HTTP (uvicorn + httpx)."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

from lxml import html as lxml_html

from pipeline.cli import main
from pipeline.delivery.send_run import send_issue
from pipeline.publishing.issue_build import build_issue
from tests.conftest import NOW
from tests.web_helpers import SECRET, Service, links, running_service

READERS = ("header@example.se", "body@example.se", "stays@example.se")


def subscribe_and_confirm(service: Service, address: str) -> None:
    assert service.sign_up(address).status_code == 202
    (link,) = links(service.mailbox.to(address)[0], "confirm")
    assert service.client.post(service.path(link)).status_code == 200


def issue_messages(service: Service, number: int) -> dict[str, object]:
    """The messages of issue ``number`` that the SMTP server received, by recipient."""
    found = {}
    for rcpts, data in service.mailbox.messages:
        message = message_from_bytes(data, policy=default_policy)
        if message["Message-ID"].startswith(f"<goal17.{number}."):
            (rcpt,) = rcpts
            found[rcpt] = message
    return found


def test_links_from_a_sent_issue_unsubscribe_and_send_skips_them(
    tmp_path, write_update, content_dir, monkeypatch
):
    monkeypatch.setenv("GOAL17_SECRET", SECRET)
    with running_service(tmp_path) as service:
        for address in READERS:
            subscribe_and_confirm(service, address)
        write_update("ett", date="2026-11-20T09:00", targets=["17.9"])
        build_issue(content_dir, tmp_path / "out", service.settings, NOW)
        summary = send_issue(service.settings, now=NOW)
        assert summary.sent == 3
        sent = issue_messages(service, 1)
        assert set(sent) == set(READERS)

        # 1. A mailbox provider's one-click unsubscribe, exactly from the headers (RFC 8058).
        message = sent["header@example.se"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        https_url = re.search(r"<(https?://[^>]+)>", message["List-Unsubscribe"]).group(1)
        assert service.client.get(service.path(https_url)).status_code == 200  # a scanner's GET
        assert service.subscriber("header@example.se").status == "active"
        response = service.client.post(
            service.path(https_url),
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200 and "location" not in response.headers
        assert service.subscriber("header@example.se").status == "unsubscribed"

        # 2. A person clicking the link in the body (text and HTML parts carry the same link).
        message = sent["body@example.se"]
        (text_link,) = links(message, "unsubscribe")
        html_part = message.get_body(("html",)).get_content()
        html_links = [a for a in lxml_html.fromstring(html_part).xpath("//a/@href") if "/unsubscribe/" in a]
        assert html_links and set(html_links) == {text_link}
        page = service.client.get(service.path(text_link))
        assert page.status_code == 200 and service.subscriber("body@example.se").status == "active"
        form = lxml_html.fromstring(page.text).xpath("//form[@method='post']")[0]
        fields = {i.get("name"): i.get("value") for i in form.xpath(".//input")}
        assert service.client.post(service.path(form.get("action")), data=fields).status_code == 200
        assert service.subscriber("body@example.se").status == "unsubscribed"
        (preferences,) = links(sent["stays@example.se"], "preferences")
        assert service.client.get(service.path(preferences)).status_code == 200

        # 3. The next issue goes only to who is still subscribed.
        write_update("tva", date="2026-11-28T09:00", targets=["17.17"])
        later = NOW + timedelta(days=2)
        build_issue(content_dir, tmp_path / "out", service.settings, later)
        assert main(["send", "--config", str(service.config_path), "--now", later.isoformat()]) == 0
        assert set(issue_messages(service, 2)) == {"stays@example.se"}


def test_sign_up_mail_goes_to_the_outbox_by_default(tmp_path):
    with running_service(tmp_path, mail=False) as service:
        assert service.sign_up("outbox@example.se").status_code == 202
        folder = service.settings.state_dir / "outbox" / "web"
        for _ in range(100):
            files = list(folder.glob("*.eml")) if folder.exists() else []
            if files:
                break
            service.mailbox.settle(0.05)
        (path,) = files
        message = message_from_bytes(path.read_bytes(), policy=default_policy)
        assert message["To"] == "outbox@example.se"
        (link,) = links(message, "confirm")
        assert service.client.post(service.path(link)).status_code == 200
        assert service.subscriber("outbox@example.se").status == "active"
        assert service.mailbox.messages == []  # nothing went to SMTP
