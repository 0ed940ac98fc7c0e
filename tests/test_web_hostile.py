"""Hostile and malformed requests at every endpoint, over real HTTP: always a 4xx, never a 500,
and nothing changes. Raw sockets send what httpx would refuse to produce."""

from __future__ import annotations

import gzip
import socket

import pytest

from pipeline.delivery import tokens
from tests.web_helpers import SECRET, Service, links, running_service

BIG = 16_384 + 1


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Service:
    with running_service(tmp_path_factory.mktemp("hostile"), per_client_per_hour=10_000) as running:
        running.sign_up("target@example.se")
        (link,) = links(running.mailbox.to("target@example.se")[0], "confirm")
        running.sign_up("other@example.se")
        uid = running.subscriber("target@example.se").uid
        running.extra["confirm"] = running.path(link)
        running.extra["unsubscribe"] = (
            f"/unsubscribe/{tokens.unsubscribe_token(SECRET.encode(), uid, 'newsletter.127.0.0.1')}"
        )
        running.extra["preferences"] = f"/preferences/{tokens.preferences_token(SECRET.encode(), uid)}"
        yield running


def endpoints(service: Service) -> list[str]:
    return [
        "/subscribe",
        service.extra["confirm"],
        service.extra["unsubscribe"],
        service.extra["preferences"],
    ]


BODIES = [
    ("huge form", b"email=" + b"a" * BIG, "application/x-www-form-urlencoded", {413}),
    ("huge json", b'{"email": "' + b"a" * BIG + b'"}', "application/json", {413}),
    ("invalid utf-8", b"email=\xff\xfe\xfd", "application/x-www-form-urlencoded", {400}),
    ("percent-encoded invalid utf-8", b"email=%C3%28", "application/x-www-form-urlencoded", {400}),
    (
        "utf-16 charset",
        "email=a@b.se".encode("utf-16"),
        "application/x-www-form-urlencoded; charset=utf-16",
        {415},
    ),
    ("shift_jis charset", b"email=a", "application/json; charset=shift_jis", {415}),
    ("unknown type", b"email=a", "text/csv", {415}),
    ("bad json", b'{"email": ', "application/json", {400}),
    ("json array", b"[]", "application/json", {400}),
    ("json deep", b"[" * 3000 + b"]" * 3000, "application/json", {400}),
    ("json number", b'{"email": 1e999}', "application/json", {400}),
    ("json huge int", b'{"email": ' + b"9" * 6000 + b"}", "application/json", {400}),
    ("multipart no boundary", b"x", "multipart/form-data", {400}),
    (
        "multipart broken",
        b'--zz\r\nContent-Disposition: form-data; name="a"\r\n\r\nv',
        "multipart/form-data; boundary=zz",
        {400},
    ),
    ("multipart junk", b"\x00\x01\x02" * 100, "multipart/form-data; boundary=zz", {400}),
    (
        "multipart file",
        b'--zz\r\nContent-Disposition: form-data; name="f"; filename="x.exe"\r\n\r\nMZ\r\n--zz--\r\n',
        "multipart/form-data; boundary=zz",
        {400},
    ),
    ("multipart huge boundary", b"x", "multipart/form-data; boundary=" + "z" * 200, {400}),
    ("garbage content-type", b"email=a", ";;;===", {400, 415}),
    ("nul in value", b"email=a%00@b.se", "application/x-www-form-urlencoded", {400}),
    (
        "too many fields",
        b"&".join(b"k%d=v" % n for n in range(500)),
        "application/x-www-form-urlencoded",
        {400},
    ),
]


@pytest.mark.parametrize("name, body, content_type, expected", BODIES, ids=[b[0] for b in BODIES])
def test_malformed_bodies_get_a_4xx_at_every_endpoint(service: Service, name, body, content_type, expected):
    before = [service.subscriber(a) for a in ("target@example.se", "other@example.se")]
    for path in endpoints(service):
        response = service.client.post(path, content=body, headers={"Content-Type": content_type})
        assert response.status_code in expected, (path, response.status_code, response.text[:300])
    assert [service.subscriber(a) for a in ("target@example.se", "other@example.se")] == before


def test_compressed_and_chunked_bodies(service: Service):
    before = service.subscriber("target@example.se")
    for path in endpoints(service):
        compressed = service.client.post(
            path,
            content=gzip.compress(b"List-Unsubscribe=One-Click&email=z%40example.se"),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "gzip"},
        )
        assert compressed.status_code == 415

        def chunks():
            for _ in range(40):
                yield b"a" * 1000

        chunked = service.client.post(
            path, content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert chunked.status_code == 413
    assert service.subscriber("target@example.se") == before
    assert service.subscriber("z@example.se") is None


def raw_request(service: Service, data: bytes) -> bytes:
    host, port = service.url.split("//")[1].rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)  # a body shorter than announced ends here
        received = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
            if b"\r\n\r\n" in received and len(received) > 2000:
                break
    return received


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\nConnection: close\r\n\r\n",
        b"POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\nemail",
        b"POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\nConnection: close\r\n\r\n",
        b"POST /subscribe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n",
        b"POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\xff\r\nContent-Length: 7\r\nConnection: close\r\n\r\nemail=a",
        b"GET /confirm/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /unsubscribe/%ff%fe%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /preferences/" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /subscribe HTTP/1.1\r\nHost: x\r\nAccept-Language: "
        + b"\xff" * 300
        + b"\r\nConnection: close\r\n\r\n",
        b"GARBAGE\r\n\r\n",
    ],
)
def test_broken_http_never_gets_a_500(service: Service, request_bytes: bytes):
    answer = raw_request(service, request_bytes)
    if answer:  # uvicorn may also just close a connection it cannot parse
        status = int(answer.split(b" ", 2)[1])
        assert status < 500 or status == 200 and request_bytes.startswith(b"GET /subscribe"), answer[:200]
    assert service.subscriber("target@example.se").status == "pending"


@pytest.mark.parametrize(
    "path",
    [
        "/confirm/",
        "/confirm/..%2F..%2Fetc%2Fpasswd",
        "/confirm/%00",
        "/unsubscribe/" + "A" * 300,
        "/unsubscribe/a.b.c.d",
        "/preferences/x" + "." * 50,
        "/preferences/%F0%9F%92%A9.zzzzzzzzzzzzzzzzzzzz",
        "/preferences/abc/data.json",
    ],
)
def test_odd_token_paths(service: Service, path: str):
    for method in ("GET", "POST"):
        response = service.client.request(method, path)
        assert 400 <= response.status_code < 500, (method, path, response.status_code)


def test_odd_methods_and_headers(service: Service):
    for path in endpoints(service):
        for method in ("PUT", "DELETE", "PATCH"):
            assert service.client.request(method, path).status_code == 405
    assert service.client.get("/subscribe", headers={"Accept-Language": "q=;;,,*;q=abc"}).status_code == 200
    # Issue 17: "Origin: null" (a sandboxed iframe) names no site and counts as foreign.
    answer = service.client.post("/subscribe", data={"email": "a@example.se"}, headers={"Origin": "null"})
    assert answer.status_code == 403
