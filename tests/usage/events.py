"""Okta-shaped System Log events for the usage tests (the shapes of
docs/okta-api.md §6 and the observed token-grant payloads), and a way to put
them into the running simulator's System Log."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

_ids = itertools.count(1)

SERVICE_APP = "0oaUsageServiceApp01"


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event(
    event_type: str,
    *,
    published: datetime | None = None,
    actor: tuple[str, str] = (SERVICE_APP, "PublicClientApp"),
    client_id: Any = None,
    outcome: str = "SUCCESS",
    reason: Any = None,
    debug: dict[str, Any] | None = None,
    targets: list[dict[str, Any]] | None = None,
    uuid: str | None = None,
) -> dict[str, Any]:
    """One ``LogEvent`` as Okta sends it."""
    published = published or datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    n = next(_ids)
    return {
        "uuid": uuid or f"usage-test-{n:08d}",
        "published": iso(published),
        "eventType": event_type,
        "version": "0",
        "severity": "INFO",
        "displayMessage": "",
        "actor": {
            "id": actor[0],
            "type": actor[1],
            "alternateId": actor[0],
            "displayName": actor[0],
        },
        "client": {"id": client_id, "ipAddress": "203.0.113.10", "zone": None},
        "outcome": {"result": outcome, "reason": reason},
        "transaction": {"type": "WEB", "id": f"req{n}", "detail": {}},
        "debugContext": {"debugData": {"requestId": f"req{n}", **(debug or {})}},
        "target": targets or [],
    }


def token_grant(
    granted: Any = "okta.users.read, okta.users.manage", **kwargs: Any
) -> dict[str, Any]:
    """``app.oauth2.token.grant.access_token`` of a service app's
    ``client_credentials`` request (the actor is the client app)."""
    debug = {
        "grantedScopes": granted,
        "requestedScopes": "okta.users.read okta.users.manage",
        "grantType": "client_credentials",
        "clientAuthType": "private_key_jwt",
    }
    debug.update(kwargs.pop("debug", {}))
    return event("app.oauth2.token.grant.access_token", debug=debug, **kwargs)


def denied(requested: Any = "okta.roles.manage", **kwargs: Any) -> dict[str, Any]:
    """A token request naming a scope the app does not hold."""
    return event(
        "app.oauth2.token.grant.access_token",
        outcome="FAILURE",
        reason="no_matching_scope",
        debug={"requestedScopes": requested, "grantType": "client_credentials"},
        **kwargs,
    )


def write(event_type: str = "user.lifecycle.create", **kwargs: Any) -> dict[str, Any]:
    """A logged write made with ``SERVICE_APP``'s token."""
    kwargs.setdefault("client_id", SERVICE_APP)
    return event(event_type, **kwargs)


def add_to_sim(sim_server, raw: dict[str, Any]) -> None:
    """Append a token-grant event (actor, outcome, debugData) to the running
    simulator's System Log, stamped with the simulator's clock."""
    from grantsconsole.oktasim.state import Actor

    org = sim_server.sim.org
    a = raw["actor"]
    with org.lock:
        org.log(
            raw["eventType"],
            "OAuth2 access token is granted",
            Actor(a["id"], a["type"], a["alternateId"], a["displayName"]),
            ((a["id"], "PublicClientApp", a["id"], a["id"]),),
            request_uri="/oauth2/v1/token",
            outcome=raw["outcome"]["result"],
            debug_data={
                k: v
                for k, v in raw["debugContext"]["debugData"].items()
                if k != "requestId"
            },
        )
