"""Bad input gets Okta's status and error JSON, never a traceback, and the
simulator keeps serving."""

from __future__ import annotations

import http.client
import socket
from urllib.parse import urlsplit

import pytest
import requests

from .conftest import SSWS_TOKEN, app_by_label


def raw(sim, data: bytes) -> bytes:
    u = urlsplit(sim.url)
    with socket.create_connection((u.hostname, u.port), timeout=5) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if (
                b"\r\n\r\n" in b"".join(chunks)
                and b"Connection: close" not in chunks[0]
            ):
                break
        return b"".join(chunks)


def grants_url(sim):
    return f"{sim.url}/api/v1/apps/{app_by_label(sim, 'Expense Reports')['id']}/grants"


def assert_okta_error(r, status, code):
    assert r.status_code == status
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["errorCode"] == code
    assert set(body) == {
        "errorCode",
        "errorSummary",
        "errorLink",
        "errorId",
        "errorCauses",
    }
    assert "Traceback" not in r.text


def test_malformed_json_is_e0000003(sim, ssws):
    r = ssws.post(
        grants_url(sim),
        data=b'{"issuer": ',
        headers={"Content-Type": "application/json"},
    )
    assert_okta_error(r, 400, "E0000003")


def test_json_that_is_not_an_object_is_e0000003(sim, ssws):
    r = ssws.post(grants_url(sim), json=["okta.users.read"])
    assert_okta_error(r, 400, "E0000003")


def test_wrong_content_type_is_415(sim, ssws):
    r = ssws.post(
        grants_url(sim), data={"issuer": sim.url, "scopeId": "okta.users.read"}
    )
    assert_okta_error(r, 415, "E0000001")


def test_empty_body_is_400(sim, ssws):
    r = ssws.post(
        grants_url(sim), data=b"", headers={"Content-Type": "application/json"}
    )
    assert_okta_error(r, 400, "E0000003")


def test_post_without_content_length_is_411(sim):
    u = urlsplit(grants_url(sim))
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    conn.putrequest("POST", u.path)
    conn.putheader("Authorization", f"SSWS {SSWS_TOKEN}")
    conn.putheader("Content-Type", "application/json")
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 411
    assert b'"E0000003"' in resp.read()


def test_unknown_path_is_404_json(sim, ssws):
    assert_okta_error(ssws.get(f"{sim.url}/api/v1/nothing/here"), 404, "E0000007")
    assert_okta_error(ssws.get(f"{sim.url}/favicon.ico"), 404, "E0000007")
    assert_okta_error(ssws.get(f"{sim.url}/oauth2/v1/nothing"), 404, "E0000007")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/v1/apps/0oa1consoleDEMO000x7/grants", "GET, POST"),
        ("PATCH", "/api/v1/apps", "GET"),
        ("POST", "/api/v1/logs", "GET"),
        ("DELETE", "/api/v1/users/00u1x/roles", "GET"),
        ("GET", "/oauth2/v1/token", "POST"),
    ],
)
def test_unsupported_method_is_405_e0000022(sim, ssws, method, path, allow):
    r = ssws.request(method, sim.url + path, json={} if method != "GET" else None)
    assert_okta_error(r, 405, "E0000022")
    assert r.headers["Allow"] == allow


def test_garbage_request_line_does_not_break_the_server(sim, ssws):
    reply = raw(sim, b"\x16\x03\x01 hello there\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert b'"errorCode":"E0000003"' in reply
    reply = raw(sim, b"TRACE /api/v1/apps HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 405 ")
    assert ssws.get(f"{sim.url}/api/v1/apps").status_code == 200


def test_absurd_content_length_is_refused(sim, ssws):
    reply = raw(
        sim,
        b"POST /api/v1/apps HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
    )
    assert reply.startswith(b"HTTP/1.1 400")
    assert ssws.get(f"{sim.url}/api/v1/apps").status_code == 200


def test_chunked_body_is_read(sim, ssws):
    def gen():
        yield b'{"issuer": "' + sim.url.encode() + b'", '
        yield b'"scopeId": "okta.users.read"}'

    r = ssws.post(
        grants_url(sim), data=gen(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 200


def test_every_response_has_a_request_id(sim, ssws):
    for resp in (
        ssws.get(f"{sim.url}/api/v1/apps"),
        ssws.get(f"{sim.url}/nope"),
        requests.get(f"{sim.url}/.well-known/openid-configuration", timeout=5),
        requests.post(f"{sim.url}/oauth2/v1/token", data={}, timeout=5),
        requests.get(f"{sim.url}/__sim__/health", timeout=5),
    ):
        assert len(resp.headers["X-Okta-Request-Id"]) >= 20
    ids = {r["request_id"] for r in sim.requests()}
    assert len(ids) == len(sim.requests())


def test_bad_control_requests_are_plain_json_errors(sim):
    r = requests.post(
        f"{sim.url}/__sim__/faults", json={"kind": "bogus", "path": "x"}, timeout=5
    )
    assert r.status_code == 400
    assert "kind must be one of" in r.json()["error"]
    r = requests.post(f"{sim.url}/__sim__/faults", data=b"{", timeout=5)
    assert r.status_code == 400
    assert requests.get(f"{sim.url}/__sim__/nope", timeout=5).status_code == 404
