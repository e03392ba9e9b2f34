"""The simulator's HTTP server: ``SimServer`` (for tests, benchmarks and the
``oktasim`` management command) and the request pipeline.

Pure Python: stdlib ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive; no
Django in the request path. Pipeline per request: rate-limit count → injected
fault → 429 if over the limit → route (Org AS, /api/v1, /__sim__) → Okta headers
(``X-Okta-Request-Id``, ``X-Rate-Limit-*``) → record in ``/__sim__/requests``.
Every error is Okta's JSON; an unexpected exception becomes 500 E0000009 (logged
here, never sent to the client).

Usage::

    from grantsconsole.oktasim.server import SimServer
    srv = SimServer(host="127.0.0.1", port=0, seed="demo", apps=None, rate_limit=None)
    srv.start()      # returns once listening
    srv.url          # the org URL = the issuer, no trailing slash
    srv.stop()
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import socket
import threading
import time
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import activity
from .api import ManagementApi
from .control import ControlSurface
from .faults import DEFAULT_CODES, FaultBook
from .oauth import OrgAuthServer
from .ratelimit import RateLimiter, Verdict, bucket_for
from .seed import build_org
from .shapes import error_body
from .state import BASE62, Clock, Org
from .web import HttpError, OAuthError, Request, Response, json_response
from .webhooks import WebhookInbox

log = logging.getLogger("grantsconsole.oktasim")

_rng = random.Random()
REQUEST_LOG_MAX = 200_000  # /__sim__/requests keeps at most this many (oldest dropped)


_TABLE = bytes(ord(BASE62[i % 62]) for i in range(256))


def _token(n: int) -> str:
    """``n`` random base62 chars (request ids, error ids)."""
    return _rng.getrandbits(8 * n).to_bytes(n, "big").translate(_TABLE).decode()


class Simulator:
    """The request pipeline over one org; thread-safe."""

    def __init__(
        self,
        url: str,
        seed: str | dict | None = "demo",
        apps: int | None = None,
        rate_limit: int | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.clock = Clock()
        self.org = Org(self.url, self.clock)
        self.oauth = OrgAuthServer(self.org)
        self.api = ManagementApi(self.org, self.oauth)
        self.limiter = RateLimiter(self.clock, rate_limit)
        self.faults = FaultBook()
        self.control = ControlSurface(self)
        self.webhooks = WebhookInbox()
        self.requests_lock = threading.Lock()
        self.requests_log: list[dict[str, Any]] = []
        self.requests_dropped = 0  # oldest entries dropped to bound memory
        self.seed, self.apps, self.rate_limit = seed, apps, rate_limit
        build_org(self.org, seed, apps)

    def reset(
        self,
        seed: str | dict | None = "demo",
        apps: int | None = None,
        rate_limit: int | None = None,
    ) -> None:
        """Back to a freshly seeded org: clock, limits, faults, tokens, request log."""
        clock = Clock()
        org = Org(self.url, clock)
        build_org(org, seed, apps)
        with self.org.lock:
            self.clock = clock
            self.org = org
            self.oauth.org = org
            self.oauth.reset_state()
            self.api.org = org
            self.limiter = RateLimiter(clock, rate_limit)
            self.faults.clear()
            self.webhooks = WebhookInbox()
            with self.requests_lock:
                self.requests_log = []
                self.requests_dropped = 0
            self.seed, self.apps, self.rate_limit = seed, apps, rate_limit

    # --- pipeline --------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        """Answer one request (never raises)."""
        if req.path.startswith("/__sim__/") or req.path == "/__sim__":
            try:
                resp = self.control.handle(req)
            except Exception as e:  # a bug in a control handler must not kill the reply
                log.exception(
                    "oktasim: control request %s %s failed", req.method, req.path
                )
                resp = json_response(500, {"error": f"control request failed: {e}"})
            resp.headers.append(("X-Okta-Request-Id", req.request_id))
            return resp
        bucket = bucket_for(req.path)
        limiter = self.limiter
        received = self.clock.now()  # the log and the rate limit use the same instant
        verdict = limiter.hit(bucket, now=received)
        counted = req.path.startswith("/api/v1")
        busy = limiter.enter() if counted else None
        try:
            resp = self._handle(req, verdict, busy)
        finally:
            if counted:
                limiter.leave()
        resp.headers.append(("X-Okta-Request-Id", req.request_id))
        self.record(req, resp, bucket, received)
        return resp

    def record(
        self, req: Request, resp: Response, bucket: str, received: float
    ) -> None:
        """Append the request to the /__sim__/requests log; ``time`` is when it
        was received (simulator clock), the instant its rate-limit window counted."""
        entry = {
            "method": req.method,
            "path": req.path,
            "query": req.raw_query,
            "status": resp.status,
            "caller": req.caller,
            "request_id": req.request_id,
            "bucket": bucket,
            "time": received,
        }
        if resp.fault:
            entry["fault"] = resp.fault["kind"]
        with self.requests_lock:
            self.requests_log.append(entry)
            if len(self.requests_log) > REQUEST_LOG_MAX:
                half = REQUEST_LOG_MAX // 2
                del self.requests_log[:half]
                self.requests_dropped += half

    def _handle(self, req: Request, verdict: Verdict, busy: Verdict | None) -> Response:
        fault = self.faults.take(req.method, req.path)
        post = None
        if fault is not None:
            opts = fault.options
            kind = fault.kind
            if kind == "delete_app":
                with self.org.lock:
                    if opts["app_id"] in self.org.apps:
                        self.org.delete_app(opts["app_id"])
            elif kind == "delay":
                self.faults.release.wait(float(opts.get("delay", 1.0)))
            elif kind == "hang":
                self.faults.release.wait(float(opts.get("delay", 3600)))
                return Response(0, fault={"kind": "drop"})
            elif kind == "drop":
                return Response(0, fault={"kind": "drop"})
            elif kind == "status":
                return self._fault_status(req, opts, verdict)
            elif kind == "malformed":
                body = opts.get("body", '[{"id": "0oa1truncated')
                return Response(
                    200, str(body).encode(), verdict.headers(), fault={"kind": kind}
                )
            elif kind == "html":
                page = opts.get(
                    "body",
                    "<!doctype html><html><head><title>Sign In</title>"
                    '</head><body><form action="/login">Please sign in'
                    "</form></body></html>",
                )
                return Response(
                    200,
                    str(page).encode(),
                    verdict.headers(),
                    "text/html;charset=utf-8",
                    fault={"kind": kind},
                )
            elif kind == "wrong_shape":
                return Response(
                    200,
                    json.dumps(opts.get("body", {"unexpected": True})).encode(),
                    verdict.headers(),
                    fault={"kind": kind},
                )
            elif kind == "huge":
                return Response(
                    200,
                    b"",
                    verdict.headers(),
                    fault={"kind": kind, "size": int(opts.get("size", 20_000_000))},
                )
            else:  # drip, truncate, foreign_next, duplicate_headers: serve, then misbehave
                post = {"kind": kind, **opts}
        if busy is not None:
            resp = self._error(
                req,
                429,
                "E0000047",
                "API call exceeded rate limit due to too many requests.",
            )
            resp.headers.extend(busy.headers())
            return resp
        if verdict.exceeded:
            resp = self._error(
                req,
                429,
                "E0000047",
                "API call exceeded rate limit due to too many requests.",
            )
            resp.headers.extend(verdict.headers())
            return resp
        resp = self._route(req)
        resp.headers.extend(verdict.headers())
        if post is not None:
            resp = self._post_fault(resp, post)
        return resp

    def _fault_status(self, req: Request, opts: dict, verdict: Verdict) -> Response:
        status = int(opts["status"])
        code, summary = DEFAULT_CODES.get(status, ("E0000009", "Internal Server Error"))
        code = opts.get("error_code", code)
        if "body" in opts:
            body = opts["body"]
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            resp = Response(
                status,
                raw,
                [],
                "application/json"
                if not isinstance(body, str)
                else opts.get("content_type", "application/json"),
            )
        else:
            resp = self._error(req, status, code, opts.get("error_summary", summary))
        if status == 429:
            if opts.get("rate_limit_headers", True):
                resp.headers.extend(
                    [
                        ("X-Rate-Limit-Limit", str(verdict.limit)),
                        ("X-Rate-Limit-Remaining", "0"),
                        ("X-Rate-Limit-Reset", str(verdict.reset)),
                    ]
                )
        else:
            resp.headers.extend(verdict.headers())
        for k, v in (opts.get("headers") or {}).items():
            resp.headers.append((k, str(v)))
        resp.fault = {"kind": "status"}
        return resp

    def _post_fault(self, resp: Response, post: dict) -> Response:
        kind = post["kind"]
        if kind == "foreign_next":
            host = post.get("host", "https://evil.example.net").rstrip("/")
            new = []
            for k, v in resp.headers:
                if k.lower() == "link" and 'rel="next"' in v:
                    v = v.replace(self.url, host, 1)
                new.append((k, v))
            if not any(k.lower() == "link" and 'rel="next"' in v for k, v in new):
                new.append(
                    (
                        "Link",
                        f"<{host}/api/v1/apps?after=0oa1foreign000000000&limit=200>;"
                        ' rel="next"',
                    )
                )
            resp.headers = new
        elif kind == "duplicate_headers":
            extra = []
            for k, v in resp.headers:
                if k.lower().startswith("x-rate-limit-"):
                    extra.append((k, str(int(v) + 7) if v.isdigit() else v))
            for k, v in (post.get("headers") or {}).items():
                extra.append((k, str(v)))
            resp.headers.extend(extra)
        resp.fault = post
        return resp

    def _error(
        self,
        req: Request,
        status: int,
        code: str,
        summary: str,
        causes: list[str] | None = None,
    ) -> Response:
        return json_response(
            status, error_body(code, summary, "oae" + _token(22), causes)
        )

    def _route(self, req: Request) -> Response:
        path = req.path
        try:
            with self.org.lock:
                activity.catch_up(self.org, self.oauth)
                if self.api.handles(path):
                    return self.api.handle(req)
                if path in (
                    "/.well-known/openid-configuration",
                    "/.well-known/oauth-authorization-server",
                ):
                    if req.method not in ("GET", "HEAD"):
                        raise HttpError(
                            405,
                            "E0000022",
                            "The endpoint does not support the provided HTTP method",
                        )
                    return json_response(200, self.oauth.discovery())
                if path.startswith("/oauth2/v1/"):
                    return self._oauth(req)
                raise HttpError(
                    404, "E0000007", f"Not found: Resource not found: {path} (Request)"
                )
        except HttpError as e:
            resp = self._error(req, e.status, e.error_code, e.summary, e.causes)
            resp.headers.extend(e.headers)
            return resp
        except OAuthError as e:
            resp = json_response(
                e.status, {"error": e.error, "error_description": e.description}
            )
            resp.headers.extend(e.headers)
            return resp
        except Exception:
            log.exception("oktasim: unexpected error on %s %s", req.method, path)
            return self._error(req, 500, "E0000009", "Internal Server Error")

    def _oauth(self, req: Request) -> Response:
        o = self.oauth
        sub = req.path.removeprefix("/oauth2/v1/")
        routes = {
            "authorize": ({"GET", "POST"}, o.authorize),
            "authorize/login": ({"POST"}, o.authorize),
            "token": ({"POST"}, o.token),
            "keys": (
                {"GET", "HEAD"},
                lambda r: json_response(
                    200, o.jwks, [("Cache-Control", "max-age=3832749, must-revalidate")]
                ),
            ),
            "userinfo": ({"GET", "POST"}, o.userinfo),
            "revoke": ({"POST"}, o.revoke),
            "introspect": ({"POST"}, o.introspect),
            "logout": ({"GET", "POST"}, o.logout),
        }
        if sub not in routes:
            raise HttpError(
                404, "E0000007", f"Not found: Resource not found: {req.path} (Request)"
            )
        methods, fn = routes[sub]
        if req.method not in methods:
            raise HttpError(
                405,
                "E0000022",
                "The endpoint does not support the provided HTTP method",
                headers=[("Allow", ", ".join(sorted(methods)))],
            )
        if sub in ("token", "revoke", "introspect") and req.content_type not in (
            "application/x-www-form-urlencoded",
            "",
        ):
            raise OAuthError(
                400,
                "invalid_request",
                "The request must use Content-Type application/x-www-form-urlencoded.",
            )
        return fn(req)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oktasim"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this many seconds

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _dispatch(self) -> None:
        srv: _HttpServer = self.server  # type: ignore[assignment]
        sim = srv.sim
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = headers.get("content-length")
        body = b""
        if length:
            try:
                n = int(length)
            except ValueError:
                n = -1
            if n < 0 or n > 10_000_000:
                self._write(
                    Response(
                        400,
                        json.dumps(
                            error_body(
                                "E0000003",
                                "The request body was not well-formed.",
                                "oae" + _token(22),
                            )
                        ).encode(),
                    ),
                    "",
                )
                self.close_connection = True
                return
            body = self.rfile.read(n)
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._read_chunked()
        req = Request.build(self.command, self.path, headers, body, _token(27))
        resp = sim.handle(req)
        self._write(resp, req.request_id)

    def _read_chunked(self) -> bytes:
        out = bytearray()
        while True:
            line = self.rfile.readline(65537)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            out += self.rfile.read(size)
            self.rfile.readline(65537)

    def _head(self, resp: Response, length: int) -> bytes:
        try:
            reason = HTTPStatus(resp.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [
            f"HTTP/1.1 {resp.status} {reason}",
            f"Date: {formatdate(self.server.sim.clock.now(), usegmt=True)}",  # type: ignore[attr-defined]
            "Server: oktasim",
        ]
        if resp.content_type and resp.status != 204:
            lines.append(f"Content-Type: {resp.content_type}")
        if resp.status != 204:
            lines.append(f"Content-Length: {length}")
        for k, v in resp.headers:
            lines.append(f"{k}: {v}")
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")

    def _write(self, resp: Response, request_id: str) -> None:
        fault = resp.fault or {}
        kind = fault.get("kind")
        if kind == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = b"" if self.command == "HEAD" else resp.body
        if kind == "huge":
            size = max(int(fault["size"]), 16)
            self.wfile.write(self._head(resp, size))
            item = b'{"id":"0oa1huge00000000000","label":"' + b"x" * 200 + b'"},'
            self.wfile.write(b"[")
            sent = 1
            chunk = item * 256
            while sent + len(chunk) < size - 64:
                self.wfile.write(chunk)
                sent += len(chunk)
            tail = b'{"id":"0oa1huge00000000000","label":"'
            pad = size - sent - len(tail) - 3
            self.wfile.write(tail + b"x" * pad + b'"}]')
            return
        if kind == "truncate":
            self.close_connection = True
            self.wfile.write(
                self._head(resp, len(body)) + body[: max(1, len(body) // 2)]
            )
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if kind == "drip":
            self.wfile.write(self._head(resp, len(body)))
            step = max(1, int(fault.get("chunk", 16)))
            interval = float(fault.get("interval", 0.2))
            release = self.server.sim.faults.release  # type: ignore[attr-defined]
            for i in range(0, len(body), step):
                self.wfile.write(body[i : i + step])
                if release.wait(interval):
                    break
            return
        head = self._head(resp, len(resp.body))
        if len(body) > 65536:  # large pages: two writes beat copying the body
            self.wfile.write(head)
            self.wfile.write(body)
        else:
            self.wfile.write(head + body)

    def send_error(
        self, code: int, message: str | None = None, explain: str | None = None
    ) -> None:
        """Protocol-level errors (bad request line, unknown method, oversized headers)
        as Okta error JSON instead of http.server's HTML page."""
        if code == 501:  # a method http.server has no do_X for
            code, error = (
                405,
                ("E0000022", "The endpoint does not support the provided HTTP method"),
            )
        else:
            error = ("E0000003", "The request body was not well-formed.")
        self.request_version = "HTTP/1.1"
        self.close_connection = True
        body = json.dumps(
            error_body(error[0], error[1], "oae" + _token(22)), separators=(",", ":")
        ).encode()
        with contextlib.suppress(OSError):
            self.wfile.write(self._head(Response(code, body), len(body)) + body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    sim: Simulator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.sockets_lock:
                self.open_sockets.discard(request)

    def close_open_sockets(self) -> None:
        with self.sockets_lock:
            socks = list(self.open_sockets)
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


class SimServer:
    """A running simulated Okta org on ``host:port`` (port 0 = a free port).

    ``seed``: "demo", a seed dict, or a JSON seed path; ``apps``: build a large org
    of that many generated apps; ``rate_limit``: the ``/api/v1/apps*`` bucket limit
    per window (default 100). ``sock``: an already bound listening socket to use.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: str | dict | None = "demo",
        apps: int | None = None,
        rate_limit: int | None = None,
        sock: socket.socket | None = None,
    ) -> None:
        self._httpd = _HttpServer(
            (host, port), _Handler, bind_and_activate=sock is None
        )
        if sock is not None:
            self._httpd.socket.close()
            self._httpd.socket = sock
            self._httpd.server_address = sock.getsockname()
        bound_host, bound_port = self._httpd.server_address[:2]
        shown = "127.0.0.1" if bound_host in ("0.0.0.0", "") else bound_host
        self.url = f"http://{shown}:{bound_port}"
        self.sim = Simulator(self.url, seed, apps, rate_limit)
        self._httpd.sim = self.sim
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The TCP port the simulator listens on."""
        return int(self._httpd.server_address[1])

    def start(self) -> SimServer:
        """Serve in a background thread; returns once the socket accepts connections."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="oktasim",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(
                    (
                        "127.0.0.1"
                        if self.url.startswith("http://127.")
                        else self._httpd.server_address[0],
                        self.port,
                    ),
                    1,
                ):
                    break
            except OSError:
                time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the management command)."""
        self._httpd.serve_forever(poll_interval=0.5)

    def stop(self) -> None:
        """Stop serving, release hung requests and close open connections."""
        self.sim.faults.release.set()
        self._httpd.shutdown()
        self._httpd.close_open_sockets()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
