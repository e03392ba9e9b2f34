"""Generate ``grantsconsole/okta/scopes.json``, the scope catalog, from two sources
kept in the repository:

* ``spec/okta-management.cut.yaml``: Okta's own Management API spec (the cut made
  by ``spec/cut_okta_spec.py``); its ``securitySchemes.oauth2`` lists every
  ``okta.*`` scope the release declares, with Okta's one-line description;
* ``spec/okta-scopes.yaml``: this project's descriptions, kinds and families for
  those scopes and for the ones declared by Okta's other specs (OAuth, MyAccount,
  governance, Access Gateway) or only documented.

Usage (no arguments needed; both paths default to the files above)::

    python -m grantsconsole.okta.build_catalog

A scope the spec declares that the YAML lacks still enters the catalog, with
Okta's description and a kind taken from its name, so a new spec release never
silently drops a scope. The package only ever reads the JSON written here. The
catalog is metadata, never a gate: Okta judges scope names when a grant is made.

Risk rule (metadata for the console, never a gate; every scope's ``risk_reason``
says which part of the rule rated it):

* ``manage`` scopes: **critical** if their holder can create or change
  credentials, identities, admin rights, apps and their grants, or the
  policies and identity providers that decide sign-in, i.e. can reach Super
  Admin power or take over accounts (``CRITICAL`` below); **high** if they can
  weaken security controls, re-route data out of the org or change org-wide
  security configuration without being a direct escalation (``HIGH``);
  **medium** for every other ``manage`` scope (branding, templates, email,
  captchas, UI settings and similar).
* ``read`` scopes that expose credentials or personal data: **high** when they
  read secrets or every user's personal data, **medium** when they read
  credential metadata, sign-in defences or personal data of some users
  (``SENSITIVE_READS``, each with its reason).
* every other ``read`` scope and every ``self`` scope: **low**.

The console asks for a confirmation and a recent sign-in before granting any
scope rated above low.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from grantsconsole.okta import scopes as scope_catalog

CRITICAL = frozenset(
    {
        "okta.apiTokens.manage",
        "okta.appGrants.manage",
        "okta.apps.manage",
        "okta.authenticators.manage",
        "okta.authorizationServers.manage",
        "okta.clients.manage",
        "okta.clients.register",
        "okta.directories.groups.manage",
        "okta.domains.manage",
        "okta.factors.manage",
        "okta.groups.manage",
        "okta.identitySources.manage",
        "okta.idps.manage",
        "okta.inlineHooks.manage",
        "okta.oauthIntegrations.manage",
        "okta.orgs.manage",
        "okta.policies.manage",
        "okta.roles.manage",
        "okta.serviceAccounts.manage",
        "okta.serviceAccounts.okta.manage",
        "okta.users.manage",
    }
)

HIGH = frozenset(
    {
        "okta.agentPools.manage",
        "okta.captchas.manage",
        "okta.botProtection.manage",
        "okta.emailDomains.manage",
        "okta.emailServers.manage",
        "okta.customTelephonyProvider.manage",
        "okta.apps.interclientTrust.manage",
        "okta.behaviors.manage",
        "okta.certificateAuthorities.manage",
        "okta.deviceAssurance.manage",
        "okta.deviceIntegrations.manage",
        "okta.devicePostureChecks.manage",
        "okta.devices.manage",
        "okta.dr.manage",
        "okta.eventHooks.manage",
        "okta.features.manage",
        "okta.governance.admin.manage",
        "okta.governance.entitlements.manage",
        "okta.governance.principalSettings.manage",
        "okta.governance.settings.manage",
        "okta.logStreams.manage",
        "okta.networkZones.manage",
        "okta.oag.app.manage",
        "okta.oag.authenticationService.manage",
        "okta.oag.idp.manage",
        "okta.profileMappings.manage",
        "okta.realmAssignments.manage",
        "okta.realms.manage",
        "okta.schemas.manage",
        "okta.securityEventsProviders.manage",
        "okta.sessions.manage",
        "okta.threatInsights.manage",
        "okta.trustedOrigins.manage",
        "okta.universalLogout.manage",
        "okta.userRisk.manage",
        "okta.userTypes.manage",
        "okta.workflows.invoke.manage",
        "ssf.manage",
    }
)

# Read scopes rated above low: (risk, reason). A secret read here is as good as
# the credential itself; personal data read here is every user's.
SENSITIVE_READS = {
    "okta.apps.read": (
        "high",
        "reads every app's credentials, including OAuth client secrets, and who "
        "is assigned to it",
    ),
    "okta.users.read": (
        "high",
        "reads every user's profile (names, emails, phone numbers: personal "
        "data) and credential settings",
    ),
    "okta.logs.read": (
        "high",
        "reads the System Log: every user's sign-ins with IP addresses, "
        "locations and devices (personal data)",
    ),
    "okta.events.read": (
        "high",
        "reads the deprecated Events API: every user's sign-ins and changes "
        "(personal data)",
    ),
    "okta.idps.read": (
        "high",
        "reads identity provider settings, including the client credentials "
        "Okta signs in to them with",
    ),
    "okta.customTelephonyProvider.read": (
        "high",
        "reads the credentials of the org's custom telephony provider",
    ),
    "okta.apiTokens.read": (
        "medium",
        "lists every SSWS API token with its owner and where it may be used "
        "(not the token value): a map of the org's standing credentials",
    ),
    "okta.clients.read": (
        "medium",
        "reads every OAuth client registration: redirect URIs, grant types and "
        "key sets",
    ),
    "okta.authenticators.read": (
        "medium",
        "reads how every authenticator is configured: which defences protect "
        "sign-in and how",
    ),
    "okta.factors.read": (
        "medium",
        "reads the org's MFA factor configuration: which defences protect sign-in",
    ),
    "okta.userRisk.read": (
        "medium",
        "reads every user's risk level (personal data)",
    ),
    "okta.groups.read": (
        "medium",
        "reads group memberships with each member's profile (personal data)",
    ),
    "okta.devices.read": (
        "medium",
        "reads registered devices and the users they belong to (personal data)",
    ),
    "okta.sessions.read": (
        "medium",
        "reads users' sessions with IP addresses and devices (personal data)",
    ),
    "okta.identitySources.read": (
        "medium",
        "reads the users and groups imported through custom identity sources "
        "(personal data)",
    ),
}

REASONS = {
    "critical": "can reach Super Admin power or take over accounts: it creates or "
    "changes credentials, identities, admin rights, apps or sign-in policy",
    "high": "can weaken security controls, send data out of the org or change "
    "org-wide security settings",
    "medium": "changes org settings that do not weaken security directly "
    "(branding, templates, email and similar)",
    "read": "reads settings without credentials or personal data",
    "self": "reaches only the signed-in user's own data",
}

FIELDS = ("name", "description", "kind", "family", "status", "grantable_via_app_grants")


def risk_for(name: str, kind: str) -> tuple[str, str]:
    """``(risk, reason)``: low | medium | high | critical, by the rule in the
    module docstring, and the reason in plain words."""
    if kind == "manage":
        risk = "critical" if name in CRITICAL else "high" if name in HIGH else "medium"
        return risk, REASONS[risk]
    if name in SENSITIVE_READS:
        return SENSITIVE_READS[name]
    return "low", REASONS["self" if kind == "self" else "read"]


def spec_scopes(spec: dict[str, Any]) -> dict[str, str]:
    """``{scope: Okta's description}`` from a spec's OAuth 2.0 security scheme."""
    scopes: dict[str, str] = {}
    schemes = spec.get("components", {}).get("securitySchemes", {})
    for scheme in schemes.values():
        for flow in scheme.get("flows", {}).values():
            scopes.update(flow.get("scopes", {}))
    return scopes


def build(source: dict[str, Any], spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document for ``scopes.json`` from the parsed YAML and, if given,
    the parsed spec (its declared scopes missing from the YAML are added)."""
    scopes = []
    for entry in source["scopes"]:
        item = {key: str(entry.get(key, "")) for key in FIELDS}
        item["risk"], item["risk_reason"] = risk_for(item["name"], item["kind"])
        if entry.get("note"):
            item["note"] = str(entry["note"])
        scopes.append(item)
    known = {item["name"] for item in scopes}
    for name, description in (spec_scopes(spec) if spec else {}).items():
        if name in known:
            continue
        kind = scope_catalog.kind_from_name(name)
        risk, reason = risk_for(name, kind)
        scopes.append(
            {
                "name": name,
                "description": str(description),
                "kind": kind,
                "family": "management",
                "status": "current",
                "grantable_via_app_grants": "yes",
                "risk": risk,
                "risk_reason": reason,
                "note": "declared by the spec, not yet described in okta-scopes.yaml",
            }
        )
    scopes.sort(key=lambda item: item["name"])
    names = [item["name"] for item in scopes]
    if len(set(names)) != len(names):
        raise ValueError("duplicate scope names in the source")
    unknown = (CRITICAL | HIGH | SENSITIVE_READS.keys()) - set(names)
    if unknown:
        raise ValueError(f"risk lists name scopes not in the source: {sorted(unknown)}")
    not_reads = [
        i["name"]
        for i in scopes
        if i["name"] in SENSITIVE_READS and i["kind"] != "read"
    ]
    if not_reads:
        raise ValueError(f"SENSITIVE_READS names scopes that are not read: {not_reads}")
    return {
        "generated_by": "python -m grantsconsole.okta.build_catalog",
        "source": "spec/okta-scopes.yaml + spec/okta-management.cut.yaml",
        "spec_version": str(
            (spec or {}).get("info", {}).get("version")
            or source.get("catalog", {}).get("spec_version", "")
        ),
        "count": len(scopes),
        "scopes": scopes,
    }


REPO = Path(__file__).resolve().parents[2]
SOURCE_YAML = REPO / "spec" / "okta-scopes.yaml"
SPEC_CUT = REPO / "spec" / "okta-management.cut.yaml"


def load_sources(
    source: Path = SOURCE_YAML, spec: Path = SPEC_CUT
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parsed YAML catalog source and the parsed spec cut."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with source.open(encoding="utf-8") as f:
        parsed_source = yaml.load(f, Loader=loader)
    with spec.open(encoding="utf-8") as f:
        parsed_spec = yaml.load(f, Loader=loader)
    return parsed_source, parsed_spec


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=SOURCE_YAML)
    parser.add_argument("--spec", type=Path, default=SPEC_CUT)
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).with_name("scopes.json"),
        help="where to write the JSON (default: the package's scopes.json)",
    )
    args = parser.parse_args(argv)
    document = build(*load_sources(args.source, args.spec))
    args.output.write_text(
        json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"wrote {document['count']} scopes to {args.output}")


if __name__ == "__main__":
    main()
