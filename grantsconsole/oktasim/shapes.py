"""Okta JSON shapes for the simulator's objects.

Each function returns the JSON-ready dict Okta sends for that object, following
docs/okta-api.md (recorded Terraform / SDK fixtures) and the Management API spec
(``spec/okta-management.cut.yaml``): ``Application`` subtypes, ``OAuth2ScopeConsentGrant``,
``StandardRole``, ``User``, ``LogEvent`` and the ``Error`` body. Times are ISO-8601 UTC with
milliseconds (``2025-03-14T00:02:37.000Z``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from .state import App, Grant, LogEvent, Org, RoleAssignment, User


def iso(t: float) -> str:
    """UTC epoch seconds -> ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    ms = round((t - int(t)) * 1000)
    if ms == 1000:
        t, ms = int(t) + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(t))) + f".{ms:03d}Z"


def error_body(
    summary_code: str, summary: str, error_id: str, causes: list[str] | None = None
) -> dict:
    """Okta's error object: errorCode, errorSummary, errorLink, errorId, errorCauses."""
    return {
        "errorCode": summary_code,
        "errorSummary": summary,
        "errorLink": summary_code,
        "errorId": error_id,
        "errorCauses": [{"errorSummary": c} for c in (causes or [])],
    }


def app_json(org: Org, app: App) -> dict[str, Any]:
    """An app instance as ``GET /api/v1/apps/{appId}`` returns it."""
    base = org.url
    href = f"{base}/api/v1/apps/{app.id}"
    links: dict[str, Any] = {
        "uploadLogo": {"href": f"{href}/logo", "hints": {"allow": ["POST"]}},
        "appLinks": [
            {
                "name": f"{app.name}_link",
                "href": f"{base}/home/{app.name}/{app.id}/aln1{app.id[4:17]}",
                "type": "text/html",
            }
        ],
        "policies": {"href": f"{href}/policies", "hints": {"allow": ["PUT"]}},
        "groups": {"href": f"{href}/groups"},
        "logo": [
            {
                "name": "medium",
                "href": "https://ok1static.oktacdn.com/assets/img/logos/default.png",
                "type": "image/png",
            }
        ],
        "users": {"href": f"{href}/users"},
        "metadata": {"href": f"{href}/sso/saml/metadata", "type": "application/xml"},
    }
    if app.status == "ACTIVE":
        links["deactivate"] = {"href": f"{href}/lifecycle/deactivate"}
    else:
        links["activate"] = {"href": f"{href}/lifecycle/activate"}
    data: dict[str, Any] = {
        "id": app.id,
        "orn": f"orn:okta:idp:00o1simorg000000000h7:apps:{app.name}:{app.id}",
        "name": app.name,
        "label": app.label,
        "status": app.status,
        "created": iso(app.created),
        "lastUpdated": iso(app.last_updated),
        "signOnMode": app.sign_on_mode,
        "features": [],
        "accessibility": {
            "selfService": False,
            "errorRedirectUrl": None,
            "loginRedirectUrl": None,
        },
        "visibility": {
            "autoLaunch": False,
            "autoSubmitToolbar": False,
            "hide": {"iOS": app.kind == "service", "web": app.kind == "service"},
            "appLinks": {f"{app.name}_link": True},
        },
        "credentials": {
            "userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"},
            "signing": {"kid": f"sim{app.id[3:]}"},
        },
        "settings": {
            "app": {},
            "implicitAssignment": False,
            "manualProvisioning": False,
            "notes": {"admin": None, "enduser": None},
            "notifications": {
                "vpn": {
                    "network": {"connection": "DISABLED"},
                    "message": None,
                    "helpUrl": None,
                }
            },
        },
        "_links": links,
    }
    if app.is_oidc:
        del links["metadata"]
    if app.is_oidc and app.oauth_client:
        links["clientCredentials"] = [
            {"name": "secrets", "href": f"{href}/credentials/secrets"}
        ]
        data["credentials"]["oauthClient"] = {
            "autoKeyRotation": True,
            "client_id": app.client_id or app.id,
            "token_endpoint_auth_method": app.token_endpoint_auth_method,
            "pkce_required": app.pkce_required,
        }
        oauth = {
            "client_uri": None,
            "logo_uri": None,
            "redirect_uris": list(app.redirect_uris),
            "post_logout_redirect_uris": list(app.post_logout_redirect_uris),
            "response_types": app.response_types,
            "grant_types": app.grant_types,
            "application_type": app.kind,
            "consent_method": "TRUSTED",
            "issuer_mode": "ORG_URL",
            "idp_initiated_login": {"mode": "DISABLED", "default_scope": []},
            "wildcard_redirect": "DISABLED",
            "dpop_bound_access_tokens": False,
            "participate_slo": False,
        }
        if app.kind == "service":
            oauth["jwks"] = {"keys": [dict(k) for k in app.jwks]}
        if app.network is not None:
            oauth["network"] = dict(app.network)
        data["settings"]["oauthClient"] = oauth
    elif app.kind == "bookmark":
        data["settings"]["app"] = {
            "requestIntegration": False,
            "url": f"https://intranet.example.com/{app.id[-6:]}",
        }
    elif app.kind == "saml":
        data["settings"]["signOn"] = {
            "defaultRelayState": "",
            "ssoAcsUrl": f"https://sp.example.com/{app.id[-6:]}/acs",
            "recipient": f"https://sp.example.com/{app.id[-6:]}/acs",
            "destination": f"https://sp.example.com/{app.id[-6:]}/acs",
            "audience": f"https://sp.example.com/{app.id[-6:]}",
            "idpIssuer": "http://www.okta.com/${org.externalKey}",
            "subjectNameIdTemplate": "${user.userName}",
            "subjectNameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
            "responseSigned": True,
            "assertionSigned": True,
            "signatureAlgorithm": "RSA_SHA256",
            "digestAlgorithm": "SHA256",
            "honorForceAuthn": True,
            "authnContextClassRef": (
                "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
            ),
            "attributeStatements": [],
        }
    return data


def app_bytes(org: Org, app: App) -> bytes:
    """The app's JSON, cached on the app until it changes."""
    cached = app.json_cache
    if cached is None:
        cached = json.dumps(app_json(org, app), separators=(",", ":")).encode()
        app.json_cache = cached
    return cached


def grant_json(
    org: Org, app: App, grant: Grant, *, embed_scope: bool
) -> dict[str, Any]:
    """An ``OAuth2ScopeConsentGrant`` as Okta returns it (admin grant, no ``userId``)."""
    href = f"{org.url}/api/v1/apps/{app.id}"
    data: dict[str, Any] = {
        "id": grant.id,
        "status": grant.status,
        "created": iso(grant.created),
        "createdBy": {"id": grant.created_by_id, "type": grant.created_by_type},
        "lastUpdated": iso(grant.last_updated),
        "issuer": grant.issuer,
        "clientId": grant.client_id,
        "scopeId": grant.scope_id,
        "source": grant.source,
    }
    if embed_scope:
        data["_embedded"] = {"scope": {"id": grant.scope_id}}
    data["_links"] = {
        "app": {"href": href, "title": app.label},
        "self": {
            "href": f"{href}/grants/{grant.id}",
            "hints": {"allow": ["GET", "DELETE"]},
        },
        "client": {
            "href": f"{org.url}/oauth2/v1/clients/{grant.client_id}",
            "title": app.label,
        },
    }
    return data


def role_json(org: Org, role: RoleAssignment, assignee_href: str) -> dict[str, Any]:
    """A ``StandardRole`` assignment as ``GET /api/v1/users/{userId}/roles`` returns it."""
    return {
        "id": role.id,
        "label": role.label,
        "type": role.type,
        "status": role.status,
        "created": iso(role.created),
        "lastUpdated": iso(role.created),
        "assignmentType": role.assignment_type,
        "_links": {"assignee": {"href": assignee_href}},
    }


def user_json(org: Org, user: User) -> dict[str, Any]:
    """A ``User`` as ``GET /api/v1/users/{id}`` (``getUser``) returns it: the
    spec's ``user-example`` without the profile attributes the demo users do
    not have. The simulator keeps no profile changes, password changes or
    sign-in times of its own, so ``lastUpdated``, ``passwordChanged`` and the
    status times are the creation time and ``lastLogin`` is null."""
    href = f"{org.url}/api/v1/users/{user.id}"
    created = iso(user.created)
    return {
        "id": user.id,
        "status": user.status,
        "created": created,
        "activated": created,
        "statusChanged": created,
        "lastLogin": None,
        "lastUpdated": created,
        "passwordChanged": created,
        "type": {"id": "oty1simdefault0000h7"},
        "profile": {
            "firstName": user.first_name,
            "lastName": user.last_name,
            "mobilePhone": None,
            "secondEmail": None,
            "login": user.login,
            "email": user.login,
        },
        "credentials": {
            "password": {},
            "provider": {"type": "OKTA", "name": "OKTA"},
        },
        "_links": {
            "self": {"href": href},
            "type": {"href": f"{org.url}/api/v1/meta/types/user/oty1simdefault0000h7"},
            "schema": {
                "href": f"{org.url}/api/v1/meta/schemas/user/osc1simdefault0000h7"
            },
        },
    }


def user_roles_json(org: Org, user: User) -> list[dict[str, Any]]:
    """All of a user's role assignments as ``listAssignedRolesForUser`` returns them."""
    href = f"{org.url}/api/v1/users/{user.id}"
    return [role_json(org, r, href) for r in user.roles]


def event_json(org: Org, ev: LogEvent) -> dict[str, Any]:
    """A System Log ``LogEvent``."""
    a = ev.actor
    return {
        "uuid": ev.uuid,
        "published": iso(ev.published),
        "eventType": ev.event_type,
        "version": "0",
        "severity": ev.severity,
        "legacyEventType": None,
        "displayMessage": ev.display_message,
        "actor": {
            "id": a.id,
            "type": a.type,
            "alternateId": a.alternate_id,
            "displayName": a.display_name,
            "detailEntry": None,
        },
        "client": {
            "userAgent": {
                "rawUserAgent": "oktasim",
                "os": "Unknown",
                "browser": "UNKNOWN",
            },
            "zone": "null",
            "device": "Unknown",
            "id": ev.client_id,
            "ipAddress": "127.0.0.1",
            "geographicalContext": None,
        },
        "authenticationContext": {
            "authenticationProvider": None,
            "credentialProvider": None,
            "credentialType": None,
            "issuer": None,
            "interface": None,
            "authenticationStep": 0,
            "externalSessionId": "trs" + ev.request_id[:22],
        },
        "outcome": {"result": ev.outcome, "reason": ev.reason},
        "transaction": {
            "type": "WEB",
            "id": ev.request_id,
            "detail": (
                {"requestApiTokenId": ev.api_token_id} if ev.api_token_id else {}
            ),
        },
        "debugContext": {
            "debugData": {
                "requestId": ev.request_id,
                "requestUri": ev.request_uri,
                "url": ev.request_uri + "?",
                **(ev.debug_data or {}),
            }
        },
        "securityContext": {
            "asNumber": None,
            "asOrg": None,
            "isp": None,
            "domain": None,
            "isProxy": None,
        },
        "request": {"ipChain": []},
        "target": [
            {
                "id": t[0],
                "type": t[1],
                "alternateId": t[2],
                "displayName": t[3],
                "detailEntry": None,
            }
            for t in ev.targets
        ],
    }
