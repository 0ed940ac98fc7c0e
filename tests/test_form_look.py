"""The sign-up form and the service's answer pages as a person meets them.

Over real HTTP (uvicorn on loopback, real SMTP for the mails) and, for sizes and alignment on a
phone, in Debian's chromium. What is checked: the seven collapsible target groups, touch-sized
choices with labels that line up, errors tied to their fields, a next step with a link on every
answer page, a way back after unsubscribing, and the privacy warning of ``web``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import html as lxml_html

from pipeline.config.site import default_settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.delivery import tokens
from pipeline.outputs import signup_form
from tests.browser_helpers import launched_chromium, require_chromium
from tests.conftest import REPO
from tests.web_helpers import SECRET, Service, links, running_service


@pytest.fixture
def service(tmp_path) -> Service:
    with running_service(tmp_path) as running:
        yield running


def doc(response):
    return lxml_html.fromstring(response.text)


def next_links(page) -> dict[str, str]:
    """The answer page's "what next" links: text → href."""
    return {a.text_content(): a.get("href") for a in page.xpath("//nav[@class='next']//a")}


# -- the form -------------------------------------------------------------------------------


def check_groups(form) -> None:
    taxonomy = load_taxonomy()
    groups = form.xpath(".//details[@class='group']")
    assert [g.xpath("string(summary)").strip() for g in groups] == [g.title("sv") for g in taxonomy.groups]
    for details, group in zip(groups, taxonomy.groups, strict=True):
        assert details.xpath(".//input[@name='targets']/@value") == list(group.targets)
        holder = details.xpath("./div[@role='group']")[0]
        assert holder.get("aria-labelledby") == details.xpath("summary/@id")[0]
        for label in details.xpath(".//label"):  # box first, then the text in its own span
            assert label.get("class") == "check" and label[0].tag == "input" and label[1].tag == "span"


def test_targets_come_in_seven_collapsed_groups(service: Service) -> None:
    page = doc(service.client.get("/subscribe", headers={"accept-language": "sv"}))
    form = page.xpath("//form")[0]
    check_groups(form)
    assert not form.xpath(".//details[@open]")  # nothing chosen: all closed, 7 rows instead of 19
    for name in ("subscribe.html", "subscribe.en.html"):
        files = signup_form.build([], default_settings())
        partner = lxml_html.fromstring(files[f"snippets/{name}"]).xpath("//form")[0]
        if name == "subscribe.html":
            check_groups(partner)
        assert len(partner.xpath(".//details[@class='group']")) == 7


def test_a_bad_address_is_tied_to_its_field_and_kept(service: Service) -> None:
    response = service.client.post(
        "/subscribe", data={"email": "inte-en-adress", "language": "sv", "targets": ["17.9", "17.17"]}
    )
    assert response.status_code == 400
    page = doc(response)
    field = page.xpath("//input[@name='email']")[0]
    assert field.get("aria-invalid") == "true" and field.get("value") == "inte-en-adress"
    (message,) = page.xpath(f"//*[@id='{field.get('aria-describedby')}']")
    assert message.text_content() == "Fel: Skriv en giltig e-postadress, till exempel namn@kommun.se."
    # the summary at the top leads to the field; the ticked targets stay ticked, their groups open
    assert page.xpath("//p[@role='alert']/a/@href") == ["#g17-email"]
    assert sorted(page.xpath("//input[@name='targets'][@checked]/@value")) == ["17.17", "17.9"]
    opened = page.xpath("//details[@open]/summary/@id")
    assert opened == ["g17-group-capacity-building", "g17-group-partnerships"]
    # the targets are not what is wrong: not marked
    assert page.xpath("//fieldset[contains(@class, 'targets')]/@aria-invalid") == []


def test_unknown_targets_are_tied_to_the_targets_group(service: Service) -> None:
    response = service.client.post("/subscribe", data={"email": "ok@example.se", "targets": "17.99"})
    assert response.status_code == 400
    page = doc(response)
    fieldset = page.xpath("//fieldset[contains(@class, 'targets')]")[0]
    assert fieldset.get("aria-invalid") == "true"
    described = fieldset.get("aria-describedby").split()
    assert page.xpath(f"string(//*[@id='{described[0]}'])") == "Fel: Välj bland delmålen 17.1–17.19."
    assert page.xpath("//input[@name='email']/@aria-invalid") == []


def test_privacy_link_by_the_consent_text(tmp_path) -> None:
    with running_service(tmp_path, privacy_url="https://www.example.se/integritet") as service:
        page = doc(service.client.get("/subscribe"))
        consent = page.xpath("//form//p[@class='hint'][a]")[0]
        assert consent.xpath("a/@href") == ["https://www.example.se/integritet"]
        assert "avsluta prenumerationen" in consent.text_content()


# -- what next ------------------------------------------------------------------------------


def test_a_broken_unsubscribe_link_offers_a_way_out_not_a_sign_up(service: Service) -> None:
    page = doc(service.client.get("/unsubscribe/abc.def"))
    steps = next_links(page)
    assert list(steps) == ["Mejla oss så avslutar vi prenumerationen åt dig"]
    mail = urlsplit(steps["Mejla oss så avslutar vi prenumerationen åt dig"])
    assert mail.scheme == "mailto" and mail.path == service.settings.contact_email
    assert parse_qs(mail.query) == {"subject": ["Avsluta min prenumeration"]}
    assert "prenumerera igen" not in page.text_content().lower()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/confirm/abc.def", {"Anmäl dig igen": "/subscribe"}),
        ("/preferences/abc.def", {"Mejla oss så hjälper vi dig": "mailto:"}),
        ("/no/such/page", {"Prenumerera på nyhetsbrevet": "/subscribe", "Gå till nyheterna om mål 17": "/"}),
    ],
)
def test_every_error_page_says_what_to_do_next(service: Service, path: str, expected: dict[str, str]) -> None:
    response = service.client.get(path)
    assert response.status_code >= 400
    steps = next_links(doc(response))
    assert list(steps) == list(expected)
    for text, start in expected.items():
        href = steps[text]
        assert href.startswith(start) or urlsplit(href).path == start, (text, href)


def test_the_rate_limit_and_bad_request_pages_lead_back(service: Service) -> None:
    response = service.client.post(
        "/subscribe", content=b"\xff", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400
    assert list(next_links(doc(response))) == ["Tillbaka till formuläret", "Gå till nyheterna om mål 17"]


def test_after_unsubscribing_there_is_a_way_back(service: Service) -> None:
    assert service.sign_up("tillbaka@example.se").status_code == 202
    (confirm,) = links(service.mailbox.to("tillbaka@example.se")[0], "confirm")
    assert service.client.post(service.path(confirm)).status_code == 200
    uid = service.subscriber("tillbaka@example.se").uid
    token = tokens.unsubscribe_token(SECRET.encode(), uid, "newsletter.127.0.0.1")
    done = doc(
        service.client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click", "via": "page"})
    )
    back = done.xpath("//main//a[starts-with(., 'Ångrar du dig?')]/@href")
    assert back and urlsplit(back[0]).path == "/subscribe"
    again = doc(service.client.get(f"/unsubscribe/{token}"))  # the link once more: already out
    assert "Ångrar du dig? Prenumerera igen" in next_links(again)
    prefs = tokens.preferences_token(SECRET.encode(), uid)
    assert doc(service.client.get(f"/preferences/{prefs}")).xpath("//a[starts-with(., 'Ångrar du dig?')]")
    # and the way back works: the form signs the address up again
    assert service.sign_up("tillbaka@example.se").status_code == 202
    assert len(service.mailbox.to("tillbaka@example.se", 2)) == 2


# -- start-up warning -----------------------------------------------------------------------------


@pytest.mark.parametrize("privacy", ["", "https://www.example.se/integritet"])
def test_web_warns_when_consent_is_collected_without_a_privacy_page(tmp_path, privacy: str) -> None:
    config = tmp_path / "site.toml"
    config.write_text(f'[site]\nstate_dir = "state"\n[web]\nprivacy_url = "{privacy}"\n', encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "web", "--config", str(config), "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "GOAL17_SECRET": secrets.token_urlsafe(32)},  # web refuses to start without one
    )
    try:
        assert process.stdout.readline().startswith("subscription service at ")
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    warned = "warning: [web] privacy_url is empty" in err
    assert warned == (not privacy), err
    assert "Traceback" not in err


# -- on a phone ---------------------------------------------------------------------------------

MEASURE_JS = """() => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  const rows = [...document.querySelectorAll('label.check')].map(label => {
    const box = label.querySelector('input').getBoundingClientRect();
    const text = label.querySelector('span');
    const range = document.createRange();
    range.selectNodeContents(text);
    const lines = [...range.getClientRects()].filter(r => r.width > 0);
    return {
      box: [box.width, box.height],
      row: label.getBoundingClientRect().height,
      // where each line of the text starts (the leftmost piece on each line)
      textLeft: [...new Set(Object.values(lines.reduce((starts, r) => {
        const top = Math.round(r.top);
        starts[top] = Math.min(starts[top] ?? Infinity, Math.round(r.left));
        return starts;
      }, {})))],
      spanLeft: Math.round(text.getBoundingClientRect().left),
      boxRight: box.right,
      lines: new Set(lines.map(r => Math.round(r.top))).size,
    };
  });
  const summaries = [...document.querySelectorAll('summary')].map(s => s.getBoundingClientRect().height);
  return {rows, summaries, scroll: document.documentElement.scrollWidth, width: innerWidth};
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium for the file: each ``new_page`` is a new browser context (no shared state)."""
    require_chromium()
    with launched_chromium() as chromium:
        yield chromium


@pytest.mark.parametrize("form", ["service", "partner"])
@pytest.mark.parametrize("width", [390, 1280])
def test_choices_are_touch_sized_and_labels_line_up(
    service: Service, browser: Any, tmp_path, width: int, form: str
) -> None:
    if form == "partner":  # the copy-paste form partners put on their own pages
        snippet = tmp_path / "subscribe.html"
        snippet.write_bytes(signup_form.build([], service.settings)["snippets/subscribe.html"])
        url = snippet.as_uri()
    else:
        url = service.url + "subscribe?lang=sv"
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(url)
        artifacts = REPO / "tests" / "artifacts"
        artifacts.mkdir(exist_ok=True)
        page.screenshot(path=str(artifacts / f"subscribe-{form}-{width}.png"), full_page=True)
        measured = page.evaluate(MEASURE_JS)
    finally:
        page.close()
    rows = measured["rows"]
    assert len(rows) == 19 + 2  # the targets and the two languages
    assert measured["scroll"] <= measured["width"]  # nothing scrolls sideways
    for row in rows:
        assert row["box"][0] >= 24 and row["box"][1] >= 24, row
        assert row["row"] >= 44, row
        # every line of a label starts at the same place, right of the box (no line under the box)
        assert row["textLeft"] == [row["spanLeft"]] and row["spanLeft"] > row["boxRight"], row
    assert width > 400 or any(row["lines"] > 1 for row in rows)  # wrapping really happens on a phone
    assert all(height >= 44 for height in measured["summaries"])
