"""The subscription service over real HTTP (uvicorn on loopback, httpx) with real SMTP (aiosmtpd)."""

from __future__ import annotations

import json

import pytest
from lxml import html as lxml_html

from pipeline.delivery import tokens
from tests.web_helpers import SECRET, Service, links, running_service

PARTNER = "https://www.kommun.example"


@pytest.fixture
def service(tmp_path) -> Service:
    with running_service(tmp_path) as running:
        yield running


def confirm_link(service: Service, address: str, count: int = 1) -> str:
    message = service.mailbox.to(address, count)[count - 1]
    (link,) = links(message, "confirm")
    return service.path(link)


def active(service: Service, address: str) -> str:
    """Sign ``address`` up and confirm it; returns its confirm path."""
    assert service.sign_up(address).status_code == 202
    path = confirm_link(service, address)
    assert service.client.post(path).status_code == 200
    return path


def test_sign_up_mail_confirm_active(service: Service):
    response = service.client.post(
        "/subscribe",
        data={"email": "Anna@Example.se", "language": "en", "targets": ["17.17", "17.9"]},
        headers={"Referer": f"{PARTNER}/agenda2030/nyhetsbrev?utm=x", "Accept-Language": "sv"},
    )
    assert response.status_code == 202
    assert "Check your email" in response.text  # the chosen newsletter language wins over the browser's
    pending = service.subscriber("anna@example.se")
    assert pending.status == "pending" and pending.lang == "en" and pending.targets == ("17.9", "17.17")
    assert pending.consent_source == "form" and pending.consent_page == f"{PARTNER}/agenda2030/nyhetsbrev"

    (message,) = service.mailbox.wait(1)
    assert message["To"] == "Anna@example.se" and message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"].startswith("Confirm your subscription")
    (link,) = links(message, "confirm")
    path = service.path(link)

    page = service.client.get(path)  # a mail scanner or a person opening the link
    assert page.status_code == 200 and service.subscriber("anna@example.se").status == "pending"
    (form,) = lxml_html.fromstring(page.text).xpath("//form")
    assert form.get("method") == "post" and service.path(form.get("action")) == path

    done = service.client.post(path, data={"confirm": "yes"})
    assert done.status_code == 200 and "confirmed" in done.text
    confirmed = service.subscriber("anna@example.se")
    assert confirmed.status == "active" and confirmed.confirmed_at == service.clock.now
    assert service.consent_events("anna@example.se") == ["subscribed", "confirmed"]

    again = service.client.post(path)  # single use
    assert again.status_code == 410 and "already been used" in again.text
    assert service.subscriber("anna@example.se") == confirmed
    assert service.client.get(path).status_code == 410


def test_the_answer_does_not_tell_whether_an_address_is_known(service: Service):
    active(service, "known@example.se")
    known = service.sign_up("known@example.se")
    unknown = service.sign_up("unknown@example.se")
    assert known.status_code == unknown.status_code == 202
    assert known.text == unknown.text
    json_known = service.client.post("/subscribe", json={"email": "known@example.se"})
    json_unknown = service.client.post("/subscribe", json={"email": "new@example.se"})
    assert (
        json_known.status_code == json_unknown.status_code == 202 and json_known.json() == json_unknown.json()
    )
    # The known address gets a note with its preferences link instead of a second confirmation.
    notes = service.mailbox.to("known@example.se", 3)[1:]
    assert notes and all(links(m, "preferences") and not links(m, "confirm") for m in notes)
    assert service.subscriber("known@example.se").status == "active"
    assert service.subscriber("new@example.se").consent_source == "api"


def test_get_on_the_unsubscribe_link_changes_nothing_and_the_one_click_post_unsubscribes(service: Service):
    active(service, "reader@example.se")
    uid = service.subscriber("reader@example.se").uid
    path = f"/unsubscribe/{tokens.unsubscribe_token(SECRET.encode(), uid, 'newsletter.127.0.0.1')}"
    for method in ("GET", "HEAD", "GET"):
        response = service.client.request(method, path)
        assert response.status_code == 200
    assert service.subscriber("reader@example.se").status == "active"
    page = lxml_html.fromstring(service.client.get(path).text)
    (button,) = page.xpath("//form[@method='post']//button")
    hidden = {
        i.get("name"): i.get("value") for i in page.xpath("//form[@method='post']//input[@type='hidden']")
    }
    assert hidden["List-Unsubscribe"] == "One-Click"

    response = service.client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200  # RFC 8058: no redirect, no cookie, no login
    assert "location" not in response.headers and "set-cookie" not in response.headers
    assert "unsubscribed" in response.text.lower() or "prenumererar inte" in response.text
    gone = service.subscriber("reader@example.se")
    assert gone.status == "unsubscribed" and gone.unsubscribed_at == service.clock.now
    service.clock.advance(hours=1)
    assert service.client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # idempotent
    assert service.subscriber("reader@example.se").unsubscribed_at == gone.unsubscribed_at


def test_one_click_as_multipart_and_from_the_page_button(service: Service):
    for address in ("multi@example.se", "button@example.se"):
        active(service, address)
    uid = service.subscriber("multi@example.se").uid
    path = f"/unsubscribe/{tokens.unsubscribe_token(SECRET.encode(), uid, 'newsletter.127.0.0.1')}"
    response = service.client.post(path, files={"List-Unsubscribe": (None, "One-Click")})
    assert response.request.headers["content-type"].startswith("multipart/form-data")
    assert response.status_code == 200 and service.subscriber("multi@example.se").status == "unsubscribed"

    uid = service.subscriber("button@example.se").uid
    path = f"/unsubscribe/{tokens.unsubscribe_token(SECRET.encode(), uid, 'newsletter.127.0.0.1')}"
    page = lxml_html.fromstring(service.client.get(path).text)
    form = page.xpath("//form[@method='post']")[0]
    fields = {i.get("name"): i.get("value") for i in form.xpath(".//input")}
    response = service.client.post(service.path(form.get("action")), data=fields)
    assert response.status_code == 200 and service.subscriber("button@example.se").status == "unsubscribed"
    with service.store() as store:
        records = store.consent_records(uid)
    assert (records[-1].event, records[-1].source) == ("unsubscribed", "form")


@pytest.mark.parametrize(
    "kind", ["forged", "truncated", "other subject", "other purpose", "garbage", "expired"]
)
def test_bad_confirm_links_are_refused_and_change_nothing(service: Service, kind: str):
    assert service.sign_up("p@example.se").status_code == 202
    assert service.sign_up("q@example.se").status_code == 202
    path = confirm_link(service, "p@example.se")
    token = path.rsplit("/", 1)[1]
    other = service.subscriber("q@example.se")
    bad = {
        "forged": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "truncated": token[:-5],
        "other subject": other.uid + token[token.index(".") :],
        "other purpose": tokens.preferences_token(SECRET.encode(), service.subscriber("p@example.se").uid),
        "garbage": "%00%ff..",
        "expired": token,
    }[kind]
    if kind == "expired":
        service.clock.advance(days=7, seconds=1)
    before = (service.subscriber("p@example.se"), service.subscriber("q@example.se"))
    for method in ("GET", "POST"):
        response = service.client.request(method, f"/confirm/{bad}")
        assert response.status_code == (410 if kind == "expired" else 400), (method, response.text)
    assert (service.subscriber("p@example.se"), service.subscriber("q@example.se")) == before
    assert before[0].status == "pending"


def test_a_new_sign_up_makes_old_confirm_links_useless(service: Service):
    assert service.sign_up("cycle@example.se").status_code == 202
    old = confirm_link(service, "cycle@example.se")
    assert service.client.post(old).status_code == 200
    uid = service.subscriber("cycle@example.se").uid
    unsubscribe = f"/unsubscribe/{tokens.unsubscribe_token(SECRET.encode(), uid, 'newsletter.127.0.0.1')}"
    assert service.client.post(unsubscribe).status_code == 200
    service.clock.advance(minutes=5)
    assert service.sign_up("cycle@example.se").status_code == 202  # comes back: pending again
    new = confirm_link(service, "cycle@example.se", 2)
    assert service.subscriber("cycle@example.se").status == "pending"
    assert service.client.post(old).status_code == 400  # bound to the earlier subscription
    assert service.subscriber("cycle@example.se").status == "pending"
    assert service.client.post(new).status_code == 200
    assert service.subscriber("cycle@example.se").status == "active"


@pytest.mark.parametrize("kind", ["forged", "truncated", "other list"])
def test_bad_unsubscribe_and_preferences_links_are_refused(service: Service, kind: str):
    active(service, "stay@example.se")
    uid = service.subscriber("stay@example.se").uid
    good = tokens.unsubscribe_token(SECRET.encode(), uid, "newsletter.127.0.0.1")
    prefs = tokens.preferences_token(SECRET.encode(), uid)
    bad_unsubscribe, bad_prefs = {
        "forged": (good[:-2] + "xx", prefs[:-2] + "xx"),
        "truncated": (good[:-1], prefs[: len(uid) + 3]),
        "other list": (tokens.unsubscribe_token(SECRET.encode(), uid, "other.list"), good),
    }[kind]
    before = service.subscriber("stay@example.se")
    assert service.client.get(f"/unsubscribe/{bad_unsubscribe}").status_code == 400
    assert (
        service.client.post(
            f"/unsubscribe/{bad_unsubscribe}", data={"List-Unsubscribe": "One-Click"}
        ).status_code
        == 400
    )
    assert service.client.get(f"/preferences/{bad_prefs}").status_code == 400
    assert service.client.post(f"/preferences/{bad_prefs}", data={"language": "en"}).status_code == 400
    assert (
        service.client.post(
            f"/preferences/{bad_prefs}", data={"action": "erase", "confirm": "yes"}
        ).status_code
        == 400
    )
    assert service.client.get(f"/preferences/{bad_prefs}/data.json").status_code == 400
    assert service.subscriber("stay@example.se") == before


def test_preferences_change_language_and_targets_export_and_erase(service: Service):
    confirm_path = active(service, "pref@example.se")
    subscriber = service.subscriber("pref@example.se")
    path = f"/preferences/{tokens.preferences_token(SECRET.encode(), subscriber.uid)}"
    page = service.client.get(path, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and page.headers["content-language"] == "sv"  # the subscriber's language
    assert len(lxml_html.fromstring(page.text).xpath("//input[@name='targets']")) == 19

    saved = service.client.post(path, data={"action": "save", "language": "en", "targets": ["17.18", "17.2"]})
    assert saved.status_code == 200 and saved.headers["content-language"] == "en"
    changed = service.subscriber("pref@example.se")
    assert (changed.lang, changed.targets) == ("en", ("17.2", "17.18"))
    assert service.client.post(path, data={"language": "sv", "targets": "17.99"}).status_code == 400
    assert service.subscriber("pref@example.se").targets == ("17.2", "17.18")
    everything = service.client.post(path, data={"action": "save", "language": "en"})
    assert everything.status_code == 200 and service.subscriber("pref@example.se").targets == ()

    export = service.client.get(f"{path}/data.json")
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/json")
    assert export.headers["cache-control"] == "no-store"
    record = export.json()
    assert record["email"] == "pref@example.se" and record["status"] == "active"
    events = [(c["event"], c["source"]) for c in record["consent"]]
    assert events[:2] == [("subscribed", "form"), ("confirmed", "form")]
    assert record["consent"][1]["page"] == service.url + "confirm/"
    assert record["confirmed_at"] and record["consent_at"]

    refused = service.client.post(path, data={"action": "erase"})  # the box was not ticked
    assert refused.status_code == 400 and service.subscriber("pref@example.se") is not None
    erased = service.client.post(path, data={"action": "erase", "confirm": "yes"})
    assert erased.status_code == 200
    assert service.subscriber("pref@example.se") is None
    with service.store() as store:
        assert store.is_suppressed("PREF@example.se")  # only the hash remains
        rows = store.conn.execute("SELECT COUNT(*) FROM subscriber_consent").fetchone()[0]
        assert rows == 0
    assert service.client.get(path).status_code == 410
    assert service.client.post(confirm_path).status_code == 400
    # The owner may come back through the form (double opt-in); imports still skip the address.
    assert service.sign_up("pref@example.se").status_code == 202
    assert service.subscriber("pref@example.se").status == "pending"


def test_honeypot_and_bad_input(service: Service):
    trapped = service.sign_up("bot@example.se", website="http://spam.example")
    assert trapped.status_code == 202 and trapped.text == service.sign_up("real@example.se").text
    assert service.subscriber("bot@example.se") is None
    for fields in ({"email": "not-an-address"}, {"email": ""}, {"email": "a@example.se", "targets": "17.20"}):
        response = service.client.post("/subscribe", data=fields)
        assert response.status_code == 400
    response = service.client.post("/subscribe", json={"email": "x"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_email"
    assert response.json()["message"] == "Enter a valid email address, for example name@example.org."
    assert [m["To"] for m in service.mailbox.wait(1)] == ["real@example.se"]
    assert service.mailbox.settle() == 1


def test_a_burst_of_sign_ups_is_rate_limited(tmp_path):
    with running_service(tmp_path, per_client_per_hour=5, per_address_per_day=2) as service:
        statuses = [service.sign_up(f"burst{n}@example.se").status_code for n in range(8)]
        assert statuses == [202] * 5 + [429] * 3
        limited = service.sign_up("late@example.se")
        assert int(limited.headers["retry-after"]) > 0 and service.subscriber("late@example.se") is None
        assert service.mailbox.wait(5) and service.mailbox.settle() == 5


def test_one_address_gets_few_mails_however_many_clients_ask(tmp_path):
    with running_service(tmp_path, per_address_per_day=2, trust_forwarded_for=True) as service:
        for n in range(6):
            response = service.client.post(
                "/subscribe",
                data={"email": "victim@example.se"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            )
            assert response.status_code == 202
        service.mailbox.wait(2)
        assert service.mailbox.settle() == 2
        service.clock.advance(days=1, seconds=1)  # a day later the address may be mailed again
        service.sign_up("victim@example.se")
        assert len(service.mailbox.wait(3)) == 3


def test_cors_only_on_subscribe_and_only_for_allowed_origins(tmp_path):
    with running_service(tmp_path, allowed_origins=[PARTNER]) as service:
        preflight = service.client.options(
            "/subscribe", headers={"Origin": PARTNER, "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == PARTNER
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert "access-control-allow-credentials" not in preflight.headers
        posted = service.client.post(
            "/subscribe",
            json={"email": "cors@example.se"},
            headers={"Origin": PARTNER, "Accept": "application/json"},
        )
        assert posted.status_code == 202 and posted.headers["access-control-allow-origin"] == PARTNER
        assert posted.headers["vary"] == "Origin"
        foreign = service.client.post(
            "/subscribe", data={"email": "evil@example.se"}, headers={"Origin": "https://evil.example"}
        )
        assert foreign.status_code == 403 and "access-control-allow-origin" not in foreign.headers
        assert service.subscriber("evil@example.se") is None
        assert (
            service.client.options("/subscribe", headers={"Origin": "https://evil.example"}).status_code
            == 403
        )
        own = service.client.post(
            "/subscribe", data={"email": "own@example.se"}, headers={"Origin": service.url.rstrip("/")}
        )
        assert own.status_code == 202
        uid = service.subscriber("cors@example.se").uid
        other = service.client.get(
            f"/preferences/{tokens.preferences_token(SECRET.encode(), uid)}", headers={"Origin": PARTNER}
        )
        assert "access-control-allow-origin" not in other.headers


def test_pages_have_protective_headers_and_no_cookies(service: Service):
    response = service.client.get("/subscribe", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert response.status_code == 200 and response.headers["content-language"] == "en"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    # same-origin, not no-referrer: under no-referrer the form would post with "Origin: null"
    # (refused since issue 17); no Referer leaves for another site either way.
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert "set-cookie" not in response.headers and not service.client.cookies
    doc = lxml_html.fromstring(response.text)
    assert doc.get("lang") == "en" and not doc.xpath("//script")
    assert service.client.get("/subscribe?lang=sv").headers["content-language"] == "sv"
    assert service.client.get("/nothing-here").status_code == 404
    assert service.client.put("/subscribe").status_code == 405


def test_international_addresses(service: Service):
    assert service.sign_up("åsa@example.se").status_code == 400  # would need SMTPUTF8 all the way
    assert service.sign_up("asa@exämple.se").status_code == 202
    assert service.subscriber("asa@exämple.se").email == "asa@xn--exmple-cua.se"
    assert service.mailbox.to("asa@xn--exmple-cua.se")


def test_consent_record_is_exportable_from_the_command_line(service: Service, capsys):
    from pipeline.cli import main

    service.client.post("/subscribe", data={"email": "gdpr@example.se", "page": f"{PARTNER}/form?secret=1"})
    service.clock.advance(hours=2)
    assert service.client.post(confirm_link(service, "gdpr@example.se")).status_code == 200
    capsys.readouterr()
    assert main(["subscribers", "consent", "GDPR@example.se", "--config", str(service.config_path)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["email"] == "gdpr@example.se" and record["status"] == "active"
    subscribed, confirmed = record["consent"]
    assert (subscribed["event"], subscribed["source"], subscribed["page"]) == (
        "subscribed",
        "form",
        f"{PARTNER}/form",
    )
    assert (confirmed["event"], confirmed["page"]) == ("confirmed", service.url + "confirm/")
    assert subscribed["at"] == "2026-11-27T11:00:00Z" and confirmed["at"] == "2026-11-27T13:00:00Z"
    assert main(["subscribers", "consent", "nobody@example.se", "--config", str(service.config_path)]) == 1
    assert "not on the list" in capsys.readouterr().err
