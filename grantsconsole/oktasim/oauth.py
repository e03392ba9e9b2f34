"""The Org Authorization Server (issuer = the org URL, endpoints under /oauth2/v1/).

Follows docs/okta-api.md §7: discovery, ``/authorize`` with a login page
(``state``, ``nonce``, PKCE S256, ``max_age``, ``prompt``, exact ``redirect_uri``),
``/token`` (authorization_code + PKCE, refresh_token with ``offline_access``,
client_credentials with private_key_jwt), ``/keys``, ``/userinfo``, ``/revoke``,
``/introspect``, ``/logout``. Access tokens are RS256 JWTs living 3600 s with
``ver, jti, iss, aud (= org URL), iat, exp, cid, uid, scp, sub``; ID tokens carry
``aud`` = client_id, ``nonce``, ``auth_time``, ``amr``.

Scopes: a requested ``okta.*``/``ssf.*`` scope outside the app's grant collection is
dropped (silent downscoping of the request, §7.7); a granted scope is issued
whatever the user's admin role (the API call then fails with 403 E0000006).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .state import App, Org, RefreshToken, User
from .web import OAuthError, Request, Response, html_response, json_response, redirect

ACCESS_TOKEN_TTL = 3600
ID_TOKEN_TTL = 3600
REFRESH_TOKEN_TTL = 90 * 86400
CODE_TTL = 300
ASSERTION_MAX_AHEAD = 3600
MFA_CODE = "123456"  # the demo org's verification code (any user)

OIDC_SCOPES = {
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
    "groups",
}
SESSION_COOKIE = "oktasim_sid"


@dataclass(slots=True)
class Caller:
    """Who called /api/v1: a user (OAuth or SSWS) or a service app client."""

    kind: str  # "user" | "client"
    user: User | None
    app: App | None
    scopes: frozenset[str] | None  # None for SSWS (no scope check)
    via: str  # "bearer" | "ssws"

    @property
    def role_types(self) -> set[str]:
        if self.user is not None:
            return self.user.role_types if self.user.status == "ACTIVE" else set()
        return self.app.role_types if self.app is not None else set()

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.login
        return self.app.client_id if self.app else "anonymous"


@dataclass(slots=True)
class AuthCode:
    """An issued authorization code (single use, CODE_TTL seconds)."""

    client_id: str
    redirect_uri: str
    user_id: str
    scopes: list[str]
    nonce: str | None
    code_challenge: str | None
    auth_time: int
    amr: list[str]
    expires: float
    requested: list[str] = field(default_factory=list)  # as asked at /authorize


@dataclass(slots=True)
class Session:
    """A signed-in browser session (cookie ``oktasim_sid``); auth_time in epoch s."""

    user_id: str
    auth_time: int
    amr: list[str] = field(default_factory=list)


def client_auth_type(req: Request, form: dict[str, str]) -> str:
    """How an authenticated client proved itself at /token, in the words of the
    System Log's ``clientAuthType``."""
    if req.headers.get("authorization", "").lower().startswith("basic "):
        return "client_secret_basic"
    if "client_assertion" in form:
        return "private_key_jwt"
    if "client_secret" in form:
        return "client_secret_post"
    return "none"


class OrgAuthServer:
    """Token minting and the /oauth2/v1 endpoints over one :class:`Org`."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pub = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        thumb = hashlib.sha256(
            f'{{"e":"{pub["e"]}","kty":"RSA","n":"{pub["n"]}"}}'.encode()
        ).digest()
        self.kid = base64.urlsafe_b64encode(thumb).rstrip(b"=").decode()
        self.jwks = {
            "keys": [
                {
                    "kty": "RSA",
                    "alg": "RS256",
                    "kid": self.kid,
                    "use": "sig",
                    "e": pub["e"],
                    "n": pub["n"],
                }
            ]
        }
        self.public_key = self.key.public_key()
        self.reset_state()

    def reset_state(self) -> None:
        """Forget codes, sessions, revocations, assertion jtis (refresh tokens live
        in the org, so a reset org starts with its seeded ones)."""
        self.codes: dict[str, AuthCode] = {}
        self.sessions: dict[str, Session] = {}
        self.revoked_jtis: set[str] = set()
        self.assertion_jtis: dict[str, float] = {}
        self._verified: dict[str, dict[str, Any]] = {}

    # --- URLs ----------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return self.org.url

    @property
    def token_url(self) -> str:
        return f"{self.org.url}/oauth2/v1/token"

    def discovery(self) -> dict[str, Any]:
        """The Org AS metadata document (OAUTHSPEC ``OrgASOidcMetadata``)."""
        b = self.org.url
        return {
            "issuer": b,
            "authorization_endpoint": f"{b}/oauth2/v1/authorize",
            "token_endpoint": f"{b}/oauth2/v1/token",
            "userinfo_endpoint": f"{b}/oauth2/v1/userinfo",
            "registration_endpoint": f"{b}/oauth2/v1/clients",
            "jwks_uri": f"{b}/oauth2/v1/keys",
            "response_types_supported": [
                "code",
                "id_token",
                "code id_token",
                "code token",
                "id_token token",
                "code id_token token",
            ],
            "response_modes_supported": [
                "query",
                "fragment",
                "form_post",
                "okta_post_message",
            ],
            "grant_types_supported": [
                "authorization_code",
                "implicit",
                "refresh_token",
                "password",
                "client_credentials",
                "urn:ietf:params:oauth:grant-type:device_code",
            ],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": sorted(OIDC_SCOPES),
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "client_secret_jwt",
                "private_key_jwt",
                "none",
            ],
            "claims_supported": [
                "iss",
                "ver",
                "sub",
                "aud",
                "iat",
                "exp",
                "jti",
                "auth_time",
                "amr",
                "idp",
                "nonce",
                "name",
                "nickname",
                "preferred_username",
                "given_name",
                "family_name",
                "email",
                "email_verified",
                "locale",
                "zoneinfo",
                "updated_at",
                "at_hash",
            ],
            "code_challenge_methods_supported": ["S256"],
            "introspection_endpoint": f"{b}/oauth2/v1/introspect",
            "introspection_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "client_secret_jwt",
                "private_key_jwt",
                "none",
            ],
            "revocation_endpoint": f"{b}/oauth2/v1/revoke",
            "revocation_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "client_secret_jwt",
                "private_key_jwt",
                "none",
            ],
            "end_session_endpoint": f"{b}/oauth2/v1/logout",
            "request_parameter_supported": True,
            "request_object_signing_alg_values_supported": ["HS256", "RS256"],
            "device_authorization_endpoint": f"{b}/oauth2/v1/device/authorize",
        }

    # --- tokens --------------------------------------------------------------------
    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, self.key, algorithm="RS256", headers={"kid": self.kid}
        )

    def mint_access_token(
        self,
        app: App,
        user: User | None,
        scopes: list[str],
        auth_time: int | None = None,
        jti: str | None = None,
    ) -> str:
        """An RS256 access token for ``app`` (and ``user``) with ``scp`` = scopes."""
        now = int(self.org.clock.now())
        claims: dict[str, Any] = {
            "ver": 1,
            "jti": jti or "AT." + secrets.token_urlsafe(32),
            "iss": self.issuer,
            "aud": self.issuer,
            "iat": now,
            "exp": now + ACCESS_TOKEN_TTL,
            "cid": app.client_id,
            "scp": list(scopes),
        }
        if user is not None:
            claims["uid"] = user.id
            claims["sub"] = user.login
            claims["auth_time"] = auth_time if auth_time is not None else now
        else:
            claims["sub"] = app.client_id
        return self._sign(claims)

    def mint_id_token(
        self,
        app: App,
        user: User,
        scopes: list[str],
        nonce: str | None,
        auth_time: int,
        amr: list[str],
    ) -> str:
        """An RS256 ID token: aud = client_id, nonce, auth_time, amr, profile/email
        claims, and ``groups`` when the ``groups`` scope was granted and the app
        has a groups claim filter."""
        now = int(self.org.clock.now())
        claims: dict[str, Any] = {
            "sub": user.id,
            "ver": 1,
            "iss": self.issuer,
            "aud": app.client_id,
            "iat": now,
            "exp": now + ID_TOKEN_TTL,
            "jti": "ID." + secrets.token_urlsafe(32),
            "amr": list(amr),
            "idp": "00o1simorg000000000h7",
            "auth_time": auth_time,
        }
        if nonce:
            claims["nonce"] = nonce
        if "mfa" in amr:
            claims["acr"] = "urn:okta:loa:2fa:any"
        claims.update(self.user_claims(user, scopes))
        if "groups" in scopes and app.groups_claim_filter:
            # The app's "Groups claim filter" (Sign On tab), "Matches regex":
            # the Org AS puts it in the ID token only, never the access token.
            claims["groups"] = [
                g for g in user.groups if re.fullmatch(app.groups_claim_filter, g)
            ]
        return self._sign(claims)

    def user_claims(self, user: User, scopes: list[str]) -> dict[str, Any]:
        """The profile/email claims the granted OIDC scopes release."""
        out: dict[str, Any] = {}
        if "profile" in scopes:
            out.update(
                name=user.display_name,
                given_name=user.first_name,
                family_name=user.last_name,
                preferred_username=user.login,
                nickname=user.first_name,
                locale="en_US",
                zoneinfo="America/Los_Angeles",
                updated_at=int(user.created),
            )
        if "email" in scopes:
            out.update(email=user.login, email_verified=True)
        return out

    def verify_access_token(self, token: str) -> dict[str, Any] | None:
        """Claims of a valid, unexpired, unrevoked access token from this server."""
        claims = self._verified.get(token)
        if claims is None:
            try:
                claims = jwt.decode(
                    token,
                    self.public_key,
                    algorithms=["RS256"],
                    audience=self.issuer,
                    issuer=self.issuer,
                    options={
                        "verify_exp": False,
                        "verify_iat": False,
                        "verify_nbf": False,
                    },
                )
            except jwt.PyJWTError:
                return None
            if not str(claims.get("jti", "")).startswith("AT."):
                return None
            if len(self._verified) > 50000:
                self._verified.clear()
            self._verified[token] = claims
        if claims["exp"] <= self.org.clock.now() or claims["jti"] in self.revoked_jtis:
            return None
        return claims

    # --- scopes --------------------------------------------------------------------
    def filter_scopes(
        self,
        app: App,
        requested: list[str],
        grant_type: str = "",
        client_auth: str = "",
        published: float | None = None,
    ) -> list[str]:
        """Drop ungranted okta.*/ssf.* scopes (silent downscoping); OAuthError
        invalid_scope for unknown ones, and when nothing is left. With a
        ``grant_type`` (a real /authorize or /token request, not the control
        surface's mint), a request naming only scopes outside the grant
        collection is also logged as a FAILURE with ``outcome.reason``
        ``no_matching_scope`` (see DEVIATIONS.md), at ``published`` (default now;
        the activity generator back-dates)."""
        granted = app.granted_scopes()
        out = []
        for s in requested:
            if s in OIDC_SCOPES:
                out.append(s)
            elif s.startswith(("okta.", "ssf.")):
                if s in granted:
                    out.append(s)
            else:
                raise OAuthError(
                    400,
                    "invalid_scope",
                    "One or more scopes are not configured for the authorization "
                    "server resource.",
                )
        if not out:
            if requested and grant_type:
                # /authorize checks scopes before anyone signs in.
                self.log_token_grant(
                    app,
                    None,
                    requested,
                    [],
                    grant_type,
                    client_auth,
                    denied=True,
                    published=published,
                    request_uri="/oauth2/v1/authorize"
                    if grant_type == "authorization_code"
                    else "/oauth2/v1/token",
                )
            raise OAuthError(
                400,
                "invalid_scope",
                "The requested scope is invalid, unknown, or malformed.",
            )
        return list(dict.fromkeys(out))

    # --- redirect URIs --------------------------------------------------------------
    @staticmethod
    def redirect_allowed(app: App, uri: str) -> bool:
        """Exact match, or (console app only) any loopback port with a registered path."""
        if uri in app.redirect_uris:
            return True
        return app.loopback_any_port and OrgAuthServer._loopback_match(
            app.redirect_uris, uri
        )

    @staticmethod
    def _loopback_match(registered: list[str], uri: str) -> bool:
        u = urlsplit(uri)
        if (
            u.scheme != "http"
            or u.hostname not in ("127.0.0.1", "localhost")
            or u.query
        ):
            return False
        return any(urlsplit(r).path == u.path for r in registered)

    # --- /authorize -----------------------------------------------------------------
    def authorize(self, req: Request) -> Response:
        """GET/POST /oauth2/v1/authorize: login page, or a redirect with code/error."""
        params = dict(req.query)
        login: dict[str, str] | None = None
        if (
            req.method == "POST"
            and req.content_type == "application/x-www-form-urlencoded"
        ):
            form = req.form()
            if req.path.endswith("/login"):
                login = {
                    k: form.pop(k, "") for k in ("username", "password", "passcode")
                }
            params.update(form)
        client_id = params.get("client_id", "")
        app = self.org.apps_by_client_id.get(client_id)
        if app is None or not app.is_oidc or app.status != "ACTIVE":
            return self._error_page(
                400, "invalid_client", "The client_id parameter is invalid or missing."
            )
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri or not self.redirect_allowed(app, redirect_uri):
            return self._error_page(
                400,
                "invalid_request",
                "The 'redirect_uri' parameter must be a Login redirect URI in the client app "
                "settings.",
            )
        state = params.get("state")
        mode = params.get("response_mode", "query")

        def fail(error: str, desc: str) -> Response:
            return self._deliver(
                redirect_uri,
                mode,
                {
                    "error": error,
                    "error_description": desc,
                    **({"state": state} if state else {}),
                },
            )

        if params.get("response_type") != "code":
            return fail(
                "unsupported_response_type",
                "The response type is not supported by the authorization server. "
                "Configured response types: [code].",
            )
        if app.kind == "service":
            return fail(
                "unauthorized_client",
                "The client is not authorized to use the provided grant type.",
            )
        if not state:
            return fail(
                "invalid_request",
                "The authentication request has an invalid 'state' parameter.",
            )
        try:
            requested = params.get("scope", "").split()
            scopes = self.filter_scopes(
                app, requested, "authorization_code", app.token_endpoint_auth_method
            )
        except OAuthError as e:
            return fail(e.error, e.description)
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method")
        if challenge is None and app.pkce_required:
            return fail(
                "invalid_request",
                "PKCE code challenge is required when the token "
                "endpoint authentication method is 'NONE'."
                if app.token_endpoint_auth_method == "none"
                else "PKCE code challenge is required for this client.",
            )
        if challenge is not None and method != "S256":
            return fail("invalid_request", "PKCE code challenge method must be 'S256'.")
        if challenge is not None and not (43 <= len(challenge) <= 128):
            return fail(
                "invalid_request",
                "PKCE code challenge must be between 43 and 128 characters.",
            )
        prompt = params.get("prompt", "")
        max_age = params.get("max_age")
        session = self.sessions.get(req.cookies.get(SESSION_COOKIE, ""))
        now = int(self.org.clock.now())
        need_login = session is None or "login" in prompt.split()
        if session is not None and max_age not in (None, ""):
            try:
                limit = int(max_age)
                if limit == 0 or now - session.auth_time > limit:
                    need_login = True
            except ValueError:
                return fail("invalid_request", "The 'max_age' parameter is invalid.")
        wants_mfa = "2fa" in params.get("acr_values", "")
        if session is not None and wants_mfa and "mfa" not in session.amr:
            need_login = True
        if need_login:
            if "none" in prompt.split():
                return fail(
                    "login_required",
                    "The client specified not to prompt, but the "
                    "user is not logged in.",
                )
            if login is None:
                return self._login_page(params, wants_mfa=wants_mfa)
            user = self.org.users_by_login.get(
                login.get("username", "").strip().lower()
            )
            if (
                user is None
                or user.password != login.get("password")
                or user.status != "ACTIVE"
            ):
                return self._login_page(
                    params, error="Unable to sign in", wants_mfa=wants_mfa
                )
            amr = ["pwd"]
            code = login.get("passcode", "").strip()
            if code:
                if code != MFA_CODE:
                    return self._login_page(
                        params, error="Invalid code. Try again.", wants_mfa=wants_mfa
                    )
                amr = ["pwd", "otp", "mfa"]
            elif wants_mfa:
                return self._login_page(
                    params, error="Enter the verification code.", wants_mfa=True
                )
            sid = secrets.token_urlsafe(24)
            session = Session(user.id, now, amr)
            self.sessions[sid] = session
            set_cookie = [
                (
                    "Set-Cookie",
                    f"{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax",
                )
            ]
        else:
            set_cookie = []
        code = secrets.token_urlsafe(32)
        self.codes[code] = AuthCode(
            client_id=app.client_id or app.id,
            redirect_uri=redirect_uri,
            user_id=session.user_id,
            scopes=scopes,
            nonce=params.get("nonce"),
            code_challenge=challenge,
            auth_time=session.auth_time,
            amr=session.amr,
            expires=now + CODE_TTL,
            requested=requested,
        )
        resp = self._deliver(
            redirect_uri, mode, {"code": code, **({"state": state} if state else {})}
        )
        resp.headers.extend(set_cookie)
        return resp

    def _deliver(
        self, redirect_uri: str, mode: str, params: dict[str, str]
    ) -> Response:
        if mode == "form_post":
            inputs = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in params.items()
            )
            return html_response(
                200,
                f'<!doctype html><html><body onload="document.forms[0].submit()">'
                f'<form method="post" action="{html.escape(redirect_uri)}">{inputs}'
                f"<noscript><button>Continue</button></noscript></form></body></html>",
            )
        sep = "#" if mode == "fragment" else ("&" if "?" in redirect_uri else "?")
        return redirect(redirect_uri + sep + urlencode(params))

    def _error_page(self, status: int, error: str, desc: str) -> Response:
        return html_response(
            status,
            "<!doctype html><html><head><title>Error</title></head><body>"
            f'<h1>{html.escape(error)}</h1><p id="error-description">{html.escape(desc)}</p>'
            "</body></html>",
        )

    def _login_page(
        self, params: dict[str, str], error: str | None = None, wants_mfa: bool = False
    ) -> Response:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
        )
        err = (
            f'<p class="okta-form-infobox-error" role="alert">{html.escape(error)}</p>'
            if error
            else ""
        )
        mfa_hint = (
            "(required)" if wants_mfa else f"(optional; the demo code is {MFA_CODE})"
        )
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign In - Okta (simulator)</title></head>
<body><main><h1>Sign In</h1><p>Okta org simulator: {html.escape(self.org.url)}</p>{err}
<form method="post" action="/oauth2/v1/authorize/login" id="form19">{hidden}
<label for="okta-signin-username">Username</label>
<input id="okta-signin-username" name="username" type="text" autocomplete="username" autofocus
 value="{html.escape(params.get("login_hint", ""))}">
<label for="okta-signin-password">Password</label>
<input id="okta-signin-password" name="password" type="password"
 autocomplete="current-password">
<label for="okta-signin-passcode">Verification code {mfa_hint}</label>
<input id="okta-signin-passcode" name="passcode" type="text" autocomplete="one-time-code">
<input id="okta-signin-submit" type="submit" value="Sign In">
</form></main></body></html>"""
        return html_response(
            401 if error else 200, page, [("Cache-Control", "no-cache, no-store")]
        )

    # --- /token ----------------------------------------------------------------------
    def authenticate_client(self, req: Request, form: dict[str, str]) -> App:
        """The ACTIVE app authenticated by this token/revoke/introspect request, else
        OAuthError 401 invalid_client."""
        app = self._authenticate_client(req, form)
        if app.status != "ACTIVE":
            raise OAuthError(401, "invalid_client", "The client is not active.")
        return app

    def _authenticate_client(self, req: Request, form: dict[str, str]) -> App:
        """Client authentication: client_secret_basic/post, private_key_jwt, or none."""
        bad = OAuthError(
            401,
            "invalid_client",
            "Client authentication failed. Either the "
            "client or the client credentials are invalid.",
        )
        auth = req.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                raw = base64.b64decode(auth[6:].strip()).decode()
            except ValueError:
                raise bad from None
            from urllib.parse import unquote_plus

            cid, _, secret = raw.partition(":")
            cid, secret = unquote_plus(cid), unquote_plus(secret)
            app = self.org.apps_by_client_id.get(cid)
            if (
                app is None
                or not app.client_secret
                or not secrets.compare_digest(app.client_secret, secret)
            ):
                raise bad
            return app
        if (
            form.get("client_assertion_type")
            == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return self._verify_assertion(
                form.get("client_assertion", ""), form.get("client_id")
            )
        cid = form.get("client_id", "")
        app = self.org.apps_by_client_id.get(cid)
        if app is None:
            raise bad
        if "client_secret" in form:
            if not app.client_secret or not secrets.compare_digest(
                app.client_secret, form["client_secret"]
            ):
                raise bad
            return app
        if app.token_endpoint_auth_method == "none":
            return app
        raise bad

    def _verify_assertion(self, assertion: str, client_id: str | None) -> App:
        """private_key_jwt: signature vs the app's JWKS, iss=sub=client_id, aud=token URL,
        exp at most 1 h ahead (real UTC clock), jti not reused."""

        def bad(desc: str) -> OAuthError:
            return OAuthError(401, "invalid_client", desc)

        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise bad("The client_assertion is not a valid JWT.") from None
        iss = unverified.get("iss")
        app = self.org.apps_by_client_id.get(str(iss))
        if app is None or (client_id and client_id != iss):
            raise bad("The client_assertion token has an invalid issuer.")
        if unverified.get("sub") != iss:
            raise bad(
                "The client_assertion token has an invalid subject; it must equal the "
                "client_id."
            )
        alg = header.get("alg")
        if alg not in ("RS256", "RS384", "RS512"):
            raise bad(
                f"The client_assertion signature algorithm '{alg}' is not supported."
            )
        keys = [k for k in app.jwks if k.get("status", "ACTIVE") == "ACTIVE"]
        if header.get("kid"):
            keys = [k for k in keys if k.get("kid") == header["kid"]]
        if not keys:
            # Okta's words (support.okta.com "Okta Client Assertion Error:
            # Invalid Key ID"): the same 401 for an unknown kid and for an app
            # without a public key.
            raise bad("The client_assertion JWT kid is invalid.")
        claims = None
        for k in keys:
            try:
                pub = RSAAlgorithm.from_jwk({"kty": "RSA", "n": k["n"], "e": k["e"]})
                claims = jwt.decode(
                    assertion,
                    pub,
                    algorithms=[alg],
                    options={
                        "verify_aud": False,
                        "verify_exp": False,
                        "verify_iat": False,
                        "verify_nbf": False,
                    },
                )
                break
            except jwt.PyJWTError:
                continue
        if claims is None:
            raise bad("The client_assertion signature is invalid.")
        if claims.get("aud") != self.token_url and claims.get("aud") != [
            self.token_url
        ]:
            raise bad(f"The audience of the client_assertion must be {self.token_url}.")
        now = time.time()
        exp = claims.get("exp")
        if not isinstance(exp, int | float):
            raise bad("The client_assertion token must have an 'exp' claim.")
        if exp <= now:
            raise bad("The client_assertion token is expired.")
        if exp > now + ASSERTION_MAX_AHEAD + 30:
            raise bad(
                "The client_assertion token has an expiration too far in the future."
            )
        jti = claims.get("jti")
        if jti is not None:
            for j, t in list(self.assertion_jtis.items()):
                if t < now:
                    del self.assertion_jtis[j]
            if jti in self.assertion_jtis:
                raise bad("The client_assertion token has already been used.")
            self.assertion_jtis[jti] = float(exp)
        return app

    def token(self, req: Request) -> Response:
        """POST /oauth2/v1/token."""
        if req.method != "POST":
            raise OAuthError(
                405,
                "invalid_request",
                "The endpoint does not support the provided HTTP method.",
            )
        if req.content_type != "application/x-www-form-urlencoded":
            raise OAuthError(
                400,
                "invalid_request",
                "The request must use Content-Type application/x-www-form-urlencoded.",
            )
        form = req.form()
        grant_type = form.get("grant_type", "")
        if not grant_type:
            raise OAuthError(
                400, "invalid_request", "The 'grant_type' parameter is required."
            )
        app = self.authenticate_client(req, form)
        req.caller = app.client_id or app.id
        auth = client_auth_type(req, form)
        if grant_type == "client_credentials":
            return self._client_credentials(app, form)
        if grant_type == "authorization_code":
            return self._authorization_code(app, form, auth)
        if grant_type == "refresh_token":
            return self._refresh(app, form, auth)
        raise OAuthError(
            400,
            "unsupported_grant_type",
            "The authorization grant type is not "
            "supported by the authorization server. Configured grant types: "
            f"{app.grant_types}.",
        )

    def _client_credentials(self, app: App, form: dict[str, str]) -> Response:
        if app.kind != "service":
            raise OAuthError(
                400,
                "invalid_client",
                "Only clients with 'application_type' of "
                "'service' may use the client_credentials 'grant_type' with the "
                "Org Authorization Server.",
            )
        if "client_assertion" not in form:
            raise OAuthError(
                401,
                "invalid_client",
                "Client Credentials requests to the Org "
                "Authorization Server must use the private_key_jwt "
                "token_endpoint_auth_method.",
            )
        requested = form.get("scope", "").split()
        if not requested:
            raise OAuthError(
                400,
                "invalid_scope",
                "The requested scope is invalid, unknown, or malformed.",
            )
        if "openid" in requested or any(s in OIDC_SCOPES for s in requested):
            raise OAuthError(
                400,
                "invalid_scope",
                "The following scopes are not allowed: "
                f"{[s for s in requested if s in OIDC_SCOPES]}.",
            )
        if any(s.endswith(".self") for s in requested):
            raise OAuthError(
                400,
                "invalid_scope",
                "Client Credentials requests cannot request '.self' scopes.",
            )
        scopes = self.filter_scopes(
            app, requested, "client_credentials", "private_key_jwt"
        )
        self.log_token_grant(
            app, None, requested, scopes, "client_credentials", "private_key_jwt"
        )
        return json_response(
            200,
            {
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_TTL,
                "access_token": self.mint_access_token(app, None, scopes),
                "scope": " ".join(scopes),
            },
            [("Cache-Control", "no-store"), ("Pragma", "no-cache")],
        )

    def _authorization_code(
        self, app: App, form: dict[str, str], client_auth: str
    ) -> Response:
        code = self.codes.pop(form.get("code", ""), None)
        now = self.org.clock.now()
        if (
            code is None
            or code.expires < now
            or code.client_id != (app.client_id or app.id)
        ):
            raise OAuthError(
                400,
                "invalid_grant",
                "The authorization code is invalid or has expired.",
            )
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError(
                400,
                "invalid_grant",
                "The 'redirect_uri' does not match the "
                "redirection URI used in the authorization request.",
            )
        verifier = form.get("code_verifier")
        if code.code_challenge is not None:
            if not verifier:
                raise OAuthError(
                    400,
                    "invalid_request",
                    "PKCE code verifier is required when "
                    "PKCE code challenge is present.",
                )
            digest = base64.urlsafe_b64encode(
                hashlib.sha256(verifier.encode()).digest()
            )
            if digest.rstrip(b"=").decode() != code.code_challenge:
                raise OAuthError(400, "invalid_grant", "PKCE verification failed.")
        elif verifier:
            raise OAuthError(
                400,
                "invalid_request",
                "PKCE code verifier was sent without a "
                "code challenge in the authorization request.",
            )
        user = self.org.users.get(code.user_id)
        if user is None or user.status != "ACTIVE":
            raise OAuthError(400, "invalid_grant", "The user is not active.")
        return self._issue(
            app,
            user,
            code.scopes,
            code.nonce,
            code.auth_time,
            code.amr,
            refresh=None,
            grant_type="authorization_code",
            requested=code.requested or code.scopes,
            client_auth=client_auth,
        )

    def _issue(
        self,
        app: App,
        user: User,
        scopes: list[str],
        nonce: str | None,
        auth_time: int,
        amr: list[str],
        refresh: str | None,
        grant_type: str,
        log: bool = True,
        requested: list[str] | None = None,
        client_auth: str = "",
    ) -> Response:
        """The token response; records a refresh token when ``offline_access`` was
        granted and, unless ``log`` is False (the control surface's mint), writes
        the issuance to the System Log: ``app.oauth2.token.grant.access_token``,
        and ``.refresh_token`` when a new refresh token is minted (``requested``:
        the scopes the client asked for, default ``scopes``; ``client_auth``: how
        it authenticated, default the app's configured method)."""
        new_refresh = False
        jti = "AT." + secrets.token_urlsafe(32)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_TTL,
            "access_token": self.mint_access_token(app, user, scopes, auth_time, jti),
            "scope": " ".join(scopes),
        }
        if "offline_access" in scopes and "refresh_token" in app.grant_types:
            if refresh is None:
                new_refresh = True
                refresh = secrets.token_urlsafe(32)
                now = self.org.clock.now()
                self.org.refresh_tokens[refresh] = RefreshToken(
                    id=self.org.ids.make("oar"),
                    client_id=app.client_id or app.id,
                    user_id=user.id,
                    scopes=scopes,
                    auth_time=auth_time,
                    amr=amr,
                    created=float(int(now)),
                    expires=float(int(now)) + REFRESH_TOKEN_TTL,
                )
            # Ends with the refresh token when the app's tokens are revoked.
            self.org.refresh_tokens[refresh].access_jtis.add(jti)
            body["refresh_token"] = refresh
        if log:
            asked = scopes if requested is None else requested
            auth = client_auth or app.token_endpoint_auth_method
            self.log_token_grant(app, user, asked, scopes, grant_type, auth)
            if new_refresh:
                self.log_token_grant(
                    app, user, asked, scopes, grant_type, auth, kind="refresh_token"
                )
        if "openid" in scopes:
            body["id_token"] = self.mint_id_token(
                app, user, scopes, nonce, auth_time, amr
            )
        return json_response(
            200, body, [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        )

    def log_token_grant(
        self,
        app: App,
        user: User | None,
        requested: list[str],
        granted: list[str],
        grant_type: str,
        client_auth: str,
        *,
        kind: str = "access_token",
        denied: bool = False,
        published: float | None = None,
        request_uri: str = "/oauth2/v1/token",
    ) -> None:
        """System Log ``app.oauth2.token.grant.<kind>`` (``access_token`` or
        ``refresh_token``) for one token the Org AS issued, or, with ``denied``,
        the FAILURE (``no_matching_scope``) of a request for scopes the app does
        not hold. ``debugData`` carries the keys observed in real events
        (``grantedScopes`` / ``requestedScopes`` as ", "-joined strings; see
        DEVIATIONS.md). Actor: the user, else the client as ``PublicClientApp``
        (the user is the actor only when there is one, with the client as
        target); ``client.id`` is the client in both cases. ``published``
        back-dates the event (activity history); default now."""
        actor = (
            self.org.user_actor(user)
            if user is not None
            else self.org.client_actor(app)
        )
        cid = app.client_id or app.id
        debug = {
            "requestedScopes": ", ".join(requested),
            "grantType": grant_type,
            "clientAuthType": client_auth,
        }
        if not denied:
            debug = {"grantedScopes": ", ".join(granted), **debug}
        self.org.log(
            f"app.oauth2.token.grant.{kind}",
            "OAuth2 refresh token is granted"
            if kind == "refresh_token"
            else "OAuth2 access token is granted",
            actor,
            ((cid, "PublicClientApp", cid, app.label),),
            request_uri=request_uri,
            debug_data=debug,
            client_id=cid,
            outcome="FAILURE" if denied else "SUCCESS",
            severity="WARN" if denied else "INFO",
            reason="no_matching_scope" if denied else None,
            published=published,
        )

    def _refresh(self, app: App, form: dict[str, str], client_auth: str) -> Response:
        rt = self.org.refresh_tokens.get(form.get("refresh_token", ""))
        if (
            rt is None
            or rt.expires < self.org.clock.now()
            or rt.client_id != (app.client_id or app.id)
        ):
            raise OAuthError(
                400, "invalid_grant", "The refresh token is invalid or expired."
            )
        scopes = rt.scopes
        if form.get("scope"):
            asked = form["scope"].split()
            if not set(asked) <= set(rt.scopes):
                raise OAuthError(
                    400,
                    "invalid_scope",
                    "The requested scope is invalid, unknown, or malformed.",
                )
            scopes = asked
        # A scope revoked from the grant collection since sign-in is no longer issued.
        granted = app.granted_scopes()
        scopes = [
            s for s in scopes if not s.startswith(("okta.", "ssf.")) or s in granted
        ]
        user = self.org.users.get(rt.user_id)
        if user is None or user.status != "ACTIVE":
            raise OAuthError(
                400, "invalid_grant", "The refresh token is invalid or expired."
            )
        return self._issue(
            app,
            user,
            scopes,
            None,
            rt.auth_time,
            rt.amr,
            refresh=form["refresh_token"],
            grant_type="refresh_token",
            requested=form["scope"].split() if form.get("scope") else rt.scopes,
            client_auth=client_auth,
        )

    # --- userinfo / revoke / introspect / logout ------------------------------------
    def userinfo(self, req: Request) -> Response:
        """GET/POST /oauth2/v1/userinfo: claims for a token with ``openid``; 401/403 with WWW-Authenticate."""
        auth = req.headers.get("authorization", "")
        claims = (
            self.verify_access_token(auth[7:].strip())
            if auth[:7].lower() == "bearer "
            else None
        )
        realm = (
            f'Bearer authorization_uri="{self.issuer}/oauth2/v1/authorize", '
            f'realm="{self.issuer}"'
        )
        if claims is None:
            return Response(
                401,
                b"",
                [
                    (
                        "WWW-Authenticate",
                        realm + ', error="invalid_token", '
                        'error_description="The access token is invalid."',
                    )
                ],
            )
        if "openid" not in claims.get("scp", []) or "uid" not in claims:
            return Response(
                403,
                b"",
                [
                    (
                        "WWW-Authenticate",
                        realm + ', scope="openid", '
                        'error="insufficient_scope", error_description="The '
                        "access token must provide access to at least one of "
                        'these scopes - openid."',
                    )
                ],
            )
        user = self.org.users.get(claims["uid"])
        if user is None:
            return Response(
                401, b"", [("WWW-Authenticate", realm + ', error="invalid_token"')]
            )
        req.caller = user.login
        return json_response(
            200, {"sub": user.id, **self.user_claims(user, claims["scp"])}
        )

    def revoke(self, req: Request) -> Response:
        """POST /oauth2/v1/revoke (client auth): revokes an access or refresh token; always 200."""
        form = (
            req.form()
            if req.content_type == "application/x-www-form-urlencoded"
            else {}
        )
        app = self.authenticate_client(req, form)
        req.caller = app.client_id or app.id
        token = form.get("token")
        if not token:
            raise OAuthError(
                400, "invalid_request", "The 'token' parameter is required."
            )
        rt = self.org.refresh_tokens.get(token)
        if rt is not None and rt.client_id == (app.client_id or app.id):
            del self.org.refresh_tokens[token]
        else:
            claims = self.verify_access_token(token)
            if claims is not None and claims.get("cid") == app.client_id:
                self.revoked_jtis.add(claims["jti"])
        return Response(200, b"", [], None)

    def introspect(self, req: Request) -> Response:
        """POST /oauth2/v1/introspect (client auth): ``{active, scope, username, exp, …}``."""
        form = (
            req.form()
            if req.content_type == "application/x-www-form-urlencoded"
            else {}
        )
        app = self.authenticate_client(req, form)
        req.caller = app.client_id or app.id
        token = form.get("token", "")
        rt = self.org.refresh_tokens.get(token)
        if rt is not None and rt.expires > self.org.clock.now():
            user = self.org.users.get(rt.user_id)
            return json_response(
                200,
                {
                    "active": True,
                    "token_type": "refresh_token",
                    "scope": " ".join(rt.scopes),
                    "client_id": rt.client_id,
                    "username": user.login if user else None,
                    "exp": int(rt.expires),
                    "sub": user.login if user else None,
                    "uid": rt.user_id,
                    "iss": self.issuer,
                },
            )
        claims = self.verify_access_token(token)
        if claims is None:
            return json_response(200, {"active": False})
        return json_response(
            200,
            {
                "active": True,
                "scope": " ".join(claims["scp"]),
                "username": claims["sub"],
                "exp": claims["exp"],
                "iat": claims["iat"],
                "sub": claims["sub"],
                "aud": claims["aud"],
                "iss": claims["iss"],
                "jti": claims["jti"],
                "token_type": "Bearer",
                "client_id": claims["cid"],
                **({"uid": claims["uid"]} if "uid" in claims else {}),
            },
        )

    def logout(self, req: Request) -> Response:
        """RP-initiated logout: ends the simulator session, redirects if registered."""
        params = dict(req.query)
        if req.method == "POST":
            params.update(req.form())
        sid = req.cookies.get(SESSION_COOKIE, "")
        self.sessions.pop(sid, None)
        clear = [("Set-Cookie", f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly")]
        target = params.get("post_logout_redirect_uri")
        if target:
            hint = params.get("id_token_hint", "")
            try:
                aud = jwt.decode(
                    hint,
                    self.public_key,
                    algorithms=["RS256"],
                    options={
                        "verify_exp": False,
                        "verify_aud": False,
                        "verify_iat": False,
                    },
                )["aud"]
            except jwt.PyJWTError:
                return self._error_page(
                    400, "invalid_request", "The 'id_token_hint' parameter is invalid."
                )
            app = self.org.apps_by_client_id.get(aud)
            if app is None or not (
                target in app.post_logout_redirect_uris
                or (
                    app.loopback_any_port
                    and self._loopback_match(app.post_logout_redirect_uris, target)
                )
            ):
                return self._error_page(
                    400,
                    "invalid_request",
                    "The 'post_logout_redirect_uri' parameter must be a "
                    "Logout redirect URI in the client app settings.",
                )
            if params.get("state"):
                target += ("&" if "?" in target else "?") + urlencode(
                    {"state": params["state"]}
                )
            return redirect(target, clear)
        return html_response(
            200, "<!doctype html><html><body><h1>Signed out</h1></body></html>", clear
        )
