"""The Management API endpoints the console uses, under /api/v1 (and the
/oauth2/v1/clients role reads, served by privilege.py).

Access control (docs/okta-api.md §7.7, §4): a Bearer access token from this org's
Org AS (signature, issuer, audience, expiry, revocation, then the scope the
endpoint needs, else 403 with ``WWW-Authenticate: … error="insufficient_scope"``),
or an SSWS API token; then the caller's admin role (grants need SUPER_ADMIN;
others get 403 E0000006). References: Okta Management API ``Application``,
``ApplicationGrants``, ``RoleAssignmentAUser``, ``SystemLog`` tags.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import quote, unquote, urlencode

from . import api_services, app_tokens, logquery
from .controls import ControlsApi
from .oauth import Caller, OrgAuthServer
from .privilege import ClientRoles
from .shapes import (
    app_bytes,
    event_json,
    grant_json,
    user_json,
    user_roles_json,
)
from .state import App, Org, OrgError, api_token_id
from .web import HttpError, Request, Response, json_response

ADMIN_ROLES = {
    "SUPER_ADMIN",
    "ORG_ADMIN",
    "APP_ADMIN",
    "READ_ONLY_ADMIN",
    "USER_ADMIN",
    "HELP_DESK_ADMIN",
    "GROUP_MEMBERSHIP_ADMIN",
    "API_ACCESS_MANAGEMENT_ADMIN",
    "REPORT_ADMIN",
    "MOBILE_ADMIN",
    "WORKFLOWS_ADMIN",
    "ACCESS_CERTIFICATIONS_ADMIN",
    "ACCESS_REQUESTS_ADMIN",
    "CUSTOM",
}
LOG_READER_ROLES = {"SUPER_ADMIN", "ORG_ADMIN", "READ_ONLY_ADMIN", "REPORT_ADMIN"}
APP_ID_RX = re.compile(r"^0oa[0-9A-Za-z]{17}$")
DEFAULT_APPS_LIMIT = 20
MAX_APPS_LIMIT = 200
PERMISSION_DENIED = "You do not have permission to perform the requested action"


def _denied() -> HttpError:
    return HttpError(403, "E0000006", PERMISSION_DENIED)


class ManagementApi:
    """Routes and handlers for /api/v1 over an :class:`Org` and its Org AS."""

    def __init__(self, org: Org, oauth: OrgAuthServer) -> None:
        self.org = org
        self.oauth = oauth
        A = r"(?P<app>[^/]+)"
        self.routes: list[
            tuple[re.Pattern[str], dict[str, tuple[Callable, tuple[str, ...]]]]
        ] = [
            (
                re.compile(r"^/api/v1/apps$"),
                {"GET": (self.list_apps, ("okta.apps.read", "okta.apps.manage"))},
            ),
            (
                re.compile(rf"^/api/v1/apps/{A}$"),
                {"GET": (self.get_app, ("okta.apps.read", "okta.apps.manage"))},
            ),
            (
                re.compile(rf"^/api/v1/apps/{A}/grants$"),
                {
                    "GET": (
                        self.list_grants,
                        ("okta.appGrants.read", "okta.appGrants.manage"),
                    ),
                    "POST": (self.create_grant, ("okta.appGrants.manage",)),
                },
            ),
            (
                re.compile(rf"^/api/v1/apps/{A}/grants/(?P<grant>[^/]+)$"),
                {
                    "GET": (
                        self.get_grant,
                        ("okta.appGrants.read", "okta.appGrants.manage"),
                    ),
                    "DELETE": (self.delete_grant, ("okta.appGrants.manage",)),
                },
            ),
            (
                re.compile(r"^/api/v1/users/(?P<user>[^/]+)$"),
                {"GET": (self.get_user, ("okta.users.read", "okta.users.manage"))},
            ),
            (
                re.compile(r"^/api/v1/users/(?P<user>[^/]+)/roles$"),
                {
                    "GET": (
                        self.list_user_roles,
                        ("okta.roles.read", "okta.roles.manage"),
                    ),
                },
            ),
            (
                re.compile(r"^/oauth2/v1/clients/(?P<client>[^/]+)/roles$"),
                {
                    "GET": (
                        self.list_client_roles,
                        ("okta.roles.read", "okta.roles.manage"),
                    ),
                },
            ),
            (
                re.compile(r"^/api/v1/logs$"),
                {"GET": (self.list_logs, ("okta.logs.read",))},
            ),
            *api_services.ApiServicesApi(self).routes(),
        ]
        self.client_roles = ClientRoles(self, ADMIN_ROLES)
        self.routes += [(re.compile(p), m) for p, m in self.client_roles.routes()]
        self.routes += app_tokens.routes(self)
        self.routes += ControlsApi(self).routes()

    # --- dispatch --------------------------------------------------------------------
    def match(self, method: str, path: str):
        """(handler, scopes, groups) for a route; HttpError 404/405 when none fits."""
        for rx, methods in self.routes:
            m = rx.match(path)
            if m:
                if method not in methods:
                    raise HttpError(
                        405,
                        "E0000022",
                        "The endpoint does not support the provided HTTP method",
                        headers=[("Allow", ", ".join(sorted(methods)))],
                    )
                fn, scopes = methods[method]
                return fn, scopes, {k: unquote(v) for k, v in m.groupdict().items()}
        raise HttpError(
            404, "E0000007", f"Not found: Resource not found: {path} (Request)"
        )

    def handles(self, path: str) -> bool:
        """True for paths this API serves (/api/v1/*, /oauth2/v1/clients/*,
        /integrations/api/v1/*)."""
        return path.startswith(
            ("/api/v1", "/oauth2/v1/clients/", "/integrations/api/v1")
        )

    def handle(self, req: Request) -> Response:
        """Authenticate, authorize (scope, then role in the handler), run the handler."""
        fn, scopes, groups = self.match(req.method, req.path)
        caller = self.authenticate(req)
        req.caller = caller.name
        if caller.scopes is not None and not (caller.scopes & set(scopes)):
            raise HttpError(
                403,
                "E0000006",
                PERMISSION_DENIED,
                headers=[
                    (
                        "WWW-Authenticate",
                        f'Bearer authorization_uri="{self.org.url}/oauth2/v1/authorize", '
                        f'realm="{self.org.url}", scope="{scopes[0]}", error="insufficient_scope", '
                        'error_description="The access token provided does not contain the required '
                        f'scopes.", resource="{req.path}"',
                    )
                ],
            )
        try:
            return fn(req, caller, **groups)
        except OrgError as e:
            raise HttpError(e.status, e.error_code, e.summary, e.causes) from None

    def authenticate(self, req: Request) -> Caller:
        """The caller of an /api/v1 request, else HttpError 401/403."""
        auth = req.headers.get("authorization", "").strip()
        scheme, _, cred = auth.partition(" ")
        cred = cred.strip()
        if not auth:
            raise HttpError(403, "E0000005", "Invalid session")
        if auth[:4].lower() == "ssws":
            # Okta also takes "SSWS<token>" with no space: the official Python SDK
            # sends that, and its recordings against live orgs answer 200.
            user = self.org.users_by_token.get(auth[4:].strip())
            if user is None or user.status != "ACTIVE":
                raise HttpError(401, "E0000011", "Invalid token provided")
            return Caller("user", user, None, None, "ssws")
        if scheme.lower() == "bearer":
            claims = self.oauth.verify_access_token(cred)
            if claims is not None:
                app = self.org.apps_by_client_id.get(claims.get("cid", ""))
                user = self.org.users.get(claims["uid"]) if "uid" in claims else None
                if app is not None and ("uid" not in claims or user is not None):
                    return Caller(
                        "user" if user else "client",
                        user,
                        app,
                        frozenset(claims.get("scp", [])),
                        "bearer",
                    )
            raise HttpError(
                401,
                "E0000011",
                "Invalid token provided",
                headers=[
                    (
                        "WWW-Authenticate",
                        f'Bearer authorization_uri="{self.org.url}/oauth2/v1/authorize", '
                        f'realm="{self.org.url}", error="invalid_token", '
                        'error_description="The token is not valid as it was issued by a different '
                        'authorization server, has expired, or was revoked."',
                    )
                ],
            )
        raise HttpError(401, "E0000011", "Invalid token provided")

    def actor_of(self, caller: Caller):
        """The System Log actor for a caller (the user, else the service app)."""
        if caller.user is not None:
            return self.org.user_actor(caller.user)
        return self.org.client_actor(caller.app)

    @staticmethod
    def via(caller: Caller) -> dict[str, str | None]:
        """How the caller authenticated, as its write events record it:
        ``client_id`` (``client.id``) for an OAuth access token, ``api_token_id``
        (``transaction.detail.requestApiTokenId``) for an SSWS token."""
        if caller.via == "ssws":
            token = caller.user.api_token if caller.user else None
            return {"client_id": None, "api_token_id": token and api_token_id(token)}
        cid = (caller.app.client_id or caller.app.id) if caller.app else None
        return {"client_id": cid, "api_token_id": None}

    @staticmethod
    def require_role(caller: Caller, allowed: set[str]) -> None:
        """HttpError 403 E0000006 unless the caller holds one of ``allowed``."""
        if not (caller.role_types & allowed):
            raise _denied()

    # --- apps ------------------------------------------------------------------------
    def list_apps(self, req: Request, caller: Caller) -> Response:
        """GET /api/v1/apps: ``limit`` (≤ 200), ``after``, ``q``, ``filter``; Link paging."""
        self.require_role(caller, ADMIN_ROLES)
        q = req.query
        try:
            limit = int(q.get("limit", DEFAULT_APPS_LIMIT))
        except ValueError:
            raise HttpError(
                400,
                "E0000001",
                "Api validation failed: limit",
                ["limit: The value must be an integer."],
            ) from None
        if limit < 1:
            raise HttpError(
                400,
                "E0000001",
                "Api validation failed: limit",
                ["limit: The value must be between 1 and 200."],
            )
        limit = min(limit, MAX_APPS_LIMIT)
        if "expand" in q:
            raise HttpError(
                400,
                "E0000001",
                "Api validation failed: RequestParams",
                ["Expand query is malformed."],
            )
        after = q.get("after")
        if after is not None and not APP_ID_RX.match(after):
            raise HttpError(
                400, "E0000029", "Invalid paging request.", ["Invalid cursor."]
            )
        pred = self._app_predicate(q.get("filter"), q.get("q"))
        ids = self.org.app_ids
        i = self.org.page_after(after)
        apps = self.org.apps
        out: list[App] = []
        more = False
        n = len(ids)
        while i < n:
            app = apps[ids[i]]
            i += 1
            if pred is None or pred(app):
                if len(out) == limit:
                    more = True
                    break
                out.append(app)
        parts = [b"["]
        for a in out:
            parts.append(app_bytes(self.org, a))
            parts.append(b",")
        if out:
            parts[-1] = b"]"  # replaces the last comma
        else:
            parts.append(b"]")
        body = b"".join(parts)  # one copy of a page that can be ~0.5 MB
        base = f"{self.org.url}{req.path}"
        headers = [
            (
                "Link",
                f'<{base}{"?" + req.raw_query if req.raw_query else ""}>; rel="self"',
            )
        ]
        if more:
            # Recorded order: after, then limit, then the other parameters.
            params = {"after": out[-1].id, "limit": q.get("limit", str(limit))}
            params.update((k, v) for k, v in q.items() if k not in params)
            headers.append(
                ("Link", f'<{base}?{urlencode(params, quote_via=quote)}>; rel="next"')
            )
        return Response(200, body, headers)

    _FILTER_TERM = re.compile(r'^\s*(id|status|name)\s+eq\s+"([^"]*)"\s*$')

    def _app_predicate(self, filt: str | None, q: str | None):
        terms: list[tuple[str, str]] = []
        if filt:
            for part in re.split(r"\s+and\s+", filt.strip()):
                m = self._FILTER_TERM.match(part)
                if not m:
                    raise HttpError(
                        400,
                        "E0000031",
                        "Invalid search criteria.",
                        [
                            f"filter: The filter expression '{filt}' is not supported; "
                            'use id, status or name with eq, e.g. status eq "ACTIVE".'
                        ],
                    )
                terms.append((m.group(1), m.group(2)))
        prefix = q.lower() if q else None
        if not terms and prefix is None:
            return None

        def pred(app: App) -> bool:
            for attr, value in terms:
                if getattr(app, attr) != value:
                    return False
            if prefix is not None:
                return app.name.lower().startswith(
                    prefix
                ) or app.label.lower().startswith(prefix)
            return True

        return pred

    def get_app(self, req: Request, caller: Caller, app: str) -> Response:
        """GET /api/v1/apps/{appId}."""
        self.require_role(caller, ADMIN_ROLES)
        a = self.org.get_app(app)
        return Response(200, app_bytes(self.org, a))

    # --- grants ----------------------------------------------------------------------
    @staticmethod
    def _expand_scope(req: Request) -> bool:
        expand = req.query.get("expand")
        if expand is None:
            return False
        if expand != "scope":
            raise HttpError(
                400,
                "E0000001",
                "Api validation failed: RequestParams",
                ["Expand query is malformed."],
            )
        return True

    def list_grants(self, req: Request, caller: Caller, app: str) -> Response:
        """GET /api/v1/apps/{appId}/grants (creation order; ``expand=scope``)."""
        self.require_role(caller, {"SUPER_ADMIN"})
        a = self.org.get_app(app)
        embed = self._expand_scope(req)
        return json_response(
            200, [grant_json(self.org, a, g, embed_scope=embed) for g in a.grants]
        )

    def get_grant(self, req: Request, caller: Caller, app: str, grant: str) -> Response:
        """GET /api/v1/apps/{appId}/grants/{grantId}."""
        self.require_role(caller, {"SUPER_ADMIN"})
        a = self.org.get_app(app)
        embed = self._expand_scope(req)
        return json_response(
            200,
            grant_json(self.org, a, self.org.get_grant(a, grant), embed_scope=embed),
        )

    def create_grant(self, req: Request, caller: Caller, app: str) -> Response:
        """POST /api/v1/apps/{appId}/grants: answers 200 (as Okta really does), not 201."""
        self.require_role(caller, {"SUPER_ADMIN"})
        a = self.org.get_app(app)
        data = parse_json_body(req)
        if not isinstance(data, dict):
            raise HttpError(400, "E0000003", "The request body was not well-formed.")
        causes = [
            f"{f}: The field cannot be left blank."
            for f in ("issuer", "scopeId")
            if not isinstance(data.get(f), str) or not data.get(f)
        ]
        if causes:
            raise HttpError(
                400,
                "E0000001",
                "Api validation failed: " + ", ".join(c.split(":")[0] for c in causes),
                causes,
            )
        g = self.org.grant(
            a,
            data["scopeId"],
            self.actor_of(caller),
            issuer=data["issuer"],
            request_id=req.request_id,
            request_uri=req.path,
            **self.via(caller),
        )
        return json_response(200, grant_json(self.org, a, g, embed_scope=True))

    def delete_grant(
        self, req: Request, caller: Caller, app: str, grant: str
    ) -> Response:
        """DELETE /api/v1/apps/{appId}/grants/{grantId}: 204, the grant is gone."""
        self.require_role(caller, {"SUPER_ADMIN"})
        a = self.org.get_app(app)
        g = self.org.get_grant(a, grant)
        self.org.revoke(
            a,
            g,
            self.actor_of(caller),
            request_id=req.request_id,
            request_uri=req.path,
            **self.via(caller),
        )
        return Response(204, b"", [], None)

    # --- users -----------------------------------------------------------------------
    def get_user(self, req: Request, caller: Caller, user: str) -> Response:
        """GET /api/v1/users/{id} (``getUser``): by id or login; ``me`` is the
        calling user (any user, admin or not); anyone else needs an admin role."""
        if user == "me" and caller.user is not None:
            return json_response(200, user_json(self.org, caller.user))
        self.require_role(caller, ADMIN_ROLES)
        u = self.org.users.get(user) or self.org.users_by_login.get(user.lower())
        if u is None:
            raise HttpError(
                404, "E0000007", f"Not found: Resource not found: {user} (User)"
            )
        return json_response(200, user_json(self.org, u))

    # --- roles -----------------------------------------------------------------------
    def list_user_roles(self, req: Request, caller: Caller, user: str) -> Response:
        """GET /api/v1/users/{userId}/roles (id or login)."""
        self.require_role(caller, ADMIN_ROLES)
        u = self.org.users.get(user) or self.org.users_by_login.get(user.lower())
        if u is None:
            raise HttpError(
                404, "E0000007", f"Not found: Resource not found: {user} (User)"
            )
        return json_response(200, user_roles_json(self.org, u))

    def list_client_roles(self, req: Request, caller: Caller, client: str) -> Response:
        """GET /oauth2/v1/clients/{clientId}/roles: the service app's admin roles."""
        return self.client_roles.list_client_roles(req, caller, client)

    # --- System Log ------------------------------------------------------------------
    def list_logs(self, req: Request, caller: Caller) -> Response:
        """GET /api/v1/logs: polling (ascending, no ``until``) always links ``next``."""
        self.require_role(caller, LOG_READER_ROLES)
        q = req.query
        now = self.org.clock.now()
        page = logquery.query(self.org.events, q, now)
        body = json.dumps(
            [event_json(self.org, e) for e in page.events], separators=(",", ":")
        ).encode()
        base = f"{self.org.url}{req.path}"
        headers = [
            (
                "Link",
                f'<{base}{"?" + req.raw_query if req.raw_query else ""}>; rel="self"',
            )
        ]
        if page.next_params is not None:
            headers.append(
                (
                    "Link",
                    f"<{base}?{urlencode(page.next_params, quote_via=quote)}>; "
                    'rel="next"',
                )
            )
        return Response(200, body, headers)


def parse_json_body(req: Request):
    """The JSON body of a write, else HttpError (411 no body, 415 not JSON, 400 bad JSON)."""
    if not req.body:
        if "content-length" not in req.headers:
            raise HttpError(
                411,
                "E0000003",
                "The request body was not well-formed.",
                ["Content-Length: A request body with a Content-Length is required."],
            )
        raise HttpError(400, "E0000003", "The request body was not well-formed.")
    if req.content_type != "application/json":
        raise HttpError(
            415,
            "E0000001",
            "Api validation failed: Content-Type",
            [
                f"Content-Type: The media type '{req.content_type or 'none'}' is not "
                "supported; send application/json."
            ],
        )
    try:
        return json.loads(req.body)
    except (ValueError, UnicodeDecodeError):
        raise HttpError(
            400, "E0000003", "The request body was not well-formed."
        ) from None
