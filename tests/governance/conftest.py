"""Fixtures for the governance tests: a local webhook endpoint, and the grant
tests' worker client and synced org."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.grants.conftest import full_synced, worker_client  # noqa: F401


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
