"""Seeds: the fixed demo org, large generated orgs, and JSON seed files.

A seed is a plain dict (also the JSON file format for ``--seed PATH.json``)::

    {"users": [{"login", "first_name", "last_name", "password", "roles": [ROLE...],
                "id"?, "api_token"?, "groups"?: [group name...]}],
     "apps":  [{"label", "kind": "web|browser|native|service|saml|bookmark",
                "name"?: Okta's app name (default by kind, "oidc_client" for OIDC),
                "oauth_client"?: false (an OIDC app without OAuth client settings),
                "id"?, "client_id"?, "client_secret"?, "redirect_uris"?,
                "post_logout_redirect_uris"?, "status"?, "roles"?: [ROLE or
                {"type", "groups"?, "apps"?, "role"?, "resource_set"?}...]
                (oktasim/privilege.py role_from_seed),
                "jwks"?: [JWK...], "loopback_any_port"?: bool,
                "groups_claim_filter"?: regex (the ID token's groups claim),
                "grants": [scopeId...], "granted_by"?: login,
                "refresh_tokens"?: [{"user": login, "scopes": [scope...],
                                     "age_days": n}]}],
     "controls"?: credentials, network zones and the org setting
                  (controls.seed_controls),
     "activity"?: the activity generator's profile (oktasim/activity.py)}

The demo org's users, passwords, SSWS token and client credentials are fixed (the
console's development defaults, docs/simulator.md "The demo org"); so are all ids
for a given seed, because ids come from a deterministic generator.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from . import activity, api_services
from .controls import seed_controls
from .oauth import REFRESH_TOKEN_TTL
from .privilege import DEMO_CLIENT_ROLES, role_from_seed
from .state import App, Org, RefreshToken

SEED_DIR = Path(__file__).with_name("seed")
WORKER_KEY_FILE = SEED_DIR / "worker-key.pem"

DEMO_PASSWORD = "Demo-Pass-2026!"
DEMO_SSWS_TOKEN = "00demoSuperAdminSSWStoken0000000000000000"
CONSOLE_CLIENT_ID = "0oa1consoleDEMO000x7"
CONSOLE_CLIENT_SECRET = "demo-console-secret-not-for-production-0000000000"
CONSOLE_REDIRECT_URIS = [
    "http://127.0.0.1:8000/accounts/oidc/okta/login/callback/",
    "http://localhost:8000/accounts/oidc/okta/login/callback/",
]
CONSOLE_POST_LOGOUT_URIS = ["http://127.0.0.1:8000/"]
CONSOLE_GRANTS = [
    "okta.apps.read",
    "okta.apps.manage",
    "okta.appGrants.read",
    "okta.appGrants.manage",
    "okta.roles.read",
    "okta.logs.read",
    "okta.oauthIntegrations.manage",
]
WORKER_CLIENT_ID = "0oa1workerDEMO0000x7"
WORKER_GRANTS = [
    "okta.apps.read",
    "okta.appGrants.read",
    "okta.logs.read",
    "okta.users.read",
    "okta.oauthIntegrations.read",
    "okta.roles.read",
    "okta.orgs.read",
]
# The optional enforcer (revokes grants at their end time): a separate service app
# with only okta.appGrants.manage and the Super Admin role that grant writes need.
# The demo signs with the worker's demo key (production refuses that key).
ENFORCER_CLIENT_ID = "0oa1enforcerDEMO00x7"
ENFORCER_GRANTS = ["okta.appGrants.manage"]

DEMO_USERS = [
    ("super.admin@example.com", "Sam", "Super", ["SUPER_ADMIN"], DEMO_SSWS_TOKEN),
    ("org.admin@example.com", "Olga", "Orgadmin", ["ORG_ADMIN"], None),
    ("app.admin@example.com", "Abe", "Appadmin", ["APP_ADMIN"], None),
    ("readonly.admin@example.com", "Rita", "Readonly", ["READ_ONLY_ADMIN"], None),
    ("end.user@example.com", "Eve", "Enduser", [], None),
    # A second Super Admin: two-person approval needs someone else to approve.
    ("security.admin@example.com", "Sid", "Security", ["SUPER_ADMIN"], None),
]

DEMO_REFRESH_TOKEN_APP = "Legacy CRM"
DEMO_REFRESH_TOKENS = [
    {
        "user": "super.admin@example.com",
        "scopes": ["openid", "offline_access", "okta.users.read", "okta.apps.manage"],
        "age_days": 41,
    },
    {
        "user": "app.admin@example.com",
        "scopes": ["openid", "offline_access", "okta.apps.manage"],
        "age_days": 12,
    },
    {
        "user": "end.user@example.com",
        "scopes": ["openid", "offline_access", "okta.users.read"],
        "age_days": 2,
    },
]

_DEMO_APPS: list[tuple[str, str, list[str]]] = [
    # (label, kind, grants)
    ("Payroll Portal", "web", ["okta.users.read", "okta.groups.read"]),
    (
        "HR Onboarding",
        "web",
        ["okta.users.manage", "okta.groups.manage", "okta.users.read"],
    ),
    ("Expense Reports", "web", []),
    ("Intranet Wiki", "web", ["okta.users.read.self"]),
    ("Vendor Portal", "web", ["okta.apps.read"]),
    (
        "Help Desk Console",
        "web",
        ["okta.users.read", "okta.factors.manage", "okta.logs.read"],
    ),
    (
        "Security Dashboard",
        "web",
        [
            "okta.logs.read",
            "okta.apps.read",
            "okta.policies.read",
            "okta.securityInsights.read",
        ],
    ),
    (
        "Access Reviews",
        "web",
        ["okta.governance.accessCertifications.manage", "okta.users.read"],
    ),
    ("Partner Hub", "web", ["okta.groups.read"]),
    ("Legacy CRM", "web", ["okta.users.read", "okta.apps.manage"]),
    ("Status Page Admin", "web", []),
    ("Travel Booking", "browser", ["okta.users.read.self"]),
    ("Team Directory", "browser", ["okta.users.read", "okta.groups.read"]),
    ("Time Tracker", "browser", []),
    ("Design System Docs", "browser", ["okta.myAccount.profile.read"]),
    ("Analytics SPA", "browser", ["okta.logs.read", "okta.apps.read"]),
    (
        "Self-Service Profile",
        "browser",
        ["okta.myAccount.profile.manage", "okta.myAccount.email.manage"],
    ),
    ("Office Chat", "browser", []),
    ("Field Sales", "native", ["okta.users.read.self"]),
    ("Warehouse Scanner", "native", []),
    ("Exec Mobile", "native", ["okta.users.read"]),
    ("Kiosk App", "native", []),
    (
        "Admin Mobile",
        "native",
        ["okta.users.manage", "okta.apps.read", "okta.roles.read"],
    ),
    ("Nightly User Sync", "service", ["okta.users.manage", "okta.groups.manage"]),
    ("SIEM Log Shipper", "service", ["okta.logs.read"]),
    (
        "Provisioning Bot",
        "service",
        [
            "okta.users.manage",
            "okta.apps.manage",
            "okta.groups.manage",
            "okta.roles.manage",
        ],
    ),
    (
        "Terraform Automation",
        "service",
        [
            "okta.apps.manage",
            "okta.appGrants.manage",
            "okta.authorizationServers.manage",
            "okta.policies.manage",
            "okta.groups.manage",
        ],
    ),
    (
        "Backup Exporter",
        "service",
        ["okta.users.read", "okta.groups.read", "okta.apps.read"],
    ),
    ("Device Inventory", "service", ["okta.devices.read"]),
    (
        "AI Helpdesk Agent",
        "service",
        ["okta.aiAgents.read", "okta.aiAgents.manage", "okta.users.read"],
    ),
    (
        "Compliance Scanner",
        "service",
        ["okta.apps.read", "okta.appGrants.read", "okta.roles.read", "okta.logs.read"],
    ),
    ("Org2Org Bridge", "service", ["okta.users.manage", "okta.apiTokens.manage"]),
    ("Domain Manager", "service", ["okta.domains.manage", "okta.brands.manage"]),
    ("Idle Service", "service", []),
    ("Event Hook Relay", "service", ["okta.eventHooks.manage", "okta.logs.read"]),
    ("Risk Engine", "service", ["okta.userRisk.manage", "okta.users.read"]),
    ("Group Sync Worker", "service", ["okta.groups.manage"]),
    ("Retired Reporting", "web", ["okta.reports.read", "okta.users.read"]),
    ("Old Mobile Beta", "native", ["okta.users.read"]),
    ("Custom Client Id App", "web", ["okta.apps.read"]),
]
_INACTIVE = {"Retired Reporting", "Old Mobile Beta"}
# OIDC apps that are not custom app integrations, so their ``name`` is not
# "oidc_client": an OIN catalog integration, an OAuth app of Okta's own in the
# style of Okta Workflows, and a built-in OIDC app whose object has no OAuth
# client settings. Labels and names are illustrative, not recorded from Okta.
# (label, kind, name, has OAuth client settings, grants)
_OTHER_OIDC: list[tuple[str, str, str, bool, list[str]]] = [
    (
        "Zscaler Internet Access",
        "web",
        "zscalerbyz",
        True,
        ["okta.users.read", "okta.groups.read"],
    ),
    (
        "Okta Workflows OAuth",
        "web",
        "okta_flow_oauth",
        True,
        [
            "okta.users.manage",
            "okta.groups.manage",
            "okta.apps.read",
            "okta.logs.read",
        ],
    ),
    ("Okta Access Requests", "web", "okta_access_requests", False, ["okta.users.read"]),
]
_NON_OIDC = [
    ("Salesforce (SAML)", "saml"),
    ("Workday (SAML)", "saml"),
    ("Company Handbook", "bookmark"),
    ("Benefits Bookmark", "bookmark"),
]


_JWK_CACHE: dict[bytes, dict[str, str]] = {}


# --- OIN API service integrations (oktasim/api_services.py) -------------------
DEMO_API_SERVICES: list[dict[str, Any]] = [
    {
        "type": "acme_log_streaming",
        "name": "Acme Log Streaming",
        "scopes": ["okta.logs.read", "okta.users.read"],
        "created_days_ago": 1200,
        "secret_ages_days": [1095, 380],  # an old inactive secret, then a rotation
    },
    {
        "type": "northwind_identity_governance",
        "name": "Northwind Identity Governance",
        "scopes": ["okta.users.manage", "okta.groups.manage", "okta.apps.read"],
        "created_days_ago": 20,
        "secret_ages_days": [7],
    },
]
# --- end of API service integrations -------------------------------------------


# --- activity profile (oktasim/activity.py) --------------------------------------
# How the demo's apps use their grants when the activity generator runs
# (``manage.py oktasim --activity N``, ``POST /__sim__/activity``): the scopes each
# token request asks for (in turn), the held scopes its writes exercise, and who
# signs in to apps that are not service apps. Grants are the demo's, unchanged.
# Built so the console's usage verdicts all show:
#   used       - issued and, for manage scopes, exercised by writes;
#   unused     - held, never in an issued token (every app not listed here, and
#                Backup Exporter's okta.apps.read, Admin Mobile's okta.roles.read);
#   reducible  - a manage scope issued but never exercised by a write (read would
#                do): Group Sync Worker, Org2Org Bridge's okta.users.manage,
#                Terraform's okta.authorizationServers.manage, HR Onboarding's
#                okta.groups.manage, Admin Mobile's okta.users.manage;
#   missing    - asked for but not held: Device Inventory's every other request
#                names only okta.devices.manage (denied, no_matching_scope);
#                Risk Engine's requests are downscoped (okta.users.manage dropped).
DEMO_ACTIVITY: dict[str, dict[str, Any]] = {
    "Nightly User Sync": {
        "requests": ["okta.users.manage okta.groups.manage"],
        "writes": ["okta.users.manage", "okta.groups.manage"],
    },
    "Provisioning Bot": {
        "requests": [
            "okta.users.manage okta.apps.manage okta.groups.manage okta.roles.manage"
        ],
        "writes": [
            "okta.users.manage",
            "okta.apps.manage",
            "okta.groups.manage",
            "okta.roles.manage",
        ],
    },
    "Terraform Automation": {
        "requests": [
            "okta.apps.manage okta.appGrants.manage okta.authorizationServers.manage"
            " okta.policies.manage okta.groups.manage"
        ],
        "writes": [
            "okta.apps.manage",
            "okta.appGrants.manage",
            "okta.policies.manage",
            "okta.groups.manage",
        ],
    },
    "SIEM Log Shipper": {"requests": ["okta.logs.read"]},
    "Backup Exporter": {"requests": ["okta.users.read okta.groups.read"]},
    "Group Sync Worker": {"requests": ["okta.groups.manage"]},
    "Org2Org Bridge": {
        "requests": ["okta.users.manage okta.apiTokens.manage"],
        "writes": ["okta.apiTokens.manage"],
    },
    "Device Inventory": {"requests": ["okta.devices.read", "okta.devices.manage"]},
    "Risk Engine": {
        "requests": ["okta.userRisk.manage okta.users.read okta.users.manage"]
    },
    "HR Onboarding": {
        "user": "org.admin@example.com",
        "requests": [
            "openid offline_access okta.users.manage okta.groups.manage okta.users.read"
        ],
        "writes": ["okta.users.manage"],
    },
    "Payroll Portal": {
        "user": "end.user@example.com",
        "requests": ["openid okta.users.read okta.groups.read"],
    },
    "Admin Mobile": {
        "user": "app.admin@example.com",
        "requests": ["openid okta.users.manage okta.apps.read"],
    },
    # The console itself: its Super Admins sign in with its scopes and grant and
    # revoke (okta.appGrants.manage, exercised); its okta.logs.read and the
    # manage scopes behind rarer features (token and integration revokes) are
    # not exercised by a logged write, as in a real org between such events.
    "Grants Console": {
        "user": "super.admin@example.com",
        "requests": [
            "openid profile email offline_access okta.apps.read okta.appGrants.read"
            " okta.appGrants.manage okta.apps.manage okta.roles.read"
            " okta.oauthIntegrations.manage"
        ],
        "writes": ["okta.appGrants.manage"],
    },
}
# --- end of activity profile ------------------------------------------------------


def worker_public_jwk(pem: bytes | None = None) -> dict[str, str]:
    """The demo worker's public key as an Okta app JWK (``kid`` = RFC 7638 thumbprint)."""
    pem = pem if pem is not None else WORKER_KEY_FILE.read_bytes()
    cached = _JWK_CACHE.get(pem)
    if cached is not None:
        return dict(cached)
    # Loading checks the RSA key (~0.1 s); every reset needs the JWK, so cache it.
    key = serialization.load_pem_private_key(pem, password=None).public_key()
    nums = key.public_numbers()

    def b64(n: int) -> str:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    e, n = b64(nums.e), b64(nums.n)
    canon = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"))
    kid = (
        base64.urlsafe_b64encode(hashlib.sha256(canon.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    jwk = {
        "kty": "RSA",
        "id": "pks1workerDEMO0000x7",
        "status": "ACTIVE",
        "kid": kid,
        "use": "sig",
        "alg": "RS256",
        "e": e,
        "n": n,
    }
    _JWK_CACHE[pem] = jwk
    return dict(jwk)


def demo_seed() -> dict[str, Any]:
    """The demo org as a seed dict (see module docstring)."""
    users = [
        {
            "login": login,
            "first_name": first,
            "last_name": last,
            "password": DEMO_PASSWORD,
            "roles": roles,
            **({"api_token": token} if token else {}),
        }
        for login, first, last, roles, token in DEMO_USERS
    ]
    apps: list[dict[str, Any]] = [
        {
            "id": CONSOLE_CLIENT_ID,
            "client_id": CONSOLE_CLIENT_ID,
            "client_secret": CONSOLE_CLIENT_SECRET,
            "label": "Grants Console",
            "kind": "web",
            "redirect_uris": CONSOLE_REDIRECT_URIS,
            "post_logout_redirect_uris": CONSOLE_POST_LOGOUT_URIS,
            "loopback_any_port": True,
            "groups_claim_filter": ".*",
            "grants": CONSOLE_GRANTS,
        },
        {
            "id": WORKER_CLIENT_ID,
            "client_id": WORKER_CLIENT_ID,
            "label": "Grants Console Worker",
            "kind": "service",
            "jwks": [worker_public_jwk()],
            "roles": ["SUPER_ADMIN"],
            "grants": WORKER_GRANTS,
        },
        {
            "id": ENFORCER_CLIENT_ID,
            "client_id": ENFORCER_CLIENT_ID,
            "label": "Grants Console Enforcer",
            "kind": "service",
            "jwks": [{**worker_public_jwk(), "id": "pks1enforcerDEMO00x7"}],
            "roles": ["SUPER_ADMIN"],
            "grants": ENFORCER_GRANTS,
        },
    ]
    for label, kind, grants in _DEMO_APPS:
        spec: dict[str, Any] = {"label": label, "kind": kind, "grants": grants}
        if label in _INACTIVE:
            spec["status"] = "INACTIVE"
        if label == "Custom Client Id App":
            spec["client_id"] = "custom-client-id-demo-app"
        if label in DEMO_CLIENT_ROLES:
            spec["roles"] = DEMO_CLIENT_ROLES[label]
        apps.append(spec)
    # --- app refresh tokens (ApplicationTokens) -------------------------------------
    # Live refresh tokens on a web app that holds Okta API scopes, from people who
    # signed in with offline_access over the past weeks.
    for spec in apps:
        if spec["label"] == DEMO_REFRESH_TOKEN_APP:
            spec["refresh_tokens"] = DEMO_REFRESH_TOKENS
    # --- end app refresh tokens ----------------------------------------------------
    for label, kind, name, oauth_client, grants in _OTHER_OIDC:
        apps.append(
            {
                "label": label,
                "kind": kind,
                "name": name,
                "oauth_client": oauth_client,
                "grants": grants,
            }
        )
    for label, kind in _NON_OIDC:
        apps.append({"label": label, "kind": kind, "grants": []})
    return {
        "users": users,
        "apps": apps,
        "api_services": DEMO_API_SERVICES,
        "controls": DEMO_CONTROLS,
        "activity": DEMO_ACTIVITY,
    }


# --- compensating controls (credentials, network, org setting) -------------------
# Secrets from a week to three years old, service apps' keys of different ages,
# one app restricted to a network zone, and the org's "assign Super Admin to
# public client apps" setting switched on (Okta's guide says to turn it off).
DEMO_NETWORK_ZONE = "nzo1corpnetDEMO000x7"
DEMO_CONTROLS: dict[str, Any] = {
    "client_privileges": True,
    "apps": {
        "Legacy CRM": {"secret_ages_days": [1095]},
        "HR Onboarding": {"secret_ages_days": [400, 7]},
        "Help Desk Console": {"secret_ages_days": [200]},
        "Provisioning Bot": {
            "key_age_days": 30,
            "network": {"connection": "ZONE", "include": [DEMO_NETWORK_ZONE]},
        },
        "Terraform Automation": {
            "key_age_days": 730,
            "network": {"connection": "ANYWHERE"},
        },
    },
}
# --- end of compensating controls ------------------------------------------------


def load_seed(seed: str | dict | None) -> dict[str, Any]:
    """``"demo"``/None -> the demo seed; a dict as is; else a JSON file path."""
    if seed is None or seed == "demo":
        return demo_seed()
    if isinstance(seed, dict):
        return seed
    return json.loads(Path(seed).read_text())


# Scope pool for generated apps: common management scopes, weighted to reads.
_POOL = [
    "okta.users.read",
    "okta.users.manage",
    "okta.groups.read",
    "okta.groups.manage",
    "okta.apps.read",
    "okta.apps.manage",
    "okta.logs.read",
    "okta.roles.read",
    "okta.roles.manage",
    "okta.policies.read",
    "okta.policies.manage",
    "okta.authorizationServers.read",
    "okta.authorizationServers.manage",
    "okta.factors.read",
    "okta.factors.manage",
    "okta.devices.read",
    "okta.domains.read",
    "okta.brands.read",
    "okta.eventHooks.read",
    "okta.inlineHooks.read",
    "okta.idps.read",
    "okta.schemas.read",
    "okta.trustedOrigins.read",
    "okta.userTypes.read",
    "okta.appGrants.read",
    "okta.appGrants.manage",
    "okta.networkZones.read",
    "okta.orgs.read",
    "okta.sessions.read",
    "okta.users.read.self",
    "okta.aiAgents.read",
]
_KINDS = ["web", "browser", "native", "service"]


def generated_apps(n: int, rng_seed: int = 42) -> list[dict[str, Any]]:
    """``n`` generated app specs: ~1% non-OIDC, OIDC apps with 0-12 grants each."""
    rng = random.Random(rng_seed)
    apps = []
    for i in range(n):
        if i % 100 == 99:
            apps.append(
                {
                    "label": f"Generated SAML {i:05d}",
                    "kind": rng.choice(["saml", "bookmark"]),
                    "grants": [],
                }
            )
            continue
        kind = _KINDS[i % 4]
        apps.append(
            {
                "label": f"Generated {kind} app {i:05d}",
                "kind": kind,
                "grants": rng.sample(_POOL, rng.randint(0, 12)),
            }
        )
    return apps


def build_org(
    org: Org, seed: str | dict | None = "demo", apps: int | None = None
) -> None:
    """Fill an empty ``org`` from a seed (plus ``apps`` generated apps if given).

    With ``apps`` set, the seed's users and its console and worker apps are kept and
    the seed's other apps are replaced by ``apps`` generated ones. Grants are dated
    in the past and each writes its historical ``app.oauth2.admin.consent.grant``
    System Log event.
    """
    spec = load_seed(seed)
    now = org.clock.now()
    rng = random.Random(7)
    for u in spec.get("users", []):
        user = org.add_user(
            u["login"],
            u.get("first_name", u["login"].split("@")[0]),
            u.get("last_name", ""),
            u.get("password", DEMO_PASSWORD),
            list(u.get("roles", [])),
            user_id=u.get("id"),
            api_token=u.get("api_token"),
            created=now - 400 * 86400,
        )
        if "groups" in u:
            user.groups = ["Everyone", *(g for g in u["groups"] if g != "Everyone")]
    app_specs = list(spec.get("apps", []))
    if apps is not None:
        keep = [
            a for a in app_specs if a.get("id") in (CONSOLE_CLIENT_ID, WORKER_CLIENT_ID)
        ]
        app_specs = keep + generated_apps(apps)
    default_granter = next(
        (u for u in org.users.values() if "SUPER_ADMIN" in u.role_types), None
    )
    with_tokens: list[tuple[App, dict[str, Any]]] = []
    for i, a in enumerate(app_specs):
        kind = a.get("kind", "web")
        created = now - (380 - (i * 368 / max(1, len(app_specs)))) * 86400
        app_id = a.get("id") or org.ids.make("0oa")
        oauth_client = bool(a.get("oauth_client", True))
        client_id = a.get("client_id") or (
            app_id if kind in _KINDS and oauth_client else None
        )
        app = App(
            id=app_id,
            label=a["label"],
            kind=kind,
            created=float(int(created)),
            last_updated=float(int(created)),
            status=a.get("status", "ACTIVE"),
            client_id=client_id,
            client_secret=a.get("client_secret")
            or (f"demo-secret-{app_id}" if kind == "web" and oauth_client else None),
            redirect_uris=list(
                a.get("redirect_uris")
                or (
                    []
                    if kind == "service" or kind not in _KINDS or not oauth_client
                    else [f"https://{app_id.lower()}.example.com/callback"]
                )
            ),
            post_logout_redirect_uris=list(a.get("post_logout_redirect_uris", [])),
            jwks=list(
                a.get("jwks")
                or ([_placeholder_jwk(app_id)] if kind == "service" else [])
            ),
            loopback_any_port=bool(a.get("loopback_any_port", False)),
            groups_claim_filter=str(a.get("groups_claim_filter", "")),
            okta_name=a.get("name", ""),
            oauth_client=oauth_client,
        )
        app.roles = [role_from_seed(org, r, created) for r in a.get("roles", [])]
        org.add_app(app, log=False)
        if a.get("refresh_tokens"):
            with_tokens.append((app, a))
        granter = org.users_by_login.get(
            str(a.get("granted_by", "")).lower(), default_granter
        )
        actor = org.user_actor(granter) if granter else org.system_actor()
        for j, scope in enumerate(a.get("grants", [])):
            when = created + 3600 + j * 60 + rng.randint(0, 86400 * 2)
            org.grant(app, scope, actor, created=min(when, now - 3600))
    api_services.seed(
        org,
        spec.get("api_services", []),
        actor=(
            org.user_actor(default_granter) if default_granter else org.system_actor()
        ),
    )
    for app, a in with_tokens:
        for i, t in enumerate(a["refresh_tokens"]):
            created = float(int(now - float(t.get("age_days", 1)) * 86400))
            user = org.users_by_login[t["user"].lower()]
            org.refresh_tokens[f"seed-rt-{app.id}-{i}"] = RefreshToken(
                id=org.ids.make("oar"),
                client_id=app.client_id or app.id,
                user_id=user.id,
                scopes=list(t["scopes"]),
                auth_time=int(created),
                amr=["pwd"],
                created=created,
                expires=created + REFRESH_TOKEN_TTL,
            )
    seed_controls(org, spec)
    # A generated org keeps only the console's apps: the profile's are gone.
    activity.state_of(org).profile = (
        dict(spec.get("activity", {})) if apps is None else {}
    )
    org.sort_history()


def _placeholder_jwk(app_id: str) -> dict[str, str]:
    """A registered-looking public JWK for a generated service app.

    The modulus is a deterministic random odd 2048-bit number, so no private key
    exists for it: nothing can sign in as these apps.
    """
    bits = random.Random(app_id).getrandbits(2048) | (1 << 2047) | 1
    n = base64.urlsafe_b64encode(bits.to_bytes(256, "big")).rstrip(b"=").decode()
    return {
        "kty": "RSA",
        "id": "pks" + app_id[3:],
        "status": "ACTIVE",
        "kid": "kid-" + app_id,
        "use": "sig",
        "alg": "RS256",
        "e": "AQAB",
        "n": n,
    }
