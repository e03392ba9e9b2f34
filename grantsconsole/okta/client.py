"""OktaClient: the calls grantsconsole makes to Okta's management API.

Each method names the Okta API reference operation it follows
(okta-management-openapi-spec 2026.06.3, ``management-minimal.yaml``).
All methods raise :class:`~grantsconsole.okta.errors.OktaError` subclasses;
none ever turns an error or an unreadable body into an empty result.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from .errors import (
    OktaConnectionError,
    OktaMalformedResponse,
    OktaNotFound,
    OktaRateLimited,
    OktaServerError,
    OktaTimeout,
    OktaValidationError,
)
from .links import check_same_origin
from .models import (
    ApiServiceIntegration,
    ApiServiceSecret,
    App,
    ClientCredential,
    Grant,
    GrantResult,
    LogPage,
    ParseError,
    RefreshToken,
    ResourceSet,
    RevokeResult,
    Role,
    RoleTarget,
    SkippedApp,
    TokensRevoked,
    UnreadableEvent,
    User,
    parse_api_service_integration,
    parse_api_service_secret,
    parse_app,
    parse_app_target,
    parse_credential,
    parse_grant,
    parse_group_target,
    parse_log_event,
    parse_refresh_token,
    parse_resource_set,
    parse_role,
    parse_user,
    skipped_app,
    unreadable_event,
)
from .pacing import Clock, LocalPacer, Pacer, SystemClock, parse_rate_limit_headers
from .tokens import TokenSource
from .transport import OktaResponse, Transport

__all__ = ["APPS_PATH", "LOGS_PATH", "OktaClient", "log_skipped"]

logger = logging.getLogger("grantsconsole.okta")

APPS_PATH = "/api/v1/apps"
LOGS_PATH = "/api/v1/logs"
PAGE_LIMIT = 200  # Okta's maximum for GET /api/v1/apps
API_SERVICES_PATH = "/integrations/api/v1/api-services"


def _seg(value: str) -> str:
    """One URL path segment (ids are quoted so they cannot change the path; "@"
    is a legal path character, so a login works where Okta accepts one)."""
    if not value:
        raise ValueError("empty id")
    return quote(value, safe="@")


def log_skipped(item: SkippedApp) -> None:
    """Log an app object a listing skipped: its id and why, never the object.
    Apps of another sign-on mode are normal in a listing (debug level); an
    object that did not parse is a warning."""
    if item.sign_on_mode:
        logger.debug("app %s skipped: %s", item.app_id, item.reason)
    else:
        logger.warning(
            "skipped an app Okta returned (%s): %s", item.app_id or "no id", item.reason
        )


def _list_body(response: OktaResponse, what: str) -> list[Any]:
    if not isinstance(response.body, list):
        raise OktaMalformedResponse(
            f"{what}: expected a JSON array, got {type(response.body).__name__}",
            status=response.status,
            request_id=response.request_id,
            path=urlsplit(response.url).path,
        )
    return response.body


def _parse_each(
    response: OktaResponse, raws: list[Any], parse: Callable[[Any], Any], item: str
) -> list[Any]:
    """Each of ``raws`` parsed with ``parse``. The first that does not parse
    raises OktaMalformedResponse naming ``item`` ("a grant of app 0oa…"): a
    list missing one would read as that one removed."""
    parsed = []
    for raw in raws:
        try:
            parsed.append(parse(raw))
        except ParseError as exc:
            raise OktaMalformedResponse(
                f"{item} is unreadable: {exc}",
                status=response.status,
                request_id=response.request_id,
            ) from None
    return parsed


def _parse_one(response: OktaResponse, parse: Callable[[Any], Any], what: str) -> Any:
    """The response's object parsed with ``parse``; OktaMalformedResponse
    naming ``what`` ("app 0oa…") when it does not parse."""
    try:
        return parse(response.body)
    except ParseError as exc:
        raise OktaMalformedResponse(
            f"{what}: {exc}", status=response.status, request_id=response.request_id
        ) from None


def _check_next(next_url: str, org_url: str, path: str, seen: set[str]) -> None:
    """A ``Link: rel="next"`` may be followed: on the org, on ``path``, and not
    one already followed. Raises OktaForeignLink, or OktaMalformedResponse for
    a repeated link (a paging loop)."""
    check_same_origin(next_url, org_url, path)
    if next_url in seen:
        raise OktaMalformedResponse("Okta repeated a paging link (loop)")
    seen.add(next_url)


class OktaClient:
    """Client for one Okta org.

    ``org_url``: the org (= org authorization server issuer), e.g.
    "https://example.okta.com". ``token_source``: where the ``Authorization``
    header comes from. ``share``: fraction (0, 1] of each rate-limit bucket this
    client may use per window (Okta advises 50% for tools sharing an org).
    ``timeout``: (connect, read) seconds for every request. ``max_retries``:
    repeats of a request safe to repeat (GET, DELETE by id). ``pacer``/``clock``:
    injectable (a shared pacer; a fake clock in tests). ``max_write_attempts``:
    POSTs a grant may take in total when outcomes are unclear (each repeat only
    after reading the grants back). ``max_wait``: the longest single wait (pacing,
    429 reset, backoff) a call accepts, in seconds; beyond it the call raises
    OktaRateLimited with ``retry_after`` instead. Workers keep the default
    (300 s); the console's interactive client should pass a few seconds so a
    click never blocks a web request for a minute.
    """

    def __init__(
        self,
        org_url: str,
        token_source: TokenSource,
        *,
        share: float = 0.5,
        timeout: tuple[float, float] = (5.0, 30.0),
        session: requests.Session | None = None,
        max_retries: int = 4,
        pacer: Pacer | None = None,
        clock: Clock | None = None,
        max_write_attempts: int = 3,
        rng: random.Random | None = None,
        max_wait: float = 300.0,
    ) -> None:
        if not org_url.startswith(("https://", "http://")):
            raise ValueError("org_url must be an http(s) URL")
        self.org_url = org_url.rstrip("/")
        self.token_source = token_source
        self.clock: Clock = clock or SystemClock()
        self.pacer: Pacer = pacer or LocalPacer(share, clock=self.clock)
        self.max_write_attempts = max(1, max_write_attempts)
        self.transport = Transport(
            self.org_url,
            token_source,
            pacer=self.pacer,
            clock=self.clock,
            session=session,
            timeout=timeout,
            max_retries=max_retries,
            rng=rng,
            max_rate_limit_wait=max_wait,
        )

    def __repr__(self) -> str:
        return (
            f"OktaClient(org_url={self.org_url!r}, token_source={self.token_source!r})"
        )

    @property
    def request_count(self) -> int:
        """HTTP requests this client sent to ``/api/v1`` (retries included;
        token requests are counted by ``token_source.token_requests``)."""
        return self.transport.request_count

    def stats(self) -> dict[str, float]:
        """Counters for benchmarks and health pages: API requests sent, repeats,
        429 answers received, token requests, and the pacer's waits (count and
        total seconds, when the pacer keeps them)."""
        return {
            "requests": self.transport.request_count,
            "retries": self.transport.retries,
            "rate_limited": self.transport.rate_limited,
            "token_requests": getattr(self.token_source, "token_requests", 0),
            "pacing_waits": getattr(self.pacer, "waits", 0),
            "pacing_wait_seconds": round(getattr(self.pacer, "waited_seconds", 0.0), 3),
        }

    # -- Apps API ------------------------------------------------------------

    def list_app_page(
        self, after: str | None = None, limit: int = PAGE_LIMIT
    ) -> tuple[list[App], list[SkippedApp], str | None]:
        """One page of the org's apps, OIDC ones parsed: ``GET /api/v1/apps``.

        Okta API reference: Applications, ``listApplications``, unfiltered:
        Okta's ``filter`` cannot select by ``signOnMode``, and OIDC apps do not
        all share one ``name`` (OIN integrations and Okta's own OAuth apps have
        their own), so every app is listed and those with ``signOnMode``
        ``OPENID_CONNECT`` are kept. ``after`` is either the opaque cursor
        returned by a previous call (the full ``rel="next"`` URL, checked to be
        on the org) or a raw ``after`` value; None for the first page. Returns
        (apps, skipped, next): ``skipped`` lists the other app objects, those of
        another sign-on mode (``SkippedApp.sign_on_mode`` set) and those that
        did not parse; ``next`` is the next page's URL (None on the last page).
        Raises OktaForeignLink for a next link off the org,
        OktaMalformedResponse if the body is not an array, and the other
        OktaError kinds.
        """
        limit = max(1, min(int(limit), PAGE_LIMIT))
        if after and "://" in after:
            check_same_origin(after, self.org_url, APPS_PATH)
            response = self.transport.request("GET", after, retry_safe=True)
        else:
            params = {"limit": limit, "after": after or None}
            response = self.transport.request(
                "GET", APPS_PATH, params=params, retry_safe=True
            )
        apps: list[App] = []
        skipped: list[SkippedApp] = []
        for raw in _list_body(response, "list apps"):
            try:
                apps.append(parse_app(raw))
            except ParseError as exc:
                skipped.append(skipped_app(raw, exc))
        next_url = response.links.get("next")
        if next_url is not None:
            check_same_origin(next_url, self.org_url, APPS_PATH)
        return apps, skipped, next_url

    def iter_oidc_apps(
        self, on_skip: Callable[[SkippedApp], None] | None = None
    ) -> Iterator[App]:
        """Every OIDC app of the org, streamed page by page (200 apps per page).

        Okta API reference: Applications, ``listApplications`` (every app,
        following ``Link: rel="next"``), keeping ``signOnMode``
        ``OPENID_CONNECT``. ``on_skip`` is called for each other app object
        (default: :func:`log_skipped`). Raises like :meth:`list_app_page`, and
        OktaMalformedResponse if Okta repeats a page link (a paging loop).
        """
        after: str | None = None
        seen: set[str] = set()
        while True:
            apps, skipped, next_url = self.list_app_page(after)
            for item in skipped:
                (on_skip or log_skipped)(item)
            yield from apps
            if next_url is None:
                return
            _check_next(next_url, self.org_url, APPS_PATH, seen)
            after = next_url

    def get_app(self, app_id: str) -> App:
        """One app: ``GET /api/v1/apps/{appId}``.

        Okta API reference: Applications, ``getApplication``. Raises
        OktaNotFound if it does not exist, OktaMalformedResponse if it is not
        an OIDC app object.
        """
        response = self.transport.request(
            "GET", f"{APPS_PATH}/{_seg(app_id)}", retry_safe=True
        )
        return _parse_one(response, parse_app, f"app {app_id}")

    # -- Application Grants API ----------------------------------------------

    def list_grants(self, app_id: str) -> list[Grant]:
        """The app's grant collection: ``GET /api/v1/apps/{appId}/grants``.

        Okta API reference: Application Grants, ``listScopeConsentGrants``
        (not paginated). Raises OktaNotFound for an unknown app and
        OktaMalformedResponse if the body or any grant in it is unreadable (a
        partial list would look like revoked grants).
        """
        return self._read_list(
            f"{APPS_PATH}/{_seg(app_id)}/grants",
            parse_grant,
            f"grants of {app_id}",
            f"a grant of app {app_id}",
        )

    def _read_list(
        self,
        path: str,
        parse: Callable[[Any], Any],
        what: str,
        item: str,
        params: dict[str, Any] | None = None,
    ) -> list[Any]:
        """Every item of a list operation: ``GET path`` (with ``params``), then
        each ``Link: rel="next"`` Okta sends (checked by :func:`_check_next`;
        operations Okta does not paginate send none). ``what`` names the list
        and ``item`` one of its items in errors. Raises OktaMalformedResponse
        for a body that is not an array or an item that does not parse,
        OktaForeignLink, and the transport's OktaError kinds."""
        response = self.transport.request("GET", path, params=params, retry_safe=True)
        found: list[Any] = []
        seen: set[str] = set()
        while True:
            found += _parse_each(response, _list_body(response, what), parse, item)
            next_url = response.links.get("next")
            if next_url is None:
                return found
            _check_next(next_url, self.org_url, path, seen)
            response = self.transport.request("GET", next_url, retry_safe=True)

    def _find_grant(self, app_id: str, scope_id: str) -> Grant | None:
        return next(
            (g for g in self.list_grants(app_id) if g.scope_id == scope_id), None
        )

    def grant_scope(
        self, app_id: str, scope_id: str, issuer: str | None = None
    ) -> GrantResult:
        """Grant an Okta API scope to an app: ``POST /api/v1/apps/{appId}/grants``.

        Okta API reference: Application Grants, ``grantConsentToScope`` (body
        ``{"issuer": <org URL>, "scopeId": ...}``; 200 or 201). Idempotent: if
        Okta refuses because the app already holds the scope, the existing grant
        is read back and returned with ``already_present=True``. The POST is
        never repeated blindly: after a timeout, connection error, 5xx or 429
        the grants are read back first; if the scope is there the grant is
        returned (``recovered=True``), otherwise the POST is sent again, at most
        ``max_write_attempts`` times in all. Scopes unknown to the catalog are
        sent as they are. Raises OktaValidationError (bad scope/issuer),
        OktaPermissionDenied / OktaInsufficientScope, OktaNotFound, and the
        last unclear-outcome error when attempts run out.
        """
        path = f"{APPS_PATH}/{_seg(app_id)}/grants"
        body = {"issuer": (issuer or self.org_url).rstrip("/"), "scopeId": scope_id}
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.transport.request(
                    "POST", path, json_body=body, retry_safe=False
                )
            except OktaValidationError as exc:
                existing = self._find_grant(app_id, scope_id)
                if existing is not None:
                    logger.info(
                        "app %s already holds %s (grant %s)",
                        app_id,
                        scope_id,
                        existing.id,
                    )
                    return GrantResult(existing, True, exc.request_id)
                raise
            except (
                OktaServerError,
                OktaTimeout,
                OktaConnectionError,
                OktaRateLimited,
            ) as exc:
                if isinstance(exc, OktaRateLimited):
                    # A 429 means Okta did nothing: wait (if we may) and go on.
                    wait = (exc.retry_after or 0.0) + 1.0
                    wait += self.transport.backoff(attempt)
                    if wait > self.transport.max_rate_limit_wait:
                        raise
                    self.clock.sleep(wait)
                existing = self._find_grant(app_id, scope_id)
                if existing is not None:
                    logger.info(
                        "grant of %s to app %s had an unclear outcome (%s); "
                        "read back: present",
                        scope_id,
                        app_id,
                        type(exc).__name__,
                    )
                    return GrantResult(existing, False, exc.request_id, recovered=True)
                if attempt >= self.max_write_attempts:
                    raise
                if not isinstance(exc, OktaRateLimited):
                    self.clock.sleep(self.transport.backoff(attempt))
                continue
            try:
                grant = parse_grant(response.body)
            except ParseError:
                existing = self._find_grant(app_id, scope_id)
                if existing is None:
                    raise OktaMalformedResponse(
                        "grant response unreadable and the grant is not listed",
                        status=response.status,
                        request_id=response.request_id,
                    ) from None
                return GrantResult(existing, False, response.request_id, recovered=True)
            return GrantResult(grant, False, response.request_id)

    def revoke_grant(self, app_id: str, grant_id: str) -> RevokeResult:
        """Revoke one grant: ``DELETE /api/v1/apps/{appId}/grants/{grantId}``.

        Okta API reference: Application Grants, ``revokeScopeConsentGrant``
        (204). A grant (or app) that is already gone (404) is success with
        ``already_gone=True``. Safe to repeat, so retried like a GET.
        """
        path = f"{APPS_PATH}/{_seg(app_id)}/grants/{_seg(grant_id)}"
        try:
            response = self.transport.request("DELETE", path, retry_safe=True)
        except OktaNotFound as exc:
            return RevokeResult(True, exc.request_id, grant_id)
        return RevokeResult(False, response.request_id, grant_id)

    def revoke_scope(self, app_id: str, scope_id: str) -> RevokeResult:
        """Revoke an app's grant of ``scope_id``, found by reading the grants back.

        Okta API reference: Application Grants, ``listScopeConsentGrants`` then
        ``revokeScopeConsentGrant``. No grant for the scope (or no app) is
        success with ``already_gone=True``.
        """
        try:
            grant = self._find_grant(app_id, scope_id)
        except OktaNotFound as exc:
            return RevokeResult(True, exc.request_id, "")
        if grant is None:
            return RevokeResult(True, "", "")
        return self.revoke_grant(app_id, grant.id)

    # -- Users -----------------------------------------------------------------

    def get_user(self, user_id: str) -> User:
        """One user, to name it: ``GET /api/v1/users/{id}``.

        Okta API reference: User, ``getUser`` (needs ``okta.users.read``).
        Raises OktaNotFound when no such user exists (a deleted user),
        OktaInsufficientScope when the token lacks ``okta.users.read``,
        OktaPermissionDenied when the caller's admin role may not read users,
        and OktaMalformedResponse when the body is not a user.
        """
        response = self.transport.request(
            "GET", f"/api/v1/users/{_seg(user_id)}", retry_safe=True
        )
        return _parse_one(response, parse_user, f"user {user_id}")

    # -- Roles -----------------------------------------------------------------

    def list_user_roles(self, user_id: str) -> list[Role]:
        """A user's admin role assignments: ``GET /api/v1/users/{userId}/roles``.

        Okta API reference: Role Assignment (AssignmentRoleUser),
        ``listAssignedRolesForUser`` (includes roles inherited from groups).
        Raises OktaPermissionDenied when the caller may not read roles (e.g. a
        non-admin whose token nevertheless carries ``okta.roles.read``).
        """
        return self._roles(f"/api/v1/users/{_seg(user_id)}/roles", f"user {user_id}")

    def list_client_roles(self, client_id: str) -> list[Role]:
        """A service app's admin role assignments:
        ``GET /oauth2/v1/clients/{clientId}/roles``.

        Okta API reference: Role Assignment (AssignmentRoleClient),
        ``listRolesForClient``; needs ``okta.roles.read``. A service app acts with
        these roles intersected with its token's scopes. Raises OktaNotFound for
        an unknown client and OktaPermissionDenied / OktaInsufficientScope when
        the caller may not read roles.
        """
        return self._roles(
            f"/oauth2/v1/clients/{_seg(client_id)}/roles", f"client {client_id}"
        )

    def _roles(self, path: str, whose: str) -> list[Role]:
        return self._read_list(
            path, parse_role, f"roles of {whose}", f"a role of {whose}"
        )

    def is_super_admin(self, user_id: str) -> bool:
        """True if the user holds an ACTIVE ``SUPER_ADMIN`` role (directly or via
        a group). Raises like :meth:`list_user_roles` (never guesses False on an
        error)."""
        return any(
            role.type == "SUPER_ADMIN" and role.status in ("ACTIVE", "")
            for role in self.list_user_roles(user_id)
        )

    # -- System Log ------------------------------------------------------------

    def poll_logs(
        self,
        next_url: str | None,
        *,
        since: datetime | None = None,
        filter: str | None = None,
        limit: int = 1000,
        skip_unreadable: bool = False,
    ) -> LogPage:
        """One System Log polling request: ``GET /api/v1/logs``.

        Okta API reference: System Log, ``listLogEvents``, polling form (no
        ``until``, ``sortOrder=ASCENDING``; Okta always returns a ``next`` link).
        With ``next_url`` (the stored cursor) that link is followed as is
        (checked to be on the org); otherwise a first request is built from
        ``since`` (aware datetime), ``filter`` (SCIM) and ``limit`` (<= 1000).
        Returns the events and the next link to store. Raises
        OktaMalformedResponse for an unreadable body, and for an unreadable
        event unless ``skip_unreadable``: then such events are returned in
        ``LogPage.unreadable`` and the rest of the page is kept (a reader that
        only counts evidence loses one event, not the page).
        """
        if next_url:
            check_same_origin(next_url, self.org_url, LOGS_PATH)
            response = self.transport.request("GET", next_url, retry_safe=True)
        else:
            params: dict[str, Any] = {
                "sortOrder": "ASCENDING",
                "limit": max(1, min(int(limit), 1000)),
            }
            if since is not None:
                if since.tzinfo is None:
                    raise ValueError("since must be timezone-aware")
                params["since"] = (
                    since.astimezone(UTC).isoformat(timespec="milliseconds")
                ).replace("+00:00", "Z")
            if filter:
                params["filter"] = filter
            response = self.transport.request(
                "GET", LOGS_PATH, params=params, retry_safe=True
            )
        raws = _list_body(response, "System Log")
        unreadable: list[UnreadableEvent] = []
        if skip_unreadable:
            events = []
            for raw in raws:
                try:
                    events.append(parse_log_event(raw))
                except ParseError as exc:
                    unreadable.append(unreadable_event(raw, exc))
        else:
            events = _parse_each(response, raws, parse_log_event, "a System Log event")
        following = response.links.get("next")
        if following is not None:
            check_same_origin(following, self.org_url, LOGS_PATH)
        date = parse_rate_limit_headers(response.headers).date
        return LogPage(
            tuple(events),
            following,
            tuple(unreadable),
            datetime.fromtimestamp(date, UTC) if date is not None else None,
        )

    # -- API service integrations ----------------------------------------------

    def list_api_service_integration_instances(self) -> list[ApiServiceIntegration]:
        """Every OIN API service integration of the org:
        ``GET /integrations/api/v1/api-services``, following ``Link: rel="next"``.

        Okta API reference: API Service Integrations,
        ``listApiServiceIntegrationInstances`` (needs
        ``okta.oauthIntegrations.read``; Okta chooses the page size). Raises
        OktaInsufficientScope / OktaPermissionDenied when the caller may not read
        them, OktaMalformedResponse when a body or an integration in it is
        unreadable (a partial list would look like removed integrations) or
        Okta repeats a paging link, OktaForeignLink for a link off the org.
        """
        return self._read_list(
            API_SERVICES_PATH,
            parse_api_service_integration,
            "API service integrations",
            "an API service integration",
        )

    def get_api_service_integration_instance(
        self, service_id: str
    ) -> ApiServiceIntegration:
        """One integration: ``GET /integrations/api/v1/api-services/{apiServiceId}``.

        Okta API reference: ``getApiServiceIntegrationInstance``. Raises
        OktaNotFound when it no longer exists, OktaMalformedResponse when the
        body is not an integration.
        """
        response = self.transport.request(
            "GET", f"{API_SERVICES_PATH}/{_seg(service_id)}", retry_safe=True
        )
        return _parse_one(
            response,
            parse_api_service_integration,
            f"API service integration {service_id}",
        )

    def list_api_service_integration_instance_secrets(
        self, service_id: str
    ) -> list[ApiServiceSecret]:
        """An integration's client secrets (status and dates, never the secret):
        ``GET /integrations/api/v1/api-services/{apiServiceId}/credentials/secrets``.

        Okta API reference: ``listApiServiceIntegrationInstanceSecrets`` (not
        paginated). Raises OktaNotFound for an unknown integration and
        OktaMalformedResponse for an unreadable body or secret.
        """
        return self._read_list(
            f"{API_SERVICES_PATH}/{_seg(service_id)}/credentials/secrets",
            parse_api_service_secret,
            f"secrets of {service_id}",
            f"a secret of API service integration {service_id}",
        )

    def delete_api_service_integration_instance(self, service_id: str) -> RevokeResult:
        """Remove an integration, which also revokes every scope it was granted:
        ``DELETE /integrations/api/v1/api-services/{apiServiceId}``.

        Okta API reference: ``deleteApiServiceIntegrationInstance`` (204; needs
        ``okta.oauthIntegrations.manage`` and a Super Admin). One already gone
        (404) is success with ``already_gone=True``. Safe to repeat, so retried
        like a GET. Raises OktaPermissionDenied / OktaInsufficientScope when the
        caller may not remove it.
        """
        path = f"{API_SERVICES_PATH}/{_seg(service_id)}"
        try:
            response = self.transport.request("DELETE", path, retry_safe=True)
        except OktaNotFound as exc:
            return RevokeResult(True, exc.request_id)
        return RevokeResult(False, response.request_id)

    # -- Client role targets and resource sets -----------------------------------

    def list_group_target_role_for_client(
        self, client_id: str, role_assignment_id: str
    ) -> list[RoleTarget]:
        """The groups a service app's role is scoped to:
        ``GET /oauth2/v1/clients/{clientId}/roles/{roleAssignmentId}/targets/groups``.

        Okta API reference: RoleBTargetClient, ``listGroupTargetRoleForClient``;
        needs ``okta.roles.read``. An empty list: the role is not scoped to
        groups (it reaches all of them). Follows ``Link: rel="next"``. Raises
        OktaNotFound (no such client or assignment), OktaPermissionDenied /
        OktaInsufficientScope, OktaMalformedResponse.
        """
        return self._targets(
            f"/oauth2/v1/clients/{_seg(client_id)}/roles/{_seg(role_assignment_id)}"
            "/targets/groups",
            parse_group_target,
            f"group targets of client {client_id}",
        )

    def list_app_target_role_to_client(
        self, client_id: str, role_assignment_id: str
    ) -> list[RoleTarget]:
        """The apps an ``APP_ADMIN`` role of a service app is scoped to:
        ``GET /oauth2/v1/clients/{clientId}/roles/{roleAssignmentId}/targets/catalog/apps``.

        Okta API reference: RoleBTargetClient, ``listAppTargetRoleToClient``;
        needs ``okta.roles.read``. An empty list: every app. Raises like
        :meth:`list_group_target_role_for_client`.
        """
        return self._targets(
            f"/oauth2/v1/clients/{_seg(client_id)}/roles/{_seg(role_assignment_id)}"
            "/targets/catalog/apps",
            parse_app_target,
            f"app targets of client {client_id}",
        )

    def _targets(
        self, path: str, parse: Callable[[Any], RoleTarget], whose: str
    ) -> list[RoleTarget]:
        return self._read_list(path, parse, whose, f"one of the {whose}")

    def get_resource_set(self, resource_set_id: str) -> ResourceSet:
        """A custom role's resource set:
        ``GET /api/v1/iam/resource-sets/{resourceSetIdOrLabel}``.

        Okta API reference: ResourceSet, ``getResourceSet``; needs
        ``okta.roles.read``. Raises OktaNotFound, OktaPermissionDenied /
        OktaInsufficientScope, OktaMalformedResponse.
        """
        response = self.transport.request(
            "GET", f"/api/v1/iam/resource-sets/{_seg(resource_set_id)}", retry_safe=True
        )
        return _parse_one(
            response, parse_resource_set, f"resource set {resource_set_id}"
        )

    # -- Application Tokens ----------------------------------------------------

    def list_oauth2_tokens_for_application(self, app_id: str) -> list[RefreshToken]:
        """Every live refresh token of an app: ``GET /api/v1/apps/{appId}/tokens``.

        Okta API reference: Application Tokens, ``listOAuth2TokensForApplication``
        (needs ``okta.apps.read``), 200 a page, following ``Link: rel="next"``
        (checked to be on the org and the same path). Raises OktaNotFound for an
        unknown app, OktaInsufficientScope / OktaPermissionDenied when the caller
        may not read it, and OktaMalformedResponse if a page or a token in it is
        unreadable or Okta repeats a page link (a partial list would undercount).
        """
        return self._read_list(
            f"{APPS_PATH}/{_seg(app_id)}/tokens",
            parse_refresh_token,
            f"refresh tokens of {app_id}",
            f"a refresh token of app {app_id}",
            params={"limit": PAGE_LIMIT},
        )

    def revoke_oauth2_tokens_for_application(self, app_id: str) -> TokensRevoked:
        """End every refresh token of an app and the access tokens minted from
        them: ``DELETE /api/v1/apps/{appId}/tokens``.

        Okta API reference: Application Tokens, ``revokeOAuth2TokensForApplication``
        (204; needs ``okta.apps.manage``). Access tokens issued without a refresh
        token are not affected: they live until they expire. Safe to repeat, so
        retried like a GET. Raises OktaNotFound for an unknown app and
        OktaInsufficientScope / OktaPermissionDenied when the caller may not.
        """
        response = self.transport.request(
            "DELETE", f"{APPS_PATH}/{_seg(app_id)}/tokens", retry_safe=True
        )
        return TokensRevoked(response.request_id)

    # -- Compensating controls: client credentials, org setting -----------------

    def list_oauth2_client_secrets(self, app_id: str) -> list[ClientCredential]:
        """An app's client secrets, without their values:
        ``GET /api/v1/apps/{appId}/credentials/secrets``.

        Okta API reference: Application SSO Public Keys,
        ``listOAuth2ClientSecrets`` (needs ``okta.apps.read``). Raises
        OktaNotFound for an unknown app (or one that is no OAuth client),
        OktaPermissionDenied / OktaInsufficientScope when the caller may not
        read it, OktaMalformedResponse for a body that is not a list of secrets.
        """
        return self._credentials(app_id, "secrets")

    def list_jwk(self, app_id: str) -> list[ClientCredential]:
        """An app's registered public keys (for ``private_key_jwt``), without
        the key material: ``GET /api/v1/apps/{appId}/credentials/jwks``.

        Okta API reference: Application SSO Public Keys, ``listJwk`` (needs
        ``okta.apps.read``). The spec's schema is an array; its example wraps
        the keys in ``{"jwks": {"keys": [...]}}``, so both are read. Raises
        like :meth:`list_oauth2_client_secrets`.
        """
        return self._credentials(app_id, "jwks")

    def _credentials(self, app_id: str, kind: str) -> list[ClientCredential]:
        response = self.transport.request(
            "GET",
            f"{APPS_PATH}/{_seg(app_id)}/credentials/{kind}",
            retry_safe=True,
        )
        body = response.body
        if kind == "jwks" and isinstance(body, dict):
            wrapped = body.get("jwks")
            body = wrapped.get("keys") if isinstance(wrapped, dict) else None
        if not isinstance(body, list):
            raise OktaMalformedResponse(
                f"{kind} of app {app_id}: expected a JSON array",
                status=response.status,
                request_id=response.request_id,
            )
        return _parse_each(
            response, body, parse_credential, f"a credential of app {app_id}"
        )

    def get_client_privileges_setting(self) -> bool:
        """Whether the org assigns the Super Admin role to new public client
        apps: ``GET /api/v1/org/settings/clientPrivilegesSetting``.

        Okta API reference: Org Setting Admin, ``getClientPrivilegesSetting``
        (needs ``okta.orgs.read``). Raises OktaInsufficientScope /
        OktaPermissionDenied when the caller may not read it, and
        OktaMalformedResponse unless the body holds a boolean
        ``clientPrivilegesSetting``.
        """
        response = self.transport.request(
            "GET", "/api/v1/org/settings/clientPrivilegesSetting", retry_safe=True
        )
        body = response.body
        value = body.get("clientPrivilegesSetting") if isinstance(body, dict) else None
        if not isinstance(value, bool):
            raise OktaMalformedResponse(
                "clientPrivilegesSetting: expected an object with a boolean "
                "'clientPrivilegesSetting'",
                status=response.status,
                request_id=response.request_id,
            )
        return value
