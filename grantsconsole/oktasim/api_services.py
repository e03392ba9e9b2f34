"""OIN API service integrations: ``/integrations/api/v1/api-services``.

Okta Management API tag ``ApiServiceIntegrations``: list (``after`` cursor,
``Link`` paging), get, delete (which also revokes the integration's scopes) and
the list of an integration's client secrets. Reads need
``okta.oauthIntegrations.read`` (or ``.manage``), the delete
``okta.oauthIntegrations.manage``; the caller must be a Super Admin (see
DEVIATIONS.md). Authorizing and deleting one writes
``integration.api_service.lifecycle.authorize`` / ``.revoke`` to the System Log.
The control surface creates and deletes them out of band (``/__sim__/oob/api-service``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from .shapes import iso
from .state import Actor, Org, OrgError
from .web import HttpError, Request, Response, json_response

if TYPE_CHECKING:
    from .api import ManagementApi
    from .oauth import Caller

PREFIX = "/integrations/api/v1/api-services"
# The spec gives listApiServiceIntegrationInstances no ``limit``: Okta chooses the
# page size (undocumented); 20 keeps paging visible with a handful of them.
PAGE_SIZE = 20
ID_RX = re.compile(r"^0oa[0-9A-Za-z]{17}$")
READ = ("okta.oauthIntegrations.read", "okta.oauthIntegrations.manage")
MANAGE = ("okta.oauthIntegrations.manage",)


@dataclass
class ServiceSecret:
    """One client secret of an integration (only its tail is ever shown)."""

    id: str
    created: float
    status: str = "ACTIVE"
    tail: str = "0000"
    secret_hash: str = ""


@dataclass
class ApiService:
    """One API service integration instance of the org."""

    id: str
    type: str
    name: str
    created_at: float
    created_by: str
    granted_scopes: list[str]
    secrets: list[ServiceSecret] = field(default_factory=list)


def services(org: Org) -> dict[str, ApiService]:
    """The org's integrations by id (created on first use)."""
    return org.__dict__.setdefault("api_services", {})


def _target(svc: ApiService) -> tuple[str, str, str, str]:
    return (svc.id, "AppInstance", svc.name, svc.type)


def authorize(
    org: Org,
    *,
    type: str,
    name: str,
    scopes: list[str],
    actor: Actor,
    created: float | None = None,
    secret_ages_days: list[float] = (0,),
) -> ApiService:
    """Add an integration (as if authorized in the Admin Console); logs
    ``integration.api_service.lifecycle.authorize`` at ``created`` (default now)."""
    now = org.clock.now()
    when = float(int(now if created is None else created))
    svc = ApiService(
        id=org.ids.make("0oa"),
        type=type,
        name=name,
        created_at=when,
        created_by=actor.id,
        granted_scopes=list(scopes),
    )
    for i, age in enumerate(secret_ages_days):
        svc.secrets.append(
            ServiceSecret(
                id=org.ids.make("ocs"),
                created=float(int(now - age * 86400)),
                # Okta allows two secrets; the older one of a rotation is inactive.
                status="INACTIVE" if i < len(secret_ages_days) - 1 else "ACTIVE",
                tail=org.ids.token(4),
                secret_hash=org.ids.token(22),
            )
        )
    services(org)[svc.id] = svc
    org.log(
        "integration.api_service.lifecycle.authorize",
        "Authorize API service integration",
        actor,
        (_target(svc),),
        published=when if created is not None else None,
        request_uri=PREFIX,
    )
    return svc


def get(org: Org, service_id: str) -> ApiService:
    """The integration, else OrgError 404 E0000007."""
    svc = services(org).get(service_id)
    if svc is None:
        raise OrgError(
            404,
            "E0000007",
            f"Not found: Resource not found: {service_id} (ApiServiceIntegrationInstance)",
        )
    return svc


def delete(
    org: Org,
    service_id: str,
    actor: Actor,
    *,
    request_id: str = "",
    client_id: str | None = None,
    api_token_id: str | None = None,
) -> None:
    """Remove the integration and with it its scopes; logs ``.lifecycle.revoke``
    (``client_id`` / ``api_token_id``: see ``Org.log``)."""
    svc = get(org, service_id)
    del services(org)[service_id]
    org.log(
        "integration.api_service.lifecycle.revoke",
        "Revoke API service integration",
        actor,
        (_target(svc),),
        request_id=request_id,
        request_uri=f"{PREFIX}/{service_id}",
        client_id=client_id,
        api_token_id=api_token_id,
    )


def service_json(org: Org, svc: ApiService) -> dict[str, Any]:
    """``APIServiceIntegrationInstance``."""
    return {
        "id": svc.id,
        "type": svc.type,
        "name": svc.name,
        "createdAt": iso(svc.created_at),
        "createdBy": svc.created_by,
        "configGuideUrl": f"https://help.okta.com/oie/en-us/{svc.type}-guide",
        "grantedScopes": list(svc.granted_scopes),
        "_links": {
            "self": {
                "href": f"{org.url}{PREFIX}/{svc.id}",
                "hints": {"allow": ["GET", "DELETE"]},
            },
            "client": {
                "href": f"{org.url}/oauth2/v1/clients/{svc.id}",
                "hints": {"allow": ["GET"]},
            },
            "logo": {
                "name": "small",
                "href": f"{org.url}/assets/img/logos/{svc.type}_small_logo",
            },
        },
    }


def secret_json(org: Org, svc: ApiService, s: ServiceSecret) -> dict[str, Any]:
    """``APIServiceIntegrationInstanceSecret`` as listed (secret masked)."""
    base = f"{org.url}{PREFIX}/{svc.id}/credentials/secrets/{s.id}"
    if s.status == "ACTIVE":
        links = {
            "deactivate": {
                "href": f"{base}/lifecycle/deactivate",
                "hints": {"allow": ["POST"]},
            }
        }
    else:
        links = {
            "activate": {
                "href": f"{base}/lifecycle/activate",
                "hints": {"allow": ["POST"]},
            },
            "delete": {"href": base, "hints": {"allow": ["DELETE"]}},
        }
    return {
        "id": s.id,
        "status": s.status,
        "client_secret": f"***{s.tail}",
        "secret_hash": s.secret_hash,
        "created": iso(s.created),
        "lastUpdated": iso(s.created),
        "_links": links,
    }


class ApiServicesApi:
    """Handlers for the API service integration endpoints of a ManagementApi."""

    def __init__(self, api: ManagementApi) -> None:
        self.api = api

    @property
    def org(self) -> Org:
        # The simulator swaps its org on reset; always serve the current one.
        return self.api.org

    def routes(
        self,
    ) -> list[tuple[re.Pattern[str], dict[str, tuple[Callable, tuple[str, ...]]]]]:
        """Route-table entries for ManagementApi.routes."""
        S = r"(?P<service>[^/]+)"
        return [
            (re.compile(rf"^{PREFIX}$"), {"GET": (self.list, READ)}),
            (
                re.compile(rf"^{PREFIX}/{S}$"),
                {"GET": (self.get, READ), "DELETE": (self.delete, MANAGE)},
            ),
            (
                re.compile(rf"^{PREFIX}/{S}/credentials/secrets$"),
                {"GET": (self.secrets, READ)},
            ),
        ]

    def _require(self, caller: Caller) -> None:
        self.api.require_role(caller, {"SUPER_ADMIN"})

    def list(self, req: Request, caller: Caller) -> Response:
        """GET …/api-services: by id, PAGE_SIZE a page, ``after`` the last id."""
        self._require(caller)
        after = req.query.get("after")
        if after is not None and not ID_RX.match(after):
            raise HttpError(
                400, "E0000029", "Invalid paging request.", ["Invalid cursor."]
            )
        ids = sorted(services(self.org))
        if after:
            ids = [i for i in ids if i > after]
        page = ids[:PAGE_SIZE]
        base = f"{self.org.url}{req.path}"
        headers = [
            (
                "Link",
                f'<{base}{"?" + req.raw_query if req.raw_query else ""}>; rel="self"',
            )
        ]
        if len(ids) > PAGE_SIZE:
            query = urlencode({"after": page[-1]}, quote_via=quote)
            headers.append(("Link", f'<{base}?{query}>; rel="next"'))
        body = [service_json(self.org, services(self.org)[i]) for i in page]
        return json_response(200, body, headers)

    def get(self, req: Request, caller: Caller, service: str) -> Response:
        """GET …/api-services/{apiServiceId}."""
        self._require(caller)
        return json_response(200, service_json(self.org, get(self.org, service)))

    def delete(self, req: Request, caller: Caller, service: str) -> Response:
        """DELETE …/api-services/{apiServiceId}: 204; its scopes go with it."""
        self._require(caller)
        delete(
            self.org,
            service,
            self.api.actor_of(caller),
            request_id=req.request_id,
            **self.api.via(caller),
        )
        return Response(204, b"", [], None)

    def secrets(self, req: Request, caller: Caller, service: str) -> Response:
        """GET …/api-services/{apiServiceId}/credentials/secrets."""
        self._require(caller)
        svc = get(self.org, service)
        return json_response(200, [secret_json(self.org, svc, s) for s in svc.secrets])


def oob(control: Any, data: dict, req: Request) -> Response:
    """Control surface ``POST /__sim__/oob/api-service``:
    ``{action: "create", name, type, scopes, actor_login?}`` answers 201 with the
    integration; ``{action: "delete", id, actor_login?}`` answers 204."""
    org = control.sim.org
    with org.lock:
        actor = control._actor(data)
        if data.get("action") == "create":
            svc = authorize(
                org,
                type=str(data["type"]),
                name=str(data["name"]),
                scopes=[str(s) for s in data.get("scopes", [])],
                actor=actor,
            )
            return json_response(201, service_json(org, svc))
        if data.get("action") == "delete":
            delete(org, str(data["id"]), actor)
            return Response(204, b"", [], None)
    raise ValueError("action must be create or delete")


def seed(org: Org, specs: list[dict[str, Any]], actor: Actor) -> None:
    """Authorize the seed's integrations, back-dated ``created_days_ago``."""
    now = org.clock.now()
    for spec in specs:
        authorize(
            org,
            type=spec["type"],
            name=spec["name"],
            scopes=spec["scopes"],
            actor=actor,
            created=now - spec.get("created_days_ago", 30) * 86400,
            secret_ages_days=spec.get("secret_ages_days", [0]),
        )
