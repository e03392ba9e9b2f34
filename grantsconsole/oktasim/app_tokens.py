"""An app's refresh tokens (Okta Management API tag ``ApplicationTokens``).

``GET /api/v1/apps/{appId}/tokens`` (listOAuth2TokensForApplication: the app's
live refresh tokens, oldest first, ``limit`` ≤ 200 with a ``Link: rel="next"``
cursor, ``expand=scope``) needs ``okta.apps.read``; ``DELETE`` on the same path
(revokeOAuth2TokensForApplication: 204) needs ``okta.apps.manage`` and ends every
refresh token of the app and the access tokens minted from them. Access tokens
issued without a refresh token (``client_credentials``, or a sign-in without
``offline_access``) are untouched and live until they expire, as in Okta.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from .shapes import iso
from .state import App, RefreshToken
from .web import HttpError, Request, Response, json_response

if TYPE_CHECKING:
    from .api import ManagementApi
    from .oauth import Caller

DEFAULT_LIMIT = 20
MAX_LIMIT = 200
TOKEN_ID_RX = re.compile(r"^oar[0-9A-Za-z]{17}$")
# Roles that may end an app's tokens (Okta: manage the app).
MANAGE_ROLES = {"SUPER_ADMIN", "ORG_ADMIN", "APP_ADMIN"}


def routes(api: ManagementApi) -> list:
    """Route-table entries for :class:`ManagementApi`."""
    return [
        (
            re.compile(r"^/api/v1/apps/(?P<app>[^/]+)/tokens$"),
            {
                "GET": (
                    lambda req, caller, app: list_tokens(api, req, caller, app),
                    ("okta.apps.read", "okta.apps.manage"),
                ),
                "DELETE": (
                    lambda req, caller, app: revoke_tokens(api, req, caller, app),
                    ("okta.apps.manage",),
                ),
            },
        )
    ]


def live_tokens(api: ManagementApi, app: App) -> list[RefreshToken]:
    """The app's unexpired refresh tokens, by id (creation order)."""
    now = api.org.clock.now()
    cid = app.client_id or app.id
    return sorted(
        (
            t
            for t in api.org.refresh_tokens.values()
            if t.client_id == cid and t.expires > now
        ),
        key=lambda t: t.id,
    )


def token_json(api: ManagementApi, app: App, t: RefreshToken, embed: bool) -> dict:
    """An ``OAuth2RefreshToken`` as the spec's example shows it."""
    url = api.org.url
    user = api.org.users.get(t.user_id)
    href = f"{url}/api/v1/apps/{app.id}/tokens/{t.id}"
    data: dict[str, Any] = {
        "id": t.id,
        "status": "ACTIVE",
        "created": iso(t.created),
        "lastUpdated": iso(t.created),
        "expiresAt": iso(t.expires),
        "issuer": url,
        "clientId": t.client_id,
        "userId": t.user_id,
        "scopes": list(t.scopes),
    }
    if embed:
        data["_embedded"] = {
            "scopes": [{"name": s, "displayName": s} for s in t.scopes]
        }
    data["_links"] = {
        "app": {"href": f"{url}/api/v1/apps/{app.id}", "title": app.label},
        "self": {"href": href},
        "revoke": {"href": href, "hints": {"allow": ["DELETE"]}},
        "client": {
            "href": f"{url}/oauth2/v1/clients/{t.client_id}",
            "title": app.label,
        },
        "user": {
            "href": f"{url}/api/v1/users/{t.user_id}",
            "title": user.display_name if user else t.user_id,
        },
    }
    return data


def list_tokens(api: ManagementApi, req: Request, caller: Caller, app: str):
    """GET /api/v1/apps/{appId}/tokens."""
    from .api import ADMIN_ROLES

    api.require_role(caller, ADMIN_ROLES)
    a = api.org.get_app(app)
    embed = api._expand_scope(req)
    q = req.query
    try:
        limit = int(q.get("limit", DEFAULT_LIMIT))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise HttpError(
            400,
            "E0000001",
            "Api validation failed: limit",
            ["limit: The value must be an integer between 1 and 200."],
        )
    after = q.get("after")
    if after is not None and not TOKEN_ID_RX.match(after):
        raise HttpError(400, "E0000029", "Invalid paging request.", ["Invalid cursor."])
    tokens = [t for t in live_tokens(api, a) if after is None or t.id > after]
    page, more = tokens[:limit], len(tokens) > limit
    base = f"{api.org.url}{req.path}"
    headers = [
        ("Link", f'<{base}{"?" + req.raw_query if req.raw_query else ""}>; rel="self"')
    ]
    if more:
        params = {"after": page[-1].id, "limit": str(limit)}
        params.update((k, v) for k, v in q.items() if k not in params)
        headers.append(
            ("Link", f'<{base}?{urlencode(params, quote_via=quote)}>; rel="next"')
        )
    return json_response(200, [token_json(api, a, t, embed) for t in page], headers)


def revoke_tokens(api: ManagementApi, req: Request, caller: Caller, app: str):
    """DELETE /api/v1/apps/{appId}/tokens: 204; the app's refresh tokens and the
    access tokens minted from them stop working."""
    api.require_role(caller, MANAGE_ROLES)
    a = api.org.get_app(app)
    cid = a.client_id or a.id
    store = api.org.refresh_tokens
    for value in [v for v, t in store.items() if t.client_id == cid]:
        api.oauth.revoked_jtis.update(store.pop(value).access_jtis)
    return Response(204, b"", [], None)
