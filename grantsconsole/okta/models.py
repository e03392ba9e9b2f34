"""Value objects for Okta apps, grants, roles and System Log events, and their parsers.

Shapes follow the Okta Management API reference (okta-management-openapi-spec
2026.06.3): ``Application``/``OpenIdConnectApplication`` (Apps API),
``OAuth2ScopeConsentGrant`` (Application Grants API), ``StandardRole``
(Role Assignment API, ``/api/v1/users/{userId}/roles``), ``User`` (User API,
``/api/v1/users/{id}``), ``LogEvent`` (System Log API) and ``OAuth2RefreshToken``
(Application Tokens API). Every datetime is timezone-aware UTC. Parsers raise
:class:`ParseError` (a ``ValueError``) for objects they cannot read; the client
decides whether that skips one app or fails the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "App",
    "AppNetwork",
    "ClientCredential",
    "Grant",
    "GrantResult",
    "LogEvent",
    "LogPage",
    "LogTarget",
    "ParseError",
    "RefreshToken",
    "RevokeResult",
    "Role",
    "SkippedApp",
    "TokensRevoked",
    "UnreadableEvent",
    "User",
    "parse_app",
    "parse_credential",
    "parse_datetime",
    "parse_grant",
    "parse_log_event",
    "parse_network",
    "parse_refresh_token",
    "parse_role",
    "parse_user",
    "skipped_app",
    "unreadable_event",
]


class ParseError(ValueError):
    """An Okta object did not have the shape the API reference describes."""


@dataclass(frozen=True, slots=True)
class App:
    """An OIDC app (``GET /api/v1/apps``, signOnMode ``OPENID_CONNECT``).

    ``name`` is Okta's app name: ``oidc_client`` for a custom app integration,
    another for an OIN integration or one of Okta's own OAuth apps.
    ``client_id`` is ``credentials.oauthClient.client_id`` (the OAuth client id
    grants carry as ``clientId``; the app id when that object has none, "" when
    the app has no ``credentials.oauthClient`` at all, as some of Okta's
    built-in apps); ``application_type`` is
    ``settings.oauthClient.application_type`` (web | browser | native |
    service, "" if absent); ``created`` and ``last_updated`` are aware UTC
    datetimes (None if absent).
    """

    id: str
    label: str
    name: str
    sign_on_mode: str
    status: str
    client_id: str
    application_type: str
    created: datetime | None
    last_updated: datetime | None
    token_endpoint_auth_method: str = ""
    network: AppNetwork | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """An Okta API scope grant (``OAuth2ScopeConsentGrant``) of an app.

    ``created_by_id``/``created_by_type`` come from ``createdBy`` ("" if absent).
    """

    id: str
    scope_id: str
    issuer: str
    client_id: str
    source: str
    status: str
    created_by_id: str
    created_by_type: str
    created: datetime | None
    last_updated: datetime | None


@dataclass(frozen=True, slots=True)
class Role:
    """An admin role assignment (``GET /api/v1/users/{userId}/roles``).

    ``type`` is Okta's ``RoleType`` (e.g. "SUPER_ADMIN"); ``assignment_type`` is
    USER | GROUP | CLIENT.
    """

    id: str
    type: str
    status: str
    assignment_type: str
    label: str
    # A CUSTOM role's own id and the id of the resource set it is bound to
    # (``role``, ``resource-set``; "" for standard roles).
    role_id: str = ""
    resource_set_id: str = ""


@dataclass(frozen=True, slots=True)
class User:
    """An Okta user as ``GET /api/v1/users/{id}`` returns it, reduced to who it is.

    ``login`` and ``email`` are ``profile.login`` and ``profile.email``;
    ``display_name`` is ``profile.displayName`` when set, else ``firstName
    lastName`` (what the System Log puts in ``actor.displayName``), else "";
    ``status`` is Okta's ``UserStatus`` (ACTIVE, SUSPENDED, DEPROVISIONED...).
    """

    id: str
    login: str
    display_name: str
    email: str
    status: str


@dataclass(frozen=True, slots=True)
class LogTarget:
    """One ``target[]`` entry of a System Log event."""

    id: str
    type: str
    alternate_id: str
    display_name: str


@dataclass(frozen=True, slots=True)
class LogEvent:
    """A System Log event (``GET /api/v1/logs``), flattened.

    ``request_id`` is ``debugContext.debugData.requestId`` (falls back to
    ``transaction.id``); ``published`` is aware UTC. ``granted_scopes`` is
    ``debugData.grantedScopes`` of a token issuance (observed in real events as
    one string, scopes separated by ", "; empty for other events), and
    ``requested_scopes`` its ``requestedScopes`` (same shape); ``grant_type``
    and ``client_auth_type`` are ``debugData.grantType`` / ``clientAuthType``
    (these four keys come from observed payloads, not from Okta's docs).
    ``client_id`` is ``client.id``: the OAuth client whose token made the
    request ("" when absent, e.g. an Admin Console or SSWS call);
    ``outcome_reason`` is ``outcome.reason`` (e.g. ``no_matching_scope``).
    ``unreadable_fields`` names those optional fields that were present in a
    shape we cannot read (e.g. ``"grantedScopes"`` sent as a number): they
    read as empty, and the name tells "sent oddly" from "absent".
    ``ip_address`` is ``client.ipAddress``, the address the request came from
    ("" when absent or not a string: it only informs, so it never fails a parse).
    """

    uuid: str
    published: datetime
    event_type: str
    actor_id: str
    actor_type: str
    actor_alternate_id: str
    actor_display_name: str
    targets: tuple[LogTarget, ...]
    outcome_result: str
    request_id: str
    granted_scopes: tuple[str, ...] = ()
    client_id: str = ""
    outcome_reason: str = ""
    requested_scopes: tuple[str, ...] = ()
    grant_type: str = ""
    client_auth_type: str = ""
    unreadable_fields: tuple[str, ...] = ()
    ip_address: str = ""


@dataclass(frozen=True, slots=True)
class UnreadableEvent:
    """A System Log event that did not parse: its ``uuid`` and ``published``
    when those were readable ("" / None otherwise) and ``reason`` (field names
    and types only, never the event's values)."""

    uuid: str
    published: datetime | None
    reason: str


@dataclass(frozen=True, slots=True)
class LogPage:
    """One System Log page: the events and the ``rel="next"`` URL to resume from.

    ``next_url`` is the opaque link to store as the cursor (None only if Okta
    sent none, which a polling request never does). ``unreadable``: the events
    that did not parse, when the caller asked to skip them rather than fail
    the page. ``served_at``: Okta's clock when it answered (the ``Date``
    header, aware UTC; None when absent or unreadable).
    """

    events: tuple[LogEvent, ...]
    next_url: str | None
    unreadable: tuple[UnreadableEvent, ...] = ()
    served_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SkippedApp:
    """An app object of a listing page that is not read as an OIDC app.

    ``app_id`` is the object's ``id`` if it had a readable one, else "";
    ``sign_on_mode`` is its ``signOnMode`` when that was readable and not
    ``OPENID_CONNECT`` (a SAML, SWA, bookmark... app: normal in a listing), ""
    when the object itself did not parse; ``reason`` says why it was skipped
    (never contains secrets: apps carry none in list responses, and we only
    quote field names and ``repr`` of short values).
    """

    app_id: str
    reason: str
    sign_on_mode: str = ""


@dataclass(frozen=True, slots=True)
class GrantResult:
    """Outcome of :meth:`OktaClient.grant_scope`.

    ``already_present`` is True when the app already held the scope (the
    existing grant, found by reading back, is returned); ``recovered`` is True
    when the POST had an unclear outcome and the grant was found by reading
    back; ``request_id`` is the ``X-Okta-Request-Id`` of the deciding response.
    """

    grant: Grant
    already_present: bool
    request_id: str
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class RevokeResult:
    """Outcome of :meth:`OktaClient.revoke_grant` / ``revoke_scope``.

    ``already_gone`` is True when the grant no longer existed (404 or not in the
    read-back list); ``grant_id`` is the revoked (or missing) grant's id ("" if
    no grant for the scope was found).
    """

    already_gone: bool
    request_id: str
    grant_id: str = ""


def parse_datetime(value: Any, field_name: str = "date") -> datetime | None:
    """Parse Okta's ISO-8601 timestamps ("2025-03-14T00:02:37.000Z") to aware UTC.

    None/"" -> None. Raises ParseError for anything else that is not a date.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ParseError(f"{field_name} is not a string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ParseError(f"{field_name} is not an ISO-8601 date") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParseError(f"{what} is not a JSON object")
    return value


def _str(data: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise ParseError(f"missing '{key}'")
        return ""
    if not isinstance(value, str):
        raise ParseError(f"'{key}' is not a string")
    if required and not value:
        raise ParseError(f"empty '{key}'")
    return value


def _nested(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    current: Any = data
    for key in keys:
        current = current.get(key) if isinstance(current, dict) else None
        if current is None:
            return {}
        if not isinstance(current, dict):
            raise ParseError(f"'{'.'.join(keys)}' is not an object")
    return current


def parse_app(data: Any) -> App:
    """Parse one ``Application`` object of ``GET /api/v1/apps``.

    Requires ``id``, ``name``, ``label``, ``status`` and ``signOnMode`` strings;
    ``signOnMode`` must be ``OPENID_CONNECT``. Raises ParseError otherwise.
    """
    data = _obj(data, "app")
    app_id = _str(data, "id", required=True)
    sign_on_mode = _str(data, "signOnMode", required=True)
    if sign_on_mode != "OPENID_CONNECT":
        raise ParseError(f"signOnMode is {sign_on_mode!r}, not an OIDC app")
    credentials = _nested(data, "credentials")
    oauth_credentials = _nested(data, "credentials", "oauthClient")
    oauth_settings = _nested(data, "settings", "oauthClient")
    client_id = _str(oauth_credentials, "client_id")
    if not client_id and credentials.get("oauthClient") is not None:
        client_id = app_id  # Okta: an omitted client_id equals the app id
    return App(
        id=app_id,
        label=_str(data, "label", required=True),
        name=_str(data, "name", required=True),
        sign_on_mode=sign_on_mode,
        status=_str(data, "status", required=True),
        client_id=client_id,
        application_type=_str(oauth_settings, "application_type"),
        created=parse_datetime(data.get("created"), "created"),
        last_updated=parse_datetime(data.get("lastUpdated"), "lastUpdated"),
        token_endpoint_auth_method=_str(
            oauth_credentials, "token_endpoint_auth_method"
        ),
        network=_network_of(oauth_settings),
    )


def _network_of(oauth_settings: dict[str, Any]) -> AppNetwork | None:
    """The app's network restriction; one Okta sent in a shape we cannot read
    keeps the app readable and says so as its ``connection``."""
    try:
        return parse_network(oauth_settings.get("network"))
    except ParseError as exc:
        return AppNetwork(connection=f"unreadable ({exc})")


def skipped_app(data: Any, error: ParseError) -> SkippedApp:
    """The :class:`SkippedApp` for an app object :func:`parse_app` refused."""
    fields = data if isinstance(data, dict) else {}
    app_id, mode = fields.get("id"), fields.get("signOnMode")
    return SkippedApp(
        app_id if isinstance(app_id, str) else "",
        str(error),
        mode if isinstance(mode, str) and mode != "OPENID_CONNECT" else "",
    )


def parse_grant(data: Any) -> Grant:
    """Parse one ``OAuth2ScopeConsentGrant`` (Application Grants API).

    Requires ``id``, ``scopeId`` and ``issuer``. Raises ParseError otherwise.
    """
    data = _obj(data, "grant")
    created_by = _nested(data, "createdBy")
    return Grant(
        id=_str(data, "id", required=True),
        scope_id=_str(data, "scopeId", required=True),
        issuer=_str(data, "issuer", required=True),
        client_id=_str(data, "clientId"),
        source=_str(data, "source"),
        status=_str(data, "status"),
        created_by_id=_str(created_by, "id"),
        created_by_type=_str(created_by, "type"),
        created=parse_datetime(data.get("created"), "created"),
        last_updated=parse_datetime(data.get("lastUpdated"), "lastUpdated"),
    )


def parse_role(data: Any) -> Role:
    """Parse one role assignment of ``GET /api/v1/users/{userId}/roles``.

    Requires ``id`` and ``type``. Raises ParseError otherwise.
    """
    data = _obj(data, "role")
    return Role(
        id=_str(data, "id", required=True),
        type=_str(data, "type", required=True),
        status=_str(data, "status"),
        assignment_type=_str(data, "assignmentType"),
        label=_str(data, "label"),
        role_id=_str(data, "role"),
        resource_set_id=_str(data, "resource-set"),
    )


def parse_user(data: Any) -> User:
    """Parse one ``User`` of ``GET /api/v1/users/{id}`` (Okta's
    ``UserGetSingleton``). Requires ``id`` and ``profile.login``; the names are
    nullable in Okta's profile schema, so null reads as "". Raises ParseError
    otherwise."""
    data = _obj(data, "user")
    profile = _nested(data, "profile")
    display = _str(profile, "displayName").strip()
    if not display:
        names = (_str(profile, "firstName"), _str(profile, "lastName"))
        display = " ".join(n.strip() for n in names if n and n.strip())
    return User(
        id=_str(data, "id", required=True),
        login=_str(profile, "login", required=True),
        display_name=display,
        email=_str(profile, "email"),
        status=_str(data, "status"),
    )


def parse_log_event(data: Any) -> LogEvent:
    """Parse one ``LogEvent`` of ``GET /api/v1/logs``.

    Requires ``uuid``, ``published`` and ``eventType``. Raises ParseError
    otherwise. The optional fields read from observed payloads (``client.id``,
    ``outcome.reason`` and the ``debugData`` keys of a token issuance) never
    raise: one in a shape we cannot read is empty and named in
    ``unreadable_fields``.
    """
    data = _obj(data, "event")
    actor = _nested(data, "actor")
    raw_targets = data.get("target") or []
    if not isinstance(raw_targets, list):
        raise ParseError("'target' is not a list")
    targets = []
    for raw in raw_targets:
        target = _obj(raw, "target")
        targets.append(
            LogTarget(
                id=_str(target, "id"),
                type=_str(target, "type"),
                alternate_id=_str(target, "alternateId"),
                display_name=_str(target, "displayName"),
            )
        )
    published = parse_datetime(data.get("published"), "published")
    if published is None:
        raise ParseError("missing 'published'")
    debug = _nested(data, "debugContext", "debugData")
    request_id = _str(debug, "requestId")
    odd: list[str] = []
    outcome = _loose_obj(data, "outcome", odd)
    client = _loose_obj(data, "client", odd)
    return LogEvent(
        uuid=_str(data, "uuid", required=True),
        published=published,
        event_type=_str(data, "eventType", required=True),
        actor_id=_str(actor, "id"),
        actor_type=_str(actor, "type"),
        actor_alternate_id=_str(actor, "alternateId"),
        actor_display_name=_str(actor, "displayName"),
        targets=tuple(targets),
        outcome_result=_str(outcome, "result"),
        request_id=request_id or _str(_nested(data, "transaction"), "id"),
        granted_scopes=_loose_scopes(debug, "grantedScopes", odd),
        client_id=_loose_str(client, "id", odd, "client.id"),
        # Only informs an alert, so it is cut short and never noted as odd.
        ip_address=_loose_str(client, "ipAddress", [])[:100],
        outcome_reason=_loose_str(outcome, "reason", odd, "outcome.reason"),
        requested_scopes=_loose_scopes(debug, "requestedScopes", odd),
        grant_type=_loose_str(debug, "grantType", odd),
        client_auth_type=_loose_str(debug, "clientAuthType", odd),
        unreadable_fields=tuple(odd),
    )


def unreadable_event(data: Any, error: ParseError) -> UnreadableEvent:
    """The :class:`UnreadableEvent` for an event :func:`parse_log_event` refused."""
    fields = data if isinstance(data, dict) else {}
    uuid = fields.get("uuid")
    try:
        published = parse_datetime(fields.get("published"), "published")
    except ParseError:
        published = None
    return UnreadableEvent(uuid if isinstance(uuid, str) else "", published, str(error))


def _loose_obj(data: dict[str, Any], key: str, odd: list[str]) -> dict[str, Any]:
    """``data[key]`` when it is an object; {} when absent, or (noting ``key``
    in ``odd``) when it is anything else."""
    value = data.get(key)
    if isinstance(value, dict):
        return value
    if value is not None:
        odd.append(key)
    return {}


def _loose_str(
    data: dict[str, Any], key: str, odd: list[str], name: str | None = None
) -> str:
    """``data[key]`` when it is a string; "" when absent, or (noting ``name``
    in ``odd``) when it is anything else."""
    value = data.get(key)
    if isinstance(value, str):
        return value
    if value is not None:
        odd.append(name or key)
    return ""


def _loose_scopes(data: dict[str, Any], key: str, odd: list[str]) -> tuple[str, ...]:
    """Scopes of ``data[key]``: a string split on commas and spaces (as
    observed), or a list of strings; () when absent, or (noting ``key`` in
    ``odd``) in any other shape."""
    value = data.get(key)
    if isinstance(value, str):
        return tuple(s for s in value.replace(",", " ").split() if s)
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return tuple(s for s in value if s)
    if value is not None:
        odd.append(key)
    return ()


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """One refresh token of an app (``OAuth2RefreshToken``, Application Tokens
    API, ``GET /api/v1/apps/{appId}/tokens``): its ``id``, ``status``, the
    ``user_id`` it was issued to, its ``scopes``, and ``created`` /
    ``expires_at`` (aware UTC, None if absent)."""

    id: str
    status: str
    user_id: str
    scopes: tuple[str, ...]
    created: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class TokensRevoked:
    """Outcome of ``revokeOAuth2TokensForApplication``: the ``X-Okta-Request-Id``
    of Okta's 204."""

    request_id: str


def _str_list(data: dict[str, Any], key: str) -> list[str]:
    """``data[key]`` as a list of strings (missing or null: empty); ParseError
    for anything else, since a wrong scope list would misstate what is held."""
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ParseError(f"'{key}' is not a list of strings")
    return value


def parse_refresh_token(data: Any) -> RefreshToken:
    """Parse one ``OAuth2RefreshToken``. Requires ``id``; raises ParseError
    otherwise (and for a ``scopes`` that is not a list of strings)."""
    data = _obj(data, "token")
    scopes = _str_list(data, "scopes")
    return RefreshToken(
        id=_str(data, "id", required=True),
        status=_str(data, "status"),
        user_id=_str(data, "userId"),
        scopes=tuple(scopes),
        created=parse_datetime(data.get("created"), "created"),
        expires_at=parse_datetime(data.get("expiresAt"), "expiresAt"),
    )


# -- OIN API service integrations (``/integrations/api/v1/api-services``) -------


@dataclass(frozen=True, slots=True)
class ApiServiceIntegration:
    """An OIN API service integration instance (``APIServiceIntegrationInstance``):
    an integration from Okta's catalog authorized in the org, holding ``okta.*``
    scopes (``granted_scopes``, in Okta's order) without being an app of the
    org. ``type`` is the catalog key (``my_app_cie``), ``name`` its display name,
    ``created_by`` the Okta user id of the admin who authorized it ("" if
    absent), ``created_at`` an aware UTC datetime (None if absent)."""

    id: str
    type: str
    name: str
    created_at: datetime | None
    created_by: str
    granted_scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ApiServiceSecret:
    """One client secret of an API service integration
    (``APIServiceIntegrationInstanceSecret``), without the secret itself:
    ``status`` ACTIVE or INACTIVE (another value is kept as sent), ``created``
    and ``last_updated`` aware UTC datetimes (None if absent)."""

    id: str
    status: str
    created: datetime | None
    last_updated: datetime | None


def parse_api_service_integration(data: Any) -> ApiServiceIntegration:
    """Parse one ``APIServiceIntegrationInstance``. Requires ``id``; a
    ``grantedScopes`` that is not a list of strings raises ParseError (a wrong
    scope list would misstate what the integration holds)."""
    data = _obj(data, "API service integration")
    scopes = _str_list(data, "grantedScopes")
    return ApiServiceIntegration(
        id=_str(data, "id", required=True),
        type=_str(data, "type"),
        name=_str(data, "name"),
        created_at=parse_datetime(data.get("createdAt"), "createdAt"),
        created_by=_str(data, "createdBy"),
        granted_scopes=tuple(scopes),
    )


def parse_api_service_secret(data: Any) -> ApiServiceSecret:
    """Parse one ``APIServiceIntegrationInstanceSecret``; the secret value and
    its hash are not read. Requires ``id``."""
    data = _obj(data, "API service integration secret")
    return ApiServiceSecret(
        id=_str(data, "id", required=True),
        status=_str(data, "status"),
        created=parse_datetime(data.get("created"), "created"),
        last_updated=parse_datetime(data.get("lastUpdated"), "lastUpdated"),
    )


@dataclass(frozen=True, slots=True)
class RoleTarget:
    """A role assignment's target: a group (``kind`` "group": ``id``, ``name`` its
    profile name) or an app (``kind`` "app": ``name`` the OIN app name, ``id``
    the app instance id when the target is one instance, else "")."""

    kind: str
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ResourceSet:
    """A resource set a custom role is bound to (``getResourceSet``)."""

    id: str
    label: str
    description: str


def parse_group_target(data: Any) -> RoleTarget:
    """Parse one ``Group`` of a role's group targets. Requires ``id``; the name
    is ``profile.name`` ("" when absent). Raises ParseError otherwise."""
    data = _obj(data, "group")
    return RoleTarget(
        "group", _str(data, "id", required=True), _str(_nested(data, "profile"), "name")
    )


def parse_app_target(data: Any) -> RoleTarget:
    """Parse one ``CatalogApplication`` of a role's app targets. Requires
    ``name``. Raises ParseError otherwise."""
    data = _obj(data, "app target")
    return RoleTarget("app", _str(data, "id"), _str(data, "name", required=True))


def parse_resource_set(data: Any) -> ResourceSet:
    """Parse a ``ResourceSet``. Requires ``id``. Raises ParseError otherwise."""
    data = _obj(data, "resource set")
    return ResourceSet(
        _str(data, "id", required=True),
        _str(data, "label"),
        _str(data, "description"),
    )


# --- compensating controls: client credentials, network, org setting -----------


@dataclass(frozen=True, slots=True)
class AppNetwork:
    """``settings.oauthClient.network`` of an OIDC app: where it may request
    tokens from. ``connection`` is ``ANYWHERE`` or ``ZONE`` (another value is
    kept as Okta sent it); ``include``/``exclude`` are network zone ids or
    ``ALL_IP_ZONES``."""

    connection: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ClientCredential:
    """One client secret (``listOAuth2ClientSecrets``, ``ocs…``) or public key
    (``listJwk``, ``pks…``) of an app, without its value: the secret string,
    its hash and the key material are never kept. ``status`` is ACTIVE or
    INACTIVE; ``kid`` is the key's ``kid`` ("" for a secret); ``created`` and
    ``last_updated`` are aware UTC (None if absent)."""

    id: str
    status: str
    created: datetime | None
    last_updated: datetime | None
    kid: str = ""


def _zones(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(z, str) for z in value):
        raise ParseError(f"network '{key}' is not a list of zone ids")
    return tuple(value)


def parse_network(data: Any) -> AppNetwork | None:
    """``settings.oauthClient.network`` -> :class:`AppNetwork` (None when
    absent: no restriction). Raises ParseError for another shape."""
    if data is None:
        return None
    data = _obj(data, "network")
    return AppNetwork(
        connection=_str(data, "connection", required=True),
        include=_zones(data.get("include"), "include"),
        exclude=_zones(data.get("exclude"), "exclude"),
    )


def parse_credential(data: Any) -> ClientCredential:
    """One ``OAuth2ClientSecret`` or ``OAuth2ClientJsonWebKey…Response``.

    Requires an ``id``; raises ParseError otherwise or for a bad date."""
    data = _obj(data, "credential")
    return ClientCredential(
        id=_str(data, "id", required=True),
        status=_str(data, "status") or "ACTIVE",  # the spec's default
        created=parse_datetime(data.get("created"), "created"),
        last_updated=parse_datetime(data.get("lastUpdated"), "lastUpdated"),
        kid=_str(data, "kid"),
    )
