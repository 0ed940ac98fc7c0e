"""Who may sign people up: Origin and Referer over real HTTP (uvicorn, aiosmtpd), issue 17 defect 10.

A sandboxed iframe, a ``data:`` page or a page under ``Referrer-Policy: no-referrer`` posts with
``Origin: null``; that names no site and must never pass for an allowed partner. Neither may a
malformed origin, nor one that differs by scheme, port, a suffix, user information or a path.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.web_helpers import Service, running_service

PARTNER = "https://www.kommun.example"
_numbers = itertools.count()


@pytest.fixture(scope="module")
def partner_only(tmp_path_factory) -> Iterator[Service]:
    folder = tmp_path_factory.mktemp("origin")
    with running_service(
        folder, allowed_origins=[PARTNER], per_client_per_hour=1_000_000, per_address_per_day=1000
    ) as service:
        yield service


@pytest.fixture(scope="module")
def anyone(tmp_path_factory) -> Iterator[Service]:
    folder = tmp_path_factory.mktemp("origin-any")
    with running_service(folder, per_client_per_hour=1_000_000, per_address_per_day=1000) as service:
        yield service


def post(service: Service, headers: list[tuple[str, str]]) -> tuple[int, str]:
    address = f"origin{next(_numbers)}@example.se"
    answer = service.client.post("/subscribe", data={"email": address}, headers=headers)
    return answer.status_code, address


def own(service: Service) -> str:
    return service.url.rstrip("/")


ACCEPTED = [
    [],  # not a browser page: curl, a partner's server
    [("Origin", PARTNER)],
    [("Origin", "HTTPS://WWW.KOMMUN.EXAMPLE")],  # the same origin, spelt in capitals
    [("Origin", PARTNER + ":443")],  # the default port, spelt out
    [("Origin", "{own}")],
    [("Referer", PARTNER + "/sida?kampanj=1")],  # no Origin: the Referer's origin decides
    [("Referer", "{own}/subscribe")],
]

REFUSED = [
    [("Origin", "null")],  # a sandboxed iframe, data: or file: page
    [("Origin", "Null")],
    [("Origin", "null"), ("Referer", PARTNER + "/")],  # Origin decides when present
    [("Origin", "")],
    [("Origin", PARTNER + "/")],  # a trailing slash: not an origin
    [("Origin", PARTNER + "/path")],
    [("Origin", PARTNER + ":8443")],
    [("Origin", PARTNER + ":")],
    [("Origin", PARTNER + ":abc")],
    [("Origin", PARTNER + ":99999")],
    [("Origin", "http://www.kommun.example")],  # another scheme
    [("Origin", "javascript://www.kommun.example")],
    [("Origin", "www.kommun.example")],
    [("Origin", PARTNER + ".evil.example")],
    [("Origin", "https://evil.example#" + PARTNER)],
    [("Origin", "https://evil.example?" + PARTNER)],
    [("Origin", PARTNER + "@evil.example")],
    [("Origin", "https://user@www.kommun.example")],
    [("Origin", PARTNER + ", https://evil.example")],
    [("Origin", PARTNER), ("Origin", "https://evil.example")],  # two headers
    [("Origin", "https://evil.example"), ("Origin", PARTNER)],
    [("Origin", "https://evil.example")],
    [("Origin", "evil://{host}")],  # the old check compared only what follows "://" with Host
    [("Origin", "{own}/")],
    [("Origin", "{own}.evil.example")],
    [("Referer", "https://evil.example/" + PARTNER)],
    [("Referer", "null")],
    [("Referer", "about:blank")],
    [("Referer", "https://www.kommun.example@evil.example/")],
    [("Referer", PARTNER + "/"), ("Referer", "https://evil.example/")],
]


def fill(service: Service, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    host = own(service).split("://", 1)[1]
    return [(name, value.format(own=own(service), host=host)) for name, value in headers]


@pytest.mark.parametrize("headers", ACCEPTED, ids=repr)
def test_own_and_allowed_pages_and_non_browsers_may_sign_up(partner_only, headers):
    status, address = post(partner_only, fill(partner_only, headers))
    assert status == 202
    assert partner_only.subscriber(address).status == "pending"


@pytest.mark.parametrize("headers", REFUSED, ids=repr)
def test_null_malformed_and_look_alike_origins_are_foreign(partner_only, headers):
    status, address = post(partner_only, fill(partner_only, headers))
    assert status == 403
    assert partner_only.subscriber(address) is None


@pytest.mark.parametrize("origin", ["null", PARTNER + "/", "https://x.example, https://y.example", ""])
def test_a_star_admits_every_site_but_not_null_or_malformed_origins(anyone, origin):
    status, address = post(anyone, [("Origin", origin)])
    assert status == 403 and anyone.subscriber(address) is None
    preflight = anyone.client.options(
        "/subscribe", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    status, address = post(anyone, [("Origin", "https://any.partner.example")])
    assert status == 202 and anyone.subscriber(address).status == "pending"


def test_no_cors_grant_for_null(partner_only):
    answer = partner_only.client.options(
        "/subscribe", headers={"Origin": "null", "Access-Control-Request-Method": "POST"}
    )
    assert answer.status_code == 403 and "access-control-allow-origin" not in answer.headers


def test_the_sign_up_page_keeps_its_origin_and_token_pages_send_no_referrer(partner_only):
    # Under "no-referrer" a browser would post the service's own form with "Origin: null".
    assert partner_only.client.get("/subscribe").headers["referrer-policy"] == "same-origin"
    assert partner_only.client.get("/confirm/x.abcdefghijabcdefghij").headers["referrer-policy"] == (
        "no-referrer"
    )


@pytest.mark.parametrize("path", ["/subscribe/", "//evil.example/subscribe/", "/confirm/x/"])
def test_the_service_redirects_nowhere(partner_only, path):
    answer = partner_only.client.get(path, headers={"Host": "evil.example"})
    assert answer.status_code == 404 and "location" not in answer.headers


# Origins that look like the partner's: the partner's own text with a few characters changed,
# added or removed. Only the very same origin (any case, default port or not) may pass.
_ALPHABET = st.sampled_from(list("abcdefghijklmnopqrstuvwxyz0123456789.:/@#?%-_[] ,;\\") + ["null"])


@st.composite
def look_alikes(draw) -> str:
    text = draw(st.sampled_from([PARTNER, PARTNER + ":443", "null", PARTNER.upper()]))
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(_ALPHABET)
        if action == "insert":
            text = text[:where] + piece + text[where:]
        elif action == "delete":
            text = text[:where] + text[where + 1 :]
        else:
            text = text[:where] + piece + text[where + 1 :]
    return text.strip()  # HTTP drops whitespace around a header value


def test_property_only_the_partner_itself_passes(partner_only):
    same = {PARTNER, PARTNER + ":443"}

    @hsettings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(look_alikes())
    def check(origin: str) -> None:
        status, address = post(partner_only, [("Origin", origin)])
        if origin.lower() in same:
            assert status == 202, origin
        else:
            assert status == 403, origin
            assert partner_only.subscriber(address) is None, origin

    check()
