"""``Link`` header parsing and the same-origin rule for following Okta cursors.

Okta pages with opaque cursors carried in ``Link: <url>; rel="next"`` headers,
one header per relation (Core Okta API reference, "Pagination"). Proxies and
HTTP libraries may join repeated headers with commas; both forms are read.
A link is only followed when it points at the org itself (same scheme, host
and port), so the token never travels to another host.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .errors import OktaForeignLink, OktaMalformedResponse

__all__ = ["check_same_origin", "parse_links"]

_LINK = re.compile(r"<([^<>]*)>((?:\s*;\s*[^;,<]*)*)")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_links(values: str | list[str] | None) -> dict[str, str]:
    """Map each ``rel`` to its URL from one or more ``Link`` header values.

    Accepts ``rel="next"``, ``rel=next`` and space-separated relation lists.
    Raises OktaMalformedResponse when one relation names two different URLs
    (we would not know which page comes next).
    """
    if not values:
        return {}
    if isinstance(values, str):
        values = [values]
    links: dict[str, str] = {}
    for value in values:
        for match in _LINK.finditer(value):
            url, params = match.group(1).strip(), match.group(2)
            for param in params.split(";"):
                name, _, raw = param.partition("=")
                if name.strip().lower() != "rel":
                    continue
                for rel in raw.strip().strip('"').lower().split():
                    if rel in links and links[rel] != url:
                        raise OktaMalformedResponse(
                            f'two different Link rel="{rel}" URLs in one response'
                        )
                    links[rel] = url
    return links


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def check_same_origin(url: str, org_url: str, path: str | None = None) -> str:
    """Return ``url`` if it has the org's scheme, host and port (and, if given,
    exactly ``path``); raise OktaForeignLink otherwise."""
    if _origin(url) != _origin(org_url) or not _origin(url)[1]:
        raise OktaForeignLink(
            "refused a paging link to another scheme, host or port",
            error_summary=f"link origin {urlsplit(url).scheme}://"
            f"{urlsplit(url).netloc} is not the Okta org",
        )
    if path is not None and urlsplit(url).path.rstrip("/") != path.rstrip("/"):
        raise OktaForeignLink(
            "refused a paging link to another API path",
            error_summary=f"expected {path}, got {urlsplit(url).path}",
        )
    return url
