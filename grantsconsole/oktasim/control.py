"""The ``/__sim__/`` control surface (JSON in, JSON out) used by tests, benchmarks
and humans. Documented in ``grantsconsole/oktasim/README.md``.

Not part of Okta: requests here are not rate limited and not recorded in
``/__sim__/requests``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import activity, api_services, controls
from .shapes import grant_json, iso, user_json
from .state import App, OrgError
from .web import Request, Response, json_response

if TYPE_CHECKING:
    from .server import Simulator


def _err(status: int, message: str) -> Response:
    return json_response(status, {"error": message})


class ControlSurface:
    """Handlers for /__sim__/* over a :class:`Simulator`."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def handle(self, req: Request) -> Response:
        """Dispatch one /__sim__/ request; bad input answers 400 JSON."""
        route = (req.method, req.path.removeprefix("/__sim__").rstrip("/") or "/")
        handlers = {
            ("POST", "/reset"): self.reset,
            ("POST", "/faults"): self.add_fault,
            ("GET", "/faults"): self.list_faults,
            ("DELETE", "/faults"): self.clear_faults,
            ("POST", "/rate-limits"): self.set_rate_limits,
            ("GET", "/rate-limits"): self.get_rate_limits,
            ("POST", "/clock"): self.clock,
            ("GET", "/clock"): self.clock,
            ("POST", "/oob/grant"): self.oob_grant,
            ("POST", "/oob/revoke"): self.oob_revoke,
            ("POST", "/oob/app"): self.oob_app,
            ("POST", "/oob/user"): self.oob_user,
            ("POST", "/oob/api-service"): lambda d, r: api_services.oob(self, d, r),
            ("POST", "/roles"): self.roles,
            ("POST", "/groups"): self.groups,
            ("POST", "/tokens"): self.tokens,
            ("POST", "/activity"): self.activity,
            ("GET", "/activity"): self.activity,
            ("GET", "/requests"): self.requests,
            ("GET", "/state"): self.state,
            ("GET", "/health"): self.health,
            ("POST", "/webhooks"): self.webhook_receive,
            ("GET", "/webhooks"): self.webhook_list,
            ("DELETE", "/webhooks"): self.webhook_clear,
            ("POST", "/webhooks/secret"): self.webhook_secret,
        }
        fn = handlers.get(route)
        if fn is None:
            known = sorted({p for _, p in handlers})
            if any(p == route[1] for p in known):
                return _err(405, f"method {req.method} not allowed on {req.path}")
            return _err(404, f"unknown control path {req.path}; known: {known}")
        data: Any = {}
        if req.body:
            try:
                data = json.loads(req.body)
            except ValueError:
                return _err(400, "the body must be JSON")
            if not isinstance(data, dict):
                return _err(400, "the body must be a JSON object")
        try:
            return fn(data, req)
        except OrgError as e:
            return json_response(
                e.status,
                {
                    "error": e.summary,
                    "errorCode": e.error_code,
                    "errorCauses": e.causes,
                },
            )
        except (ValueError, TypeError, KeyError) as e:
            return _err(400, f"bad control request: {e}")

    # --- handlers ----------------------------------------------------------------------
    def reset(self, data: dict, req: Request) -> Response:
        """POST /reset {seed?, apps?, rate_limit?}: a freshly seeded org."""
        self.sim.reset(
            seed=data.get("seed", "demo"),
            apps=data.get("apps"),
            rate_limit=data.get("rate_limit"),
        )
        return json_response(
            200,
            {
                "ok": True,
                "apps": len(self.sim.org.apps),
                "users": len(self.sim.org.users),
            },
        )

    def add_fault(self, data: dict, req: Request) -> Response:
        """POST /faults: add a rule (see faults.py); 201 with the rule."""
        fault = self.sim.faults.add(data)
        return json_response(201, fault.describe())

    def list_faults(self, data: dict, req: Request) -> Response:
        """GET /faults: the active rules with remaining uses and hits."""
        return json_response(200, [f.describe() for f in self.sim.faults.rules])

    def clear_faults(self, data: dict, req: Request) -> Response:
        """DELETE /faults: remove every rule."""
        self.sim.faults.clear()
        return Response(204, b"", [], None)

    def set_rate_limits(self, data: dict, req: Request) -> Response:
        """{bucket, limit} or {"apps": N, ...}; window_seconds; concurrency (null = off)."""
        limits = {}
        if "bucket" in data:
            limits[str(data["bucket"])] = int(data["limit"])
        for k, v in data.items():
            if k not in ("bucket", "limit", "window_seconds", "concurrency"):
                limits[k] = int(v)
        self.sim.limiter.configure(
            limits,
            data.get("window_seconds"),
            data.get("concurrency", False),
        )
        return self.get_rate_limits({}, req)

    def get_rate_limits(self, data: dict, req: Request) -> Response:
        """GET /rate-limits: limits per bucket, window, concurrency."""
        lim = self.sim.limiter
        return json_response(
            200,
            {
                "in_flight": lim.in_flight,
                "limits": lim.limits,
                "window_seconds": lim.window_seconds,
                "concurrency": lim.concurrency_limit,
            },
        )

    def clock(self, data: dict, req: Request) -> Response:
        """POST /clock {advance_seconds} moves the clock; GET shows it."""
        if req.method == "POST":
            self.sim.clock.advance(float(data.get("advance_seconds", 0)))
        now = self.sim.clock.now()
        return json_response(
            200,
            {"now": now, "now_iso": iso(now), "offset_seconds": self.sim.clock.offset},
        )

    def activity(self, data: dict, req: Request) -> Response:
        """POST /activity {events_per_app_per_day, simulate_days?, live?, seed?}:
        back-fill ``simulate_days`` (0-180) of the profile's activity, then
        generate live at the same rate while ``live`` (false stops it); GET (and
        the POST's answer) shows the generator (oktasim/activity.py)."""
        org = self.sim.org
        with org.lock:
            if req.method == "POST":
                per_day = float(data["events_per_app_per_day"])
                days = float(data.get("simulate_days", 0))
                seed = int(data.get("seed", 0))
                live = data.get("live", False)
                if not isinstance(live, bool):
                    raise ValueError("live must be true or false")
                activity.check(per_day, days)
                if days:
                    activity.simulate(
                        org, self.sim.oauth, days=days, per_day=per_day, seed=seed
                    )
                activity.configure(org, per_day=per_day, seed=seed, live=live)
            return json_response(200, activity.describe(org))

    def _actor(self, data: dict):
        org = self.sim.org
        login = data.get("actor_login", "super.admin@example.com")
        user = org.users_by_login.get(str(login).lower())
        if user is None:
            raise OrgError(
                404, "E0000007", f"Not found: Resource not found: {login} (User)"
            )
        return org.user_actor(user)

    def oob_grant(self, data: dict, req: Request) -> Response:
        """As if granted in Okta's Admin Console by ``actor_login``; logs the event.

        ``issuer`` (optional) stores the grant under another issuer, as an org with
        a custom URL domain holds grants made with that domain as issuer; the
        console must flag such grants (not the org URL it is configured with)."""
        org = self.sim.org
        with org.lock:
            app = org.get_app(data["app_id"])
            g = org.grant(
                app,
                data["scope_id"],
                self._actor(data),
                request_uri=f"/admin/app/{app.id}/grants",
            )
            if data.get("issuer"):
                g.issuer = str(data["issuer"])
            return json_response(200, grant_json(org, app, g, embed_scope=True))

    def oob_revoke(self, data: dict, req: Request) -> Response:
        """As if revoked in Okta's Admin Console; logs the event; 204."""
        org = self.sim.org
        with org.lock:
            app = org.get_app(data["app_id"])
            g = app.grant_for(data["scope_id"])
            if g is None:
                raise OrgError(
                    404,
                    "E0000007",
                    f"Not found: Resource not found: "
                    f"{data['scope_id']} (OAuth2ScopeConsentGrant)",
                )
            org.revoke(
                app, g, self._actor(data), request_uri=f"/admin/app/{app.id}/grants"
            )
        return Response(204, b"", [], None)

    def oob_app(self, data: dict, req: Request) -> Response:
        """{action: create|activate|deactivate|delete|rotate_secret, app_id?,
        label?, kind?, grants?}. ``rotate_secret``: as an admin rotating an
        app's client secret in the Admin Console (a new ACTIVE secret created
        now, the others deactivated); no System Log event."""
        org = self.sim.org
        action = data.get("action")
        with org.lock:
            actor = self._actor(data)
            if action == "create":
                kind = data.get("kind", "web")
                now = org.clock.now()
                app_id = org.ids.make("0oa")
                app = App(
                    id=app_id,
                    label=data.get("label", f"New app {app_id[-6:]}"),
                    kind=kind,
                    created=float(int(now)),
                    last_updated=float(int(now)),
                    client_id=app_id
                    if kind in ("web", "browser", "native", "service")
                    else None,
                    redirect_uris=[]
                    if kind == "service"
                    else [f"https://{app_id.lower()}.example.com/callback"],
                )
                org.add_app(app, actor)
                for s in data.get("grants", []):
                    org.grant(app, s, actor)
                return json_response(201, self._app_state(app))
            if action in ("activate", "deactivate"):
                app = org.set_app_status(
                    data["app_id"],
                    "ACTIVE" if action == "activate" else "INACTIVE",
                    actor,
                )
                return json_response(200, self._app_state(app))
            if action == "delete":
                org.delete_app(data["app_id"], actor)
                return Response(204, b"", [], None)
            if action == "rotate_secret":
                app = org.get_app(data["app_id"])
                secrets = controls.secrets_of(org, app)
                for old in secrets:
                    old.status = "INACTIVE"
                secrets.append(
                    controls.ClientSecret(
                        org.ids.make("ocs"),
                        f"rotated-secret-{app.id}-{len(secrets)}",
                        float(int(org.clock.now())),
                    )
                )
                return json_response(200, self._app_state(app))
        raise ValueError(
            "action must be create, activate, deactivate, delete or rotate_secret"
        )

    def oob_user(self, data: dict, req: Request) -> Response:
        """{action: deactivate, login, actor_login?}: as if an admin deactivated
        the user in Okta's Admin Console; logs ``user.lifecycle.deactivate``."""
        if data.get("action") != "deactivate":
            return _err(400, "action must be deactivate")
        org = self.sim.org
        with org.lock:
            who = org.users_by_login.get(str(data.get("actor_login", "")).lower())
            user = org.deactivate_user(
                str(data["login"]), org.user_actor(who) if who else None
            )
            return json_response(200, user_json(org, user))

    def roles(self, data: dict, req: Request) -> Response:
        """{login, roles} for a user, or {client_id, roles, actor_login?} for a
        service app (actor_login: who the System Log names; default Okta)."""
        org = self.sim.org
        with org.lock:
            if "client_id" in data:
                who = org.users_by_login.get(str(data.get("actor_login", "")).lower())
                app = org.set_client_roles(
                    data["client_id"],
                    list(data.get("roles", [])),
                    org.user_actor(who) if who else None,
                )
                return json_response(
                    200, {"client_id": app.client_id, "roles": sorted(app.role_types)}
                )
            user = org.set_roles(data["login"], list(data.get("roles", [])))
            return json_response(
                200,
                {"login": user.login, "id": user.id, "roles": sorted(user.role_types)},
            )

    def groups(self, data: dict, req: Request) -> Response:
        """{login, groups: [name...]}: replace a user's groups (``Everyone`` stays)."""
        org = self.sim.org
        with org.lock:
            user = org.users_by_login.get(str(data["login"]).lower())
            if user is None:
                return _err(404, f"no user {data['login']}")
            names = [str(g) for g in data.get("groups", []) if g != "Everyone"]
            user.groups = ["Everyone", *names]
            return json_response(200, {"login": user.login, "groups": user.groups})

    def tokens(self, data: dict, req: Request) -> Response:
        """Mint tokens without a browser: {login?, client_id?, scopes}. Sim-only helper.

        Scopes go through the same filter as /authorize and /token (ungranted okta.*
        scopes dropped). With ``login`` the token is a user token for ``client_id``
        (default the console app), else a service-app token for ``client_id``.
        """
        org = self.sim.org
        oauth = self.sim.oauth
        from .seed import CONSOLE_CLIENT_ID, WORKER_CLIENT_ID

        with org.lock:
            client_id = data.get("client_id") or (
                CONSOLE_CLIENT_ID if data.get("login") else WORKER_CLIENT_ID
            )
            app = org.apps_by_client_id.get(client_id)
            if app is None:
                raise OrgError(
                    404,
                    "E0000007",
                    f"Not found: Resource not found: {client_id} (OAuth2Client)",
                )
            scopes = data.get("scopes") or ["openid", "profile", "email"]
            if isinstance(scopes, str):
                scopes = scopes.split()
            from .web import OAuthError

            try:
                scopes = oauth.filter_scopes(app, list(scopes))
            except OAuthError as e:
                return json_response(
                    e.status, {"error": e.error, "error_description": e.description}
                )
            if data.get("login"):
                user = org.users_by_login.get(str(data["login"]).lower())
                if user is None:
                    raise OrgError(
                        404,
                        "E0000007",
                        f"Not found: Resource not found: {data['login']} (User)",
                    )
                now = int(org.clock.now())
                amr = ["pwd", "otp", "mfa"] if data.get("mfa") else ["pwd"]
                return oauth._issue(
                    app,
                    user,
                    scopes,
                    data.get("nonce"),
                    now,
                    amr,
                    None,
                    grant_type="authorization_code",
                    log=False,
                )
            return json_response(
                200,
                {
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "access_token": oauth.mint_access_token(app, None, scopes),
                    "scope": " ".join(scopes),
                },
            )

    def requests(self, data: dict, req: Request) -> Response:
        """GET /requests?since=N: recorded API requests from index N."""
        since = int(req.query.get("since", "0") or 0)
        with self.sim.requests_lock:
            # ``since`` counts from the reset even after old entries were dropped.
            items = self.sim.requests_log[max(0, since - self.sim.requests_dropped) :]
            return json_response(200, items)

    def _app_state(self, app: App) -> dict[str, Any]:
        return {
            "id": app.id,
            "label": app.label,
            "kind": app.kind,
            "name": app.name,
            "sign_on_mode": app.sign_on_mode,
            "status": app.status,
            "client_id": app.client_id,
            "roles": [r.type for r in app.roles],
            "grants": [
                {
                    "id": g.id,
                    "scopeId": g.scope_id,
                    "created": iso(g.created),
                    "createdBy": {"id": g.created_by_id, "type": g.created_by_type},
                }
                for g in app.grants
            ],
        }

    def state(self, data: dict, req: Request) -> Response:
        """GET /state: apps (sorted by id, with grants), users, event count."""
        org = self.sim.org
        with org.lock:
            return json_response(
                200,
                {
                    "url": org.url,
                    "apps": [self._app_state(org.apps[i]) for i in org.app_ids],
                    "users": [
                        {
                            "id": u.id,
                            "login": u.login,
                            "display_name": u.display_name,
                            "status": u.status,
                            "roles": sorted(u.role_types),
                        }
                        for u in org.users.values()
                    ],
                    "events": len(org.events),
                },
            )

    def health(self, data: dict, req: Request) -> Response:
        """GET /health: liveness and the org URL."""
        return json_response(
            200, {"ok": True, "url": self.sim.url, "apps": len(self.sim.org.apps)}
        )

    def webhook_receive(self, data: dict, req: Request) -> Response:
        """POST /webhooks: the local alert-webhook receiver (webhooks.py); 200,
        or 401 for a bad or stale signature."""
        status, answer = self.sim.webhooks.receive(req.headers, req.body)
        return json_response(status, answer)

    def webhook_list(self, data: dict, req: Request) -> Response:
        """GET /webhooks: the deliveries received (newest last) with their
        arrival time (Unix seconds), signature verdict and body."""
        return json_response(200, self.sim.webhooks.list())

    def webhook_clear(self, data: dict, req: Request) -> Response:
        """DELETE /webhooks: forget the deliveries received."""
        self.sim.webhooks.clear()
        return Response(204, b"", [], None)

    def webhook_secret(self, data: dict, req: Request) -> Response:
        """POST /webhooks/secret {secret}: the signing secret to verify with."""
        self.sim.webhooks.secret = str(data["secret"])
        return json_response(200, {"ok": True})
