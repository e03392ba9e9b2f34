"""The activity generator: the org's apps request tokens from the Org AS and make
writes, as System Log evidence of how each grant is used.

The *profile* (seed data: ``DEMO_ACTIVITY`` in seed.py, or a seed's
``"activity"``) says per app label which scopes its token requests ask for and
which held scopes its writes exercise::

    {"<app label>": {"requests": ["<space-separated scopes>", ...],  # in turn
                     "writes": ["okta.users.manage", ...],           # optional
                     "user": "<login>"}}  # who signs in; apps other than service

Each *session* is one token request, run through the Org AS's own scope rules
(``OrgAuthServer.filter_scopes``: silent downscoping, ``no_matching_scope``
denials) and logged by ``OrgAuthServer.log_token_grant``, followed by one write
event per scope in ``writes`` that the token carries (:data:`WRITES`; the
simulator serves none of these endpoints, see DEVIATIONS.md). Service apps use
``client_credentials``; other apps ``authorization_code`` for their first session
and ``refresh_token`` afterwards when ``offline_access`` was granted.

Sessions are on a fixed schedule, ``events_per_app_per_day`` slots per app and
day counted from the epoch, each jittered by a hash of (seed, app, slot), so the
same seed gives the same sessions for the same times:

- :func:`simulate` back-fills ``days`` of history ending now (then re-sorts the
  log, like seed history: start it before anyone polls);
- live mode (:func:`catch_up`, called before every request) writes the sessions
  due since the last request, so advancing the clock by 30 days makes 30 days of
  activity on the next request (at most the 90 days the System Log keeps).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .state import App, Org, User, base62
from .web import OAuthError

if TYPE_CHECKING:
    from .oauth import OrgAuthServer

log = logging.getLogger(__name__)

DAY = 86400.0
RETENTION_DAYS = 90

# Scope -> the pair of write events its holder's sessions alternate between:
# (eventType, displayMessage, target kinds, requestUri template). Event types
# and messages are from Okta's event-type catalogue; target kinds: "user" (a
# generated user), "group", "app" (the org app the write touches, default the
# writer itself), "scope", "policy", "token".
WRITES: dict[str, tuple[tuple[str, str, tuple[str, ...], str], ...]] = {
    "okta.users.manage": (
        ("user.lifecycle.create", "Create okta user", ("user",), "/api/v1/users"),
        (
            "user.lifecycle.deactivate",
            "Deactivate Okta user",
            ("user",),
            "/api/v1/users/{user}/lifecycle/deactivate",
        ),
    ),
    "okta.groups.manage": (
        (
            "group.user_membership.add",
            "Add user to group membership",
            ("user", "group"),
            "/api/v1/groups/{group}/users/{user}",
        ),
        (
            "group.user_membership.remove",
            "Remove user from group membership",
            ("user", "group"),
            "/api/v1/groups/{group}/users/{user}",
        ),
    ),
    "okta.apps.manage": (
        (
            "application.lifecycle.update",
            "Update application",
            ("app",),
            "/api/v1/apps/{app}",
        ),
        (
            "application.user_membership.add",
            "Add user to application membership",
            ("user", "app"),
            "/api/v1/apps/{app}/users",
        ),
    ),
    "okta.appGrants.manage": (
        (
            "app.oauth2.admin.consent.grant",
            "Admin consent granted for scope",
            ("client", "scope"),
            "/api/v1/apps/{app}/grants",
        ),
        (
            "app.oauth2.admin.consent.revoke",
            "Admin consent revoked for scope",
            ("client", "scope"),
            "/api/v1/apps/{app}/grants/{grant}",
        ),
    ),
    "okta.roles.manage": (
        (
            "user.account.privilege.grant",
            "Grant user privilege",
            ("user",),
            "/api/v1/users/{user}/roles",
        ),
        (
            "iam.role.assignment.revoke",
            "Revoke role assignment",
            ("user",),
            "/api/v1/users/{user}/roles/{role}",
        ),
    ),
    "okta.policies.manage": (
        (
            "policy.lifecycle.update",
            "Update policy",
            ("policy",),
            "/api/v1/policies/{policy}",
        ),
        (
            "policy.rule.update",
            "Update policy rule",
            ("policy",),
            "/api/v1/policies/{policy}/rules/{rule}",
        ),
    ),
    "okta.apiTokens.manage": (
        (
            "system.api_token.update",
            "Update API token",
            ("token",),
            "/api/v1/api-tokens/{token}",
        ),
        (
            "system.api_token.revoke",
            "Revoke API token",
            ("token",),
            "/api/v1/api-tokens/{token}",
        ),
    ),
}
# An appGrants.manage session grants this scope to another app and revokes it
# a second later (both events in one session), so the log never claims a grant
# the app's grant collection lacks for longer than that.
CONSENT_SCOPE = "okta.users.read"
BOTH_IN_ONE_SESSION = {"okta.appGrants.manage"}


@dataclass(slots=True)
class Behaviour:
    """One profile entry, resolved against the org."""

    app: App
    requests: list[list[str]]
    writes: list[str]
    user: User | None
    index: int
    other_app: App  # the app its okta.apps.manage / appGrants.manage writes touch
    fixed_ids: dict[str, str] = field(default_factory=dict)  # its group, policy…

    def __post_init__(self) -> None:
        i = self.index
        self.fixed_ids = {
            "group": "00g" + base62(i * 31 + 11, 17),
            "policy": "00p" + base62(i * 17 + 5, 17),
            "rule": "0pr" + base62(i * 19 + 3, 17),
            "token": "00T" + base62(i * 23 + 7, 17),
            "app": self.other_app.id,
        }


@dataclass(slots=True)
class ActivityState:
    """The org's generator: ``profile`` (seed data), ``per_day`` sessions per app
    and day, ``seed``, ``live`` with ``generated_until`` (epoch s) and counters."""

    profile: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_day: float = 0.0
    seed: int = 0
    live: bool = False
    generated_until: float = 0.0
    simulated_days: float = 0.0
    events_written: int = 0
    sessions: dict[str, int] = field(default_factory=dict)  # client_id -> count


def state_of(org: Org) -> ActivityState:
    """The org's activity state (created from nothing on first use)."""
    st = getattr(org, "activity", None)
    if st is None:
        st = ActivityState()
        org.activity = st  # type: ignore[attr-defined]
    return st


def resolve(org: Org, profile: dict[str, dict[str, Any]]) -> list[Behaviour]:
    """The profile's apps in the org, in profile order. Raises ValueError naming
    a label that is not an ACTIVE OAuth client, a user that does not exist, or an
    entry without requests."""
    if not profile:
        return []
    by_label = {a.label: a for a in org.apps.values()}
    # Apps another app's writes may touch: active OAuth clients without the
    # consent scope, so a generated grant of it is a real change.
    others = [
        org.apps[i]
        for i in org.app_ids
        if org.apps[i].status == "ACTIVE"
        and org.apps[i].client_id
        and org.apps[i].grant_for(CONSENT_SCOPE) is None
    ]
    out = []
    for i, (label, spec) in enumerate(profile.items()):
        app = by_label.get(label)
        if app is None or not app.client_id or app.status != "ACTIVE":
            raise ValueError(f"activity: no active OAuth client app labelled {label!r}")
        requests = [str(r).split() for r in spec.get("requests", [])]
        if not requests or not all(requests):
            raise ValueError(f"activity: {label!r} needs non-empty 'requests'")
        user = None
        if app.kind != "service":
            login = str(spec.get("user", ""))
            user = org.users_by_login.get(login.lower())
            if user is None:
                raise ValueError(f"activity: {label!r} needs a known 'user'")
        writes = [str(s) for s in spec.get("writes", [])]
        unknown = [s for s in writes if s not in WRITES]
        if unknown:
            raise ValueError(f"activity: no write events for {unknown} ({label!r})")
        candidates = [a for a in others if a is not app] or [app]
        other = candidates[(i * 7) % len(candidates)]
        out.append(Behaviour(app, requests, writes, user, i, other))
    return out


def schedule(
    n_apps: int, per_day: float, seed: int, start: float, end: float
) -> list[tuple[float, int, int]]:
    """Sessions ``(time, app index, slot)`` in ``(start, end]``, by time: slot k of
    app i is at ``(k + jitter) * 86400 / per_day`` with a jitter in [0, 1)
    fixed by (seed, i, k)."""
    if per_day <= 0 or end <= start:
        return []
    width = DAY / per_day
    out = []
    for i in range(n_apps):
        for k in range(math.floor(start / width) - 1, math.floor(end / width) + 1):
            jitter = ((k * 2654435761 + (i + 1) * 40503 + seed * 97) % 1009) / 1009
            t = (k + jitter) * width
            if start < t <= end:
                out.append((t, i, k))
    out.sort()
    return out


def run(
    org: Org,
    oauth: OrgAuthServer,
    behaviours: list[Behaviour],
    sessions: list[tuple[float, int, int]],
    *,
    live: bool,
) -> int:
    """Write the sessions' events; returns how many were written. ``live``: the
    log is appended to, so no event is stamped before the last one (a change
    made through the control surface may be later than a session that was due)."""
    st = state_of(org)
    before = len(org.events)
    floor = org.events[-1].published if live and org.events else 0.0
    for t, i, k in sessions:
        _session(org, oauth, behaviours[i], max(t, floor), k, st)
    return len(org.events) - before


def _session(
    org: Org, oauth: OrgAuthServer, b: Behaviour, t: float, k: int, st: ActivityState
) -> None:
    app = b.app
    cid = app.client_id or app.id
    requested = b.requests[k % len(b.requests)]
    n = st.sessions.get(cid, 0)
    st.sessions[cid] = n + 1
    if app.kind == "service":
        grant_type, auth = "client_credentials", "private_key_jwt"
    else:
        auth = app.token_endpoint_auth_method
        grant_type = (
            "refresh_token"
            if n and "offline_access" in requested
            else "authorization_code"
        )
    try:
        granted = oauth.filter_scopes(app, requested, grant_type, auth, published=t)
    except OAuthError:
        return  # denied (logged as no_matching_scope when nothing was held)
    oauth.log_token_grant(
        app, b.user, requested, granted, grant_type, auth, published=t
    )
    if grant_type == "authorization_code" and "offline_access" in granted:
        oauth.log_token_grant(
            app,
            b.user,
            requested,
            granted,
            grant_type,
            auth,
            kind="refresh_token",
            published=t,
        )
    writes = [s for s in b.writes if s in granted]
    if not writes:
        return
    actor = org.user_actor(b.user) if b.user else org.client_actor(app)
    ids = _ids(b, k)
    offset = 1.0
    for scope in writes:
        pair = WRITES[scope]
        for event_type, message, kinds, uri in (
            pair if scope in BOTH_IN_ONE_SESSION else (pair[k % 2],)
        ):
            org.log(
                event_type,
                message,
                actor,
                tuple(_target(b, kind, ids) for kind in kinds),
                request_uri=uri.format(**ids),
                published=t + offset,
                client_id=cid,
            )
            offset += 1.0


def _ids(b: Behaviour, k: int) -> dict[str, str]:
    """Stable made-up ids for slot ``k``: a create and the deactivate that
    follows it (slots k, k+1 with k even) name the same user."""
    pair = k - k % 2
    n = (b.index + 1) * 1_000_003 + pair
    return {
        **b.fixed_ids,
        "user": "00u" + base62(n * 7919, 17),
        "grant": "oag" + base62(n * 104729, 17),
        "role": "ra1" + base62(n * 13, 17),
        "n": str(pair),
    }


def _target(b: Behaviour, kind: str, ids: dict[str, str]):
    app = b.app
    if kind == "user":
        login = f"activity.user{ids['n']}.{app.id[-6:].lower()}@example.com"
        return (ids["user"], "User", login, f"Activity User {ids['n']}")
    if kind == "group":
        return (ids["group"], "UserGroup", f"{app.label} Users", f"{app.label} Users")
    other = b.other_app
    if kind == "app":
        return (other.id, "AppInstance", other.label, other.name)
    if kind == "client":
        return (other.id, "PublicClientApp", other.label, other.label)
    if kind == "scope":
        return (CONSENT_SCOPE, "Scope", CONSENT_SCOPE, CONSENT_SCOPE)
    if kind == "policy":
        return (ids["policy"], "PolicyEntity", "Default Policy", "Default Policy")
    return (ids["token"], "Token", f"{app.label} token", f"{app.label} token")


def simulate(
    org: Org, oauth: OrgAuthServer, *, days: float, per_day: float, seed: int
) -> int:
    """Back-fill ``days`` of the profile's activity ending now; returns the
    number of events written. Re-sorts the log (``Org.sort_history``), so
    polling cursors handed out before no longer point where they did."""
    st = state_of(org)
    behaviours = resolve(org, st.profile)
    now = org.clock.now()
    sessions = schedule(len(behaviours), per_day, seed, now - days * DAY, now)
    written = run(org, oauth, behaviours, sessions, live=False)
    org.sort_history()
    st.simulated_days += days
    st.events_written += written
    return written


def configure(org: Org, *, per_day: float, seed: int, live: bool) -> None:
    """Set the rate (sessions per app and day) and seed; with ``live``, generate
    from now on as the clock moves, else stop. Raises ValueError when the
    profile does not fit the org (:func:`resolve`)."""
    st = state_of(org)
    resolve(org, st.profile)
    st.per_day, st.seed, st.live = per_day, seed, live
    st.generated_until = org.clock.now()


def check(per_day: float, days: float) -> None:
    """ValueError unless 0 < ``per_day`` <= 1440 (once a minute) and 0 <= ``days``
    <= 180 (the oldest ``since`` Okta accepts)."""
    if not 0 < per_day <= 1440:
        raise ValueError("events_per_app_per_day must be in (0, 1440]")
    if not 0 <= days <= 180:
        raise ValueError("simulate_days must be in [0, 180]")


def begin(
    org: Org, oauth: OrgAuthServer, *, per_day: float, days: float, seed: int = 0
) -> int:
    """``--activity``: back-fill ``days`` at ``per_day``, then go live at that
    rate; returns the events back-filled. ValueError as :func:`check` and
    :func:`resolve`."""
    check(per_day, days)
    with org.lock:
        written = simulate(org, oauth, days=days, per_day=per_day, seed=seed)
        configure(org, per_day=per_day, seed=seed, live=True)
    return written


def catch_up(org: Org, oauth: OrgAuthServer) -> None:
    """Live mode: write the sessions due since the last call (caller holds the
    org lock). A no-op when live mode is off."""
    st = getattr(org, "activity", None)
    if st is None or not st.live:
        return
    now = org.clock.now()
    start = max(st.generated_until, now - RETENTION_DAYS * DAY)
    try:
        behaviours = resolve(org, st.profile)
    except ValueError as e:
        # An app of the profile was deactivated or deleted since: stop rather
        # than fail the request that happened to come next.
        log.warning("oktasim: live activity stopped: %s", e)
        st.live = False
        return
    sessions = schedule(len(behaviours), st.per_day, st.seed, start, now)
    st.events_written += run(org, oauth, behaviours, sessions, live=True)
    st.generated_until = now


def describe(org: Org) -> dict[str, Any]:
    """The generator's settings and counters as JSON (GET /__sim__/activity)."""
    from .shapes import iso

    st = state_of(org)
    return {
        "profile": st.profile,
        "live": st.live,
        "events_per_app_per_day": st.per_day,
        "seed": st.seed,
        "generated_until": iso(st.generated_until) if st.live else None,
        "simulated_days": st.simulated_days,
        "events_written": st.events_written,
        "sessions": dict(st.sessions),
    }
