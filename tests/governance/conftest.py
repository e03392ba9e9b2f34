"""Fixtures for the governance tests: the demo org mirrored into the database,
the console's and the worker's clients, a second Super Admin, the approval
gate on (the suite runs with it off, see tests/conftest.py), and a local
webhook endpoint."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from grantsconsole import okta_clients
from grantsconsole.okta import OktaClient, SswsTokenSource
from tests.console.conftest import admin, mirrored  # noqa: F401
from tests.factories import ORG_ADMIN
from tests.grants.conftest import full_synced, worker_client  # noqa: F401

CRITICAL = "okta.users.manage"


@pytest.fixture(autouse=True)
def gate(settings):
    """Grants rated critical need an approved request (the product's default)."""
    settings.APPROVAL_MIN_RISK = "critical"


@pytest.fixture
def approver(sim, signed_in_as):
    """A second Super Admin (the demo Org Admin, promoted in the simulator)."""
    sim.set_roles(ORG_ADMIN.login, ["SUPER_ADMIN"])
    return signed_in_as(ORG_ADMIN)


@pytest.fixture
def admin_okta(sim) -> OktaClient:
    """The demo Super Admin acting through the console (the demo org's SSWS token)."""
    return OktaClient(
        sim.url, SswsTokenSource("00demoSuperAdminSSWStoken0000000000000000")
    )


@pytest.fixture
def worker(sim, settings) -> Iterator[None]:
    """The worker's client (``okta_clients.worker_client``) reaches the reset
    simulator."""
    settings.OKTA_ORG_URL = sim.url
    okta_clients.forget_worker_clients()
    yield
    okta_clients.forget_worker_clients()


class Endpoint:
    """A webhook endpoint on a free loopback port. Paths decide its answer:
    ``/ok`` 200, ``/fail`` 500, ``/gone`` 410, ``/hang`` no answer for
    ``hang`` seconds, ``/redirect`` 302 to ``redirect_to``. ``received``:
    (path, headers, body bytes) of each request, in order."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.redirect_to = ""
        self.hang = 5.0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                endpoint.received.append((self.path, dict(self.headers), body))
                if self.path == "/hang":
                    time.sleep(endpoint.hang)
                status = {"/ok": 200, "/fail": 500, "/gone": 410, "/redirect": 302}
                try:
                    self.send_response(status.get(self.path, 404))
                    if self.path == "/redirect":
                        self.send_header("Location", endpoint.redirect_to)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:  # the client gave up waiting (/hang)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _, _, body in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    server = Endpoint()
    yield server
    server.close()


@pytest.fixture
def other_host():
    server = Endpoint()
    yield server
    server.close()
