"""Request and response values passed between the HTTP layer and the handlers.

Handlers never touch sockets: they take a :class:`Request` and return a
:class:`Response`; the server writes it (or, for an injected fault, misbehaves
as the response's ``fault`` asks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


@dataclass(slots=True)
class Request:
    """One HTTP request. ``query`` maps each name to its first value."""

    method: str
    path: str
    raw_query: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    request_id: str
    query: dict[str, str] = field(default_factory=dict)
    caller: str = "anonymous"
    cookies: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        request_id: str,
    ) -> Request:
        """Parse the request target, query and cookies."""
        path, _, raw_query = target.partition("?")
        query = {
            k: v[0] for k, v in parse_qs(raw_query, keep_blank_values=True).items()
        }
        cookies = {}
        for part in headers.get("cookie", "").split(";"):
            k, _, v = part.strip().partition("=")
            if k:
                cookies[k] = v
        return cls(
            method, path, raw_query, headers, body, request_id, query, cookies=cookies
        )

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def form(self) -> dict[str, str]:
        """The urlencoded form body (first value per name)."""
        return {
            k: v[0]
            for k, v in parse_qs(
                self.body.decode("utf-8", "replace"), keep_blank_values=True
            ).items()
        }


@dataclass(slots=True)
class Response:
    """A response to send. ``fault`` names an injected misbehaviour for the server."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str | None = "application/json"
    fault: dict[str, Any] | None = None

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (case-insensitive), else None."""
        low = name.lower()
        for k, v in self.headers:
            if k.lower() == low:
                return v
        return None


def json_response(
    status: int, data: Any, headers: list[tuple[str, str]] | None = None
) -> Response:
    """A JSON response (compact separators, UTF-8)."""
    return Response(
        status, json.dumps(data, separators=(",", ":")).encode(), list(headers or [])
    )


def html_response(
    status: int, html: str, headers: list[tuple[str, str]] | None = None
) -> Response:
    """An HTML response (UTF-8)."""
    return Response(
        status, html.encode(), list(headers or []), "text/html;charset=utf-8"
    )


def redirect(location: str, headers: list[tuple[str, str]] | None = None) -> Response:
    """A 302 to ``location``."""
    return Response(302, b"", [("Location", location), *(headers or [])], None)


class HttpError(Exception):
    """Raised by handlers to answer with an Okta error body."""

    def __init__(
        self,
        status: int,
        error_code: str,
        summary: str,
        causes: list[str] | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(summary)
        self.status = status
        self.error_code = error_code
        self.summary = summary
        self.causes = causes or []
        self.headers = headers or []


class OAuthError(Exception):
    """Raised by Org AS handlers: ``{"error", "error_description"}`` JSON."""

    def __init__(self, status: int, error: str, description: str, headers=None) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.headers = headers or []
