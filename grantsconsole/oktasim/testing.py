"""``SimControl``: a small HTTP client for the simulator's ``/__sim__/`` control
surface, used by the pytest fixtures and benchmarks. It talks to the simulator
over HTTP only (stdlib ``urllib``), so it works against any running simulator.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class SimControlError(Exception):
    """A control request failed; ``status`` and ``body`` say how."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"simulator control request failed: {status} {body}")
        self.status = status
        self.body = body


class SimControl:
    """Drive a running simulator at ``url`` (the org URL)."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, data: dict | None = None) -> Any:
        body = json.dumps(data).encode() if data is not None else None
        req = urllib.request.Request(
            f"{self.url}/__sim__{path}",
            data=body,
            method=method,
            headers={"Content-Type": "application/json"} if body is not None else {},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            raise SimControlError(e.code, parsed) from None
        return json.loads(raw) if raw else None

    def reset(
        self,
        seed: str | dict = "demo",
        apps: int | None = None,
        rate_limit: int | None = None,
    ) -> dict:
        """Back to a freshly seeded org (clock, limits, faults, tokens, request log)."""
        return self._call(
            "POST", "/reset", {"seed": seed, "apps": apps, "rate_limit": rate_limit}
        )

    def fault(
        self,
        path: str,
        kind: str = "status",
        method: str = "*",
        times: int = 1,
        **options: Any,
    ) -> dict:
        """Inject a fault for ``method`` + ``path`` (regex) ``times`` times (-1 = always).

        See :mod:`grantsconsole.oktasim.faults` for kinds and options, e.g.
        ``fault("/api/v1/apps$", status=500)`` or ``fault("/grants", kind="drop")``.
        """
        return self._call(
            "POST",
            "/faults",
            {"path": path, "kind": kind, "method": method, "times": times, **options},
        )

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self._call("DELETE", "/faults")

    def requests(self, since: int = 0) -> list[dict]:
        """Every API request since the last reset: method, path, query, status, caller,
        request_id, bucket, time (simulator clock, when received)."""
        return self._call("GET", f"/requests?since={since}")

    def webhooks(self) -> list[dict]:
        """Alert webhooks the local receiver got (``/__sim__/webhooks``), newest
        last: ``received_at`` (Unix seconds), ``verdict``, ``delivery``, ``body``."""
        return self._call("GET", "/webhooks")

    def state(self) -> dict:
        """Apps (with grants) and users as JSON: ``{"url", "apps", "users", "events"}``."""
        return self._call("GET", "/state")

    def oob_grant(
        self,
        app_id: str,
        scope_id: str,
        actor_login: str = "super.admin@example.com",
        issuer: str = "",
    ) -> dict:
        """Grant as if in Okta's Admin Console (writes the System Log event);
        ``issuer`` stores it under another issuer (a custom URL domain)."""
        body = {"app_id": app_id, "scope_id": scope_id, "actor_login": actor_login}
        if issuer:
            body["issuer"] = issuer
        return self._call("POST", "/oob/grant", body)

    def oob_revoke(
        self, app_id: str, scope_id: str, actor_login: str = "super.admin@example.com"
    ) -> None:
        """Revoke as if in Okta's Admin Console (writes the System Log event)."""
        self._call(
            "POST",
            "/oob/revoke",
            {"app_id": app_id, "scope_id": scope_id, "actor_login": actor_login},
        )

    def oob_app(self, action: str, **fields: Any) -> dict | None:
        """App lifecycle out of band: create (label, kind, grants), activate, deactivate,
        delete (app_id), writing ``application.lifecycle.*`` events; or
        rotate_secret (app_id): a new client secret, the old ones deactivated."""
        return self._call("POST", "/oob/app", {"action": action, **fields})

    def oob_api_service(self, action: str, **fields: Any) -> dict | None:
        """An API service integration out of band: create (name, type, scopes) or
        delete (id); writes ``integration.api_service.lifecycle.*`` events."""
        return self._call("POST", "/oob/api-service", {"action": action, **fields})

    def oob_user_deactivate(
        self, login: str, actor_login: str = "super.admin@example.com"
    ) -> dict:
        """Deactivate a user as if in Okta's Admin Console (writes the System
        Log's ``user.lifecycle.deactivate``); returns the user as Okta shows it."""
        return self._call(
            "POST",
            "/oob/user",
            {"action": "deactivate", "login": login, "actor_login": actor_login},
        )

    def set_roles(self, login: str, roles: list[str]) -> dict:
        """Replace a user's admin roles (e.g. ``[]`` demotes a Super Admin)."""
        return self._call("POST", "/roles", {"login": login, "roles": roles})

    def set_groups(self, login: str, groups: list[str]) -> dict:
        """Replace a user's groups (``Everyone`` stays)."""
        return self._call("POST", "/groups", {"login": login, "groups": groups})

    def set_client_roles(
        self, client_id: str, roles: list[str], actor_login: str = ""
    ) -> dict:
        """Replace a service app's admin roles (e.g. ``[]`` removes the worker's);
        the System Log names ``actor_login`` (default: Okta itself)."""
        body: dict = {"client_id": client_id, "roles": roles}
        if actor_login:
            body["actor_login"] = actor_login
        return self._call("POST", "/roles", body)

    def advance_clock(self, seconds: float) -> dict:
        """Move the simulator clock forward (token expiry, rate-limit windows)."""
        return self._call("POST", "/clock", {"advance_seconds": seconds})

    def set_rate_limit(
        self,
        bucket: str = "apps",
        limit: int | None = None,
        window_seconds: float | None = None,
        **more: Any,
    ) -> dict:
        """Set a bucket's limit per window (and the window length, concurrency)."""
        data: dict[str, Any] = dict(more)
        if limit is not None:
            data.update(bucket=bucket, limit=limit)
        if window_seconds is not None:
            data["window_seconds"] = window_seconds
        return self._call("POST", "/rate-limits", data)

    def token(
        self,
        login: str | None = None,
        scopes: list[str] | str | None = None,
        client_id: str | None = None,
        mfa: bool = False,
    ) -> dict:
        """Mint a token response without a browser (user token with ``login``, else a
        service-app token for ``client_id``). Ungranted okta.* scopes are dropped."""
        data: dict[str, Any] = {"scopes": scopes, "mfa": mfa}
        if login:
            data["login"] = login
        if client_id:
            data["client_id"] = client_id
        return self._call("POST", "/tokens", data)

    def activity(
        self,
        events_per_app_per_day: float,
        simulate_days: float = 0,
        live: bool = False,
        seed: int = 0,
    ) -> dict:
        """Run the activity generator: back-fill ``simulate_days`` of the seed's
        activity profile, and keep generating as the clock moves when ``live``."""
        return self._call(
            "POST",
            "/activity",
            {
                "events_per_app_per_day": events_per_app_per_day,
                "simulate_days": simulate_days,
                "live": live,
                "seed": seed,
            },
        )
