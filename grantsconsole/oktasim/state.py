"""The simulated org's state: users, apps, grants, System Log, tokens, clock.

Plain objects in dicts and lists with indexes (apps sorted by id for cursor paging,
apps by client_id, users by id/login/API token), so no request rescans the org.
Every mutation goes through :class:`Org` methods that also write the System Log,
so API calls and out-of-band (control-surface) changes log identically.

Times are float UTC epoch seconds of the simulator clock (:class:`Clock`), which
tests may move forward; rendering to ISO-8601 happens in :mod:`.shapes`.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

_BASE62_TABLE = bytes(ord(BASE62[i % 62]) for i in range(256))

SCOPES_FILE = Path(__file__).with_name("scopes.txt")


def load_known_scopes() -> frozenset[str]:
    """The Okta API scopes this org accepts in grants (``scopes.txt``)."""
    names = []
    for line in SCOPES_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.append(line)
    return frozenset(names)


KNOWN_SCOPES = load_known_scopes()

# Role type -> Okta's label (Admin Console names).
ROLE_LABELS = {
    "SUPER_ADMIN": "Super Administrator",
    "ORG_ADMIN": "Organization Administrator",
    "APP_ADMIN": "Application Administrator",
    "READ_ONLY_ADMIN": "Read Only Administrator",
    "USER_ADMIN": "User Administrator",
    "HELP_DESK_ADMIN": "Help Desk Administrator",
    "GROUP_MEMBERSHIP_ADMIN": "Group Membership Administrator",
    "API_ACCESS_MANAGEMENT_ADMIN": "API Access Management Administrator",
    "REPORT_ADMIN": "Report Administrator",
    "MOBILE_ADMIN": "Mobile Administrator",
    "WORKFLOWS_ADMIN": "Workflows Administrator",
    "ACCESS_CERTIFICATIONS_ADMIN": "Access Certifications Administrator",
    "ACCESS_REQUESTS_ADMIN": "Access Requests Administrator",
}


def base62(n: int, width: int) -> str:
    """``n`` in base 62 (ASCII-ordered digits), left-padded to ``width``."""
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(BASE62[r])
    return "".join(reversed(out)).rjust(width, "0")[-width:]


def _uuid4ish(bits: int, seq: int) -> str:
    """A version-4-shaped UUID string from 96 random bits and the event seq."""
    h = f"{bits:024x}{seq & 0xFFFFFFFF:08x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


class Clock:
    """Simulator time: the wall clock plus an offset tests can advance (seconds)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """Current simulator time, UTC epoch seconds."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move simulator time forward by ``seconds``."""
        self.offset += float(seconds)


class IdMaker:
    """Okta-like ids: 3-char prefix + 17 base62 chars, increasing with creation.

    Deterministic for a given seed, so a reset org always has the same ids.
    """

    def __init__(self, seed: int = 0) -> None:
        self.counter = 0
        self.rng = random.Random(seed)

    def make(self, prefix: str) -> str:
        """A fresh id such as ``0oa1…`` (20 chars); later ids sort after earlier."""
        self.counter += 1
        tail = self.token(5)
        return f"{prefix}1{base62(self.counter, 8)}{tail}0h7"[:20].ljust(20, "0")

    def token(self, n: int) -> str:
        """``n`` pseudo-random base62 chars (ids, request ids)."""
        return (
            self.rng.getrandbits(8 * n)
            .to_bytes(n, "big")
            .translate(_BASE62_TABLE)
            .decode()
        )


@dataclass(slots=True)
class RoleAssignment:
    """An admin role assigned to a user or a client (service app)."""

    id: str
    type: str
    created: float
    assignment_type: str = "USER"
    status: str = "ACTIVE"
    # Targets and custom-role bindings (oktasim/privilege.py serves them):
    # group names, (OIN app name, app instance id or "") pairs, and for CUSTOM
    # the custom role's (id, label) and its resource set's (id, label).
    group_targets: list[str] = field(default_factory=list)
    app_targets: list[tuple[str, str]] = field(default_factory=list)
    custom_role: tuple[str, str] = ("", "")
    resource_set: tuple[str, str] = ("", "")

    @property
    def label(self) -> str:
        if self.custom_role[1]:
            return self.custom_role[1]
        return ROLE_LABELS.get(self.type, self.type.replace("_", " ").title())


@dataclass(slots=True)
class User:
    """An Okta user (``00u…``) with its admin role assignments and the names of
    its groups (every user is in Okta's built-in ``Everyone``)."""

    id: str
    login: str
    first_name: str
    last_name: str
    password: str = field(repr=False)
    created: float = 0.0
    roles: list[RoleAssignment] = field(default_factory=list)
    status: str = "ACTIVE"
    api_token: str | None = field(default=None, repr=False)
    groups: list[str] = field(default_factory=lambda: ["Everyone"])

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def role_types(self) -> set[str]:
        return {r.type for r in self.roles if r.status == "ACTIVE"}


@dataclass(slots=True)
class Grant:
    """An Okta API scope grant in an app's grant collection (``oag…``)."""

    id: str
    scope_id: str
    issuer: str
    client_id: str
    created: float
    created_by_id: str
    created_by_type: str = "User"
    source: str = "ADMIN"
    status: str = "ACTIVE"

    @property
    def last_updated(self) -> float:
        return self.created


@dataclass(slots=True)
class App:
    """An app instance (``0oa…``). OIDC apps have ``application_type`` set.

    ``kind`` is one of web, browser, native, service (OIDC) or saml, bookmark.
    ``okta_name`` is Okta's app ``name`` when it is not the kind's own
    (``oidc_client`` etc.): an OIN integration's or one of Okta's own apps'.
    ``oauth_client`` False: an OIDC app whose object has no
    ``credentials.oauthClient`` / ``settings.oauthClient`` (some of Okta's
    built-in apps); it has no client id of its own.
    ``grants`` keeps creation order (Okta's list order).
    """

    id: str
    label: str
    kind: str
    created: float
    last_updated: float
    status: str = "ACTIVE"
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    redirect_uris: list[str] = field(default_factory=list)
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    jwks: list[dict] = field(default_factory=list)
    loopback_any_port: bool = False
    roles: list[RoleAssignment] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    json_cache: bytes | None = field(default=None, repr=False)
    okta_name: str = ""
    oauth_client: bool = True
    groups_claim_filter: str = ""
    # Compensating controls: ``auth_method`` overrides the kind's usual
    # token_endpoint_auth_method; ``network`` is settings.oauthClient.network
    # ({"connection": "ANYWHERE"|"ZONE", "include": [...], "exclude": [...]}),
    # None when the app object carries none.
    auth_method: str = ""
    network: dict | None = None

    @property
    def is_oidc(self) -> bool:
        return self.kind in ("web", "browser", "native", "service")

    @property
    def name(self) -> str:
        if self.okta_name:
            return self.okta_name
        return {
            "saml": "template_saml_2_0",
            "bookmark": "bookmark",
        }.get(self.kind, "oidc_client")

    @property
    def sign_on_mode(self) -> str:
        return {"saml": "SAML_2_0", "bookmark": "BOOKMARK"}.get(
            self.kind, "OPENID_CONNECT"
        )

    @property
    def token_endpoint_auth_method(self) -> str:
        if self.auth_method:
            return self.auth_method
        if self.kind == "service":
            return "private_key_jwt"
        if self.kind in ("browser", "native"):
            return "none"
        return "client_secret_basic"

    @property
    def grant_types(self) -> list[str]:
        if self.kind == "service":
            return ["client_credentials"]
        return ["authorization_code", "refresh_token"]

    @property
    def response_types(self) -> list[str]:
        return ["token"] if self.kind == "service" else ["code"]

    @property
    def pkce_required(self) -> bool:
        return self.kind in ("browser", "native", "web")

    @property
    def role_types(self) -> set[str]:
        return {r.type for r in self.roles if r.status == "ACTIVE"}

    def grant_for(self, scope_id: str) -> Grant | None:
        """The app's grant of ``scope_id``, if any."""
        for g in self.grants:
            if g.scope_id == scope_id:
                return g
        return None

    def granted_scopes(self) -> set[str]:
        """The scopeIds in the app's grant collection."""
        return {g.scope_id for g in self.grants}


@dataclass(slots=True)
class Actor:
    """Who did something, as the System Log names it."""

    id: str
    type: str
    alternate_id: str
    display_name: str


@dataclass(slots=True)
class LogEvent:
    """One System Log event, stored compactly and rendered by :mod:`.shapes`.

    ``targets`` holds ``(id, type, alternateId, displayName)`` tuples.
    ``client_id``: ``client.id``, the OAuth client whose token made the request
    (None for SSWS calls and changes without a request). ``api_token_id``:
    ``transaction.detail.requestApiTokenId`` of an SSWS call. ``reason``:
    ``outcome.reason``.
    """

    seq: int
    published: float
    uuid: str
    event_type: str
    display_message: str
    actor: Actor
    targets: tuple[tuple[str, str, str, str], ...]
    request_id: str
    request_uri: str = ""
    outcome: str = "SUCCESS"
    severity: str = "INFO"
    debug_data: dict[str, str] | None = None
    client_id: str | None = None
    api_token_id: str | None = None
    reason: str | None = None


def api_token_id(token: str) -> str:
    """The id (``00T…``, 20 chars) of an SSWS API token, stable for the token:
    the System Log names the token by it, never by its value."""
    n = int.from_bytes(hashlib.sha256(token.encode()).digest()[:13], "big")
    return "00T" + base62(n, 17)


@dataclass(slots=True)
class RefreshToken:
    """A refresh token the Org AS issued (``oar…``; 90 days, not rotated).

    ``access_jtis``: the access tokens minted with it, which end with it when the
    app's tokens are revoked (``DELETE /api/v1/apps/{appId}/tokens``).
    """

    id: str
    client_id: str
    user_id: str
    scopes: list[str]
    auth_time: int
    amr: list[str]
    created: float
    expires: float
    access_jtis: set[str] = field(default_factory=set)


class OrgError(Exception):
    """A domain refusal the API turns into an Okta error.

    ``status`` and ``error_code`` are Okta's; ``summary`` is the errorSummary and
    ``causes`` the errorCauses summaries.
    """

    def __init__(
        self,
        status: int,
        error_code: str,
        summary: str,
        causes: list[str] | None = None,
    ) -> None:
        super().__init__(summary)
        self.status = status
        self.error_code = error_code
        self.summary = summary
        self.causes = causes or []


class Org:
    """The whole simulated org. Callers hold :attr:`lock` around reads and writes."""

    def __init__(self, url: str, clock: Clock, seed: int = 0) -> None:
        self.url = url
        self.clock = clock
        self.ids = IdMaker(seed)
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.users_by_login: dict[str, User] = {}
        self.users_by_token: dict[str, User] = {}
        self.apps: dict[str, App] = {}
        self.app_ids: list[str] = []  # sorted, for cursor paging
        self.apps_by_client_id: dict[str, App] = {}
        self.events: list[LogEvent] = []
        self.event_seq = 0
        # Refresh tokens by token value (the Org AS exchanges them; the Apps API
        # lists and revokes them per app).
        self.refresh_tokens: dict[str, RefreshToken] = {}

    # --- users -------------------------------------------------------------------
    def add_user(
        self,
        login: str,
        first_name: str,
        last_name: str,
        password: str,
        roles: list[str],
        *,
        user_id: str | None = None,
        api_token: str | None = None,
        created: float | None = None,
    ) -> User:
        """Create a user with the given admin role types."""
        created = self.clock.now() if created is None else created
        user = User(
            id=user_id or self.ids.make("00u"),
            login=login,
            first_name=first_name,
            last_name=last_name,
            password=password,
            created=created,
            api_token=api_token,
        )
        user.roles = [
            RoleAssignment(self.ids.make("ra1")[:20], t, created) for t in roles
        ]
        self.users[user.id] = user
        self.users_by_login[login.lower()] = user
        if api_token:
            self.users_by_token[api_token] = user
        return user

    def set_roles(
        self, login: str, roles: list[str], actor: Actor | None = None
    ) -> User:
        """Replace a user's admin roles (e.g. demote a Super Admin); logs the change."""
        user = self.users_by_login.get(login.lower())
        if user is None:
            raise OrgError(
                404, "E0000007", f"Not found: Resource not found: {login} (User)"
            )
        before = user.role_types
        now = self.clock.now()
        kept = [r for r in user.roles if r.type in roles]
        for t in roles:
            if t not in {r.type for r in kept}:
                kept.append(RoleAssignment(self.ids.make("ra1"), t, now))
        user.roles = kept
        actor = actor or self.system_actor()
        target = (user.id, "User", user.login, user.display_name)
        if set(roles) - before:
            self.log(
                "user.account.privilege.grant", "Grant user privilege", actor, (target,)
            )
        if before - set(roles):
            self.log(
                "user.account.privilege.revoke",
                "Revoke user privilege",
                actor,
                (target,),
            )
        return user

    def deactivate_user(self, login: str, actor: Actor | None = None) -> User:
        """Deactivate a user (``POST /api/v1/users/{id}/lifecycle/deactivate``
        in Okta): status ``DEPROVISIONED``, admin roles kept; logs
        ``user.lifecycle.deactivate`` with the user as its ``User`` target."""
        user = self.users_by_login.get(login.lower())
        if user is None:
            raise OrgError(
                404, "E0000007", f"Not found: Resource not found: {login} (User)"
            )
        user.status = "DEPROVISIONED"
        self.log(
            "user.lifecycle.deactivate",
            "Deactivate Okta user",
            actor or self.system_actor(),
            ((user.id, "User", user.login, user.display_name),),
        )
        return user

    def set_client_roles(
        self, client_id: str, roles: list[str], actor: Actor | None = None
    ) -> App:
        """Replace a service app's admin roles; logs app.oauth2.client.privilege.*
        with ``actor`` (default: Okta itself)."""
        app = self.apps_by_client_id.get(client_id)
        if app is None:
            raise OrgError(
                404,
                "E0000007",
                f"Not found: Resource not found: {client_id} (OAuth2Client)",
            )
        before = app.role_types
        now = self.clock.now()
        kept = [r for r in app.roles if r.type in roles]
        for t in roles:
            if t not in {r.type for r in kept}:
                kept.append(RoleAssignment(self.ids.make("ra1"), t, now, "CLIENT"))
        app.roles = kept
        target = (client_id, "PublicClientApp", client_id, app.label)
        if set(roles) - before:
            self.log(
                "app.oauth2.client.privilege.grant",
                "Grant client privilege",
                actor or self.system_actor(),
                (target,),
            )
        if before - set(roles):
            self.log(
                "app.oauth2.client.privilege.revoke",
                "Revoke client privilege",
                actor or self.system_actor(),
                (target,),
            )
        return app

    def system_actor(self) -> Actor:
        """The actor for changes without a person (seeding, role changes)."""
        return Actor("0oa1okta00000000sys0", "PublicClientApp", "Okta", "Okta System")

    def user_actor(self, user: User) -> Actor:
        """A user as System Log actor."""
        return Actor(user.id, "User", user.login, user.display_name)

    def client_actor(self, app: App) -> Actor:
        """A service app as System Log actor (``PublicClientApp``)."""
        return Actor(
            app.client_id or app.id,
            "PublicClientApp",
            app.client_id or app.id,
            app.label,
        )

    # --- apps --------------------------------------------------------------------
    def add_app(self, app: App, actor: Actor | None = None, log: bool = True) -> App:
        """Insert an app (keeps ``app_ids`` sorted); logs ``application.lifecycle.create``."""
        self.apps[app.id] = app
        if self.app_ids and app.id > self.app_ids[-1]:
            self.app_ids.append(app.id)
        else:
            bisect.insort(self.app_ids, app.id)
        if app.client_id:
            self.apps_by_client_id[app.client_id] = app
        if log:
            self.log(
                "application.lifecycle.create",
                "Add application",
                actor or self.system_actor(),
                (self.app_target(app),),
            )
        return app

    def app_target(self, app: App) -> tuple[str, str, str, str]:
        """An app as System Log target (``AppInstance``)."""
        return (app.id, "AppInstance", app.label, app.name)

    def get_app(self, app_id: str) -> App:
        """The app with this id, else OrgError 404 E0000007 (AppInstance)."""
        app = self.apps.get(app_id)
        if app is None:
            raise OrgError(
                404,
                "E0000007",
                f"Not found: Resource not found: {app_id} (AppInstance)",
            )
        return app

    def set_app_status(
        self, app_id: str, status: str, actor: Actor | None = None
    ) -> App:
        """ACTIVE/INACTIVE; logs application.lifecycle.activate|deactivate."""
        app = self.get_app(app_id)
        if app.status != status:
            app.status = status
            app.last_updated = self.clock.now()
            app.json_cache = None
            verb = "activate" if status == "ACTIVE" else "deactivate"
            self.log(
                f"application.lifecycle.{verb}",
                f"{verb.title()} application",
                actor or self.system_actor(),
                (self.app_target(app),),
            )
        return app

    def delete_app(self, app_id: str, actor: Actor | None = None) -> None:
        """Remove an app and its grants; logs application.lifecycle.delete."""
        app = self.get_app(app_id)
        del self.apps[app_id]
        i = bisect.bisect_left(self.app_ids, app_id)
        if i < len(self.app_ids) and self.app_ids[i] == app_id:
            del self.app_ids[i]
        if app.client_id:
            self.apps_by_client_id.pop(app.client_id, None)
        self.log(
            "application.lifecycle.delete",
            "Delete application",
            actor or self.system_actor(),
            (self.app_target(app),),
        )

    def page_after(self, after: str | None) -> int:
        """Index in ``app_ids`` of the first app after cursor ``after``."""
        if not after:
            return 0
        return bisect.bisect_right(self.app_ids, after)

    # --- grants ------------------------------------------------------------------
    def grant(
        self,
        app: App,
        scope_id: str,
        actor: Actor,
        *,
        issuer: str | None = None,
        created: float | None = None,
        request_id: str = "",
        request_uri: str = "",
        log: bool = True,
        client_id: str | None = None,
        api_token_id: str | None = None,
    ) -> Grant:
        """Add ``scope_id`` to the app's grant collection; logs the admin consent.

        Raises OrgError 400 E0000001 for a non-OIDC app, an unknown scope, a wrong
        issuer or a scope already granted (deliberate choices, see DEVIATIONS.md).
        ``client_id`` / ``api_token_id`` name how the caller authenticated (see
        :meth:`log`).
        """
        issuer = self.url if issuer is None else issuer
        causes = []
        if not app.is_oidc:
            causes.append(
                f"appId: The app {app.id} is not an OAuth 2.0 client app "
                f"(signOnMode {app.sign_on_mode}); only OIDC apps have Okta API scope grants."
            )
        elif issuer.rstrip("/") != self.url:
            causes.append(
                f"issuer: The issuer {issuer} is not this org's authorization server ({self.url})."
            )
        elif scope_id not in KNOWN_SCOPES:
            causes.append(
                f"scopeId: The scope {scope_id} is not a valid Okta API scope."
            )
        elif app.grant_for(scope_id) is not None:
            causes.append(
                f"scopeId: The scope {scope_id} is already granted to this app."
            )
        if causes:
            raise OrgError(
                400, "E0000001", "Api validation failed: scopeConsentGrant", causes
            )
        created = self.clock.now() if created is None else created
        g = Grant(
            id=self.ids.make("oag"),
            scope_id=scope_id,
            issuer=self.url,
            client_id=app.client_id or app.id,
            created=float(int(created)),
            created_by_id=actor.id,
            created_by_type="User" if actor.type == "User" else "Client",
        )
        app.grants.append(g)
        if log:
            self.log(
                "app.oauth2.admin.consent.grant",
                "Admin consent granted for scope",
                actor,
                (
                    (app.id, "PublicClientApp", app.label, app.label),
                    (scope_id, "Scope", scope_id, scope_id),
                ),
                request_id=request_id,
                request_uri=request_uri or f"/api/v1/apps/{app.id}/grants",
                published=created,
                client_id=client_id,
                api_token_id=api_token_id,
            )
        return g

    def get_grant(self, app: App, grant_id: str) -> Grant:
        """The grant, else OrgError 404 E0000007 (OAuth2ScopeConsentGrant)."""
        for g in app.grants:
            if g.id == grant_id:
                return g
        raise OrgError(
            404,
            "E0000007",
            f"Not found: Resource not found: {grant_id} (OAuth2ScopeConsentGrant)",
        )

    def revoke(
        self,
        app: App,
        grant: Grant,
        actor: Actor,
        *,
        request_id: str = "",
        request_uri: str = "",
        client_id: str | None = None,
        api_token_id: str | None = None,
    ) -> None:
        """Hard-delete the grant (Okta no longer lists it); logs the revoke."""
        app.grants.remove(grant)
        self.log(
            "app.oauth2.admin.consent.revoke",
            "Admin consent revoked for scope",
            actor,
            (
                (app.id, "PublicClientApp", app.label, app.label),
                (grant.scope_id, "Scope", grant.scope_id, grant.scope_id),
            ),
            request_id=request_id,
            request_uri=request_uri or f"/api/v1/apps/{app.id}/grants/{grant.id}",
            client_id=client_id,
            api_token_id=api_token_id,
        )

    # --- System Log --------------------------------------------------------------
    def sort_history(self) -> None:
        """Put seeded (back-dated) events in published order and renumber ``seq``."""
        self.events.sort(key=lambda e: e.published)
        for i, ev in enumerate(self.events, 1):
            ev.seq = i
        self.event_seq = len(self.events)

    def log(
        self,
        event_type: str,
        message: str,
        actor: Actor,
        targets: tuple[tuple[str, str, str, str], ...],
        *,
        request_id: str = "",
        request_uri: str = "",
        published: float | None = None,
        outcome: str = "SUCCESS",
        severity: str = "INFO",
        debug_data: dict[str, str] | None = None,
        client_id: str | None = None,
        api_token_id: str | None = None,
        reason: str | None = None,
    ) -> LogEvent:
        """Append a System Log event (persistence order = ``seq`` = index + 1).

        ``client_id`` is the OAuth client whose access token made the request
        (``client.id``); ``api_token_id`` the SSWS token's id
        (``transaction.detail.requestApiTokenId``); ``reason`` is
        ``outcome.reason``.

        Live events are stamped now and never before the previous event, so the log
        stays in ``published`` order (seed history is sorted once by
        :meth:`sort_history`).
        """
        self.event_seq += 1
        seq = self.event_seq
        if published is None:
            published = self.clock.now()
            if self.events and published < self.events[-1].published:
                published = self.events[-1].published
        ev = LogEvent(
            seq=seq,
            published=published,
            uuid=_uuid4ish(self.ids.rng.getrandbits(96), seq),
            event_type=event_type,
            display_message=message,
            actor=actor,
            targets=targets,
            request_id=request_id or self.ids.token(27),
            request_uri=request_uri,
            outcome=outcome,
            severity=severity,
            debug_data=debug_data,
            client_id=client_id,
            api_token_id=api_token_id,
            reason=reason,
        )
        self.events.append(ev)
        return ev
