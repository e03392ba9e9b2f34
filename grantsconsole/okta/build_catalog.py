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

Risk rule (metadata for the console, never a gate):

* ``read`` and ``self`` scopes: **low**.
* ``manage`` scopes: **critical** if their holder can create or change
  credentials, identities, admin rights, apps and their grants, or the
  policies and identity providers that decide sign-in, i.e. can reach Super
  Admin power or take over accounts (``CRITICAL`` below); **high** if they can
  weaken security controls, re-route data out of the org or change org-wide
  security configuration without being a direct escalation (``HIGH``);
  **medium** for every other ``manage`` scope (branding, templates, email,
  captchas, UI settings and similar).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

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

FIELDS = ("name", "description", "kind", "family", "status", "grantable_via_app_grants")


def risk_for(name: str, kind: str) -> str:
    """low | medium | high | critical, by the rule in the module docstring."""
    if kind != "manage":
        return "low"
    if name in CRITICAL:
        return "critical"
    if name in HIGH:
        return "high"
    return "medium"


def spec_scopes(spec: dict[str, Any]) -> dict[str, str]:
    """``{scope: Okta's description}`` from a spec's OAuth 2.0 security scheme."""
    scopes: dict[str, str] = {}
    schemes = spec.get("components", {}).get("securitySchemes", {})
    for scheme in schemes.values():
        for flow in scheme.get("flows", {}).values():
            scopes.update(flow.get("scopes", {}))
    return scopes


def _kind_from_name(name: str) -> str:
    if name.endswith(".self"):
        return "self"
    if name.endswith((".manage", ".register")):
        return "manage"
    return "read"


def build(source: dict[str, Any], spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document for ``scopes.json`` from the parsed YAML and, if given,
    the parsed spec (its declared scopes missing from the YAML are added)."""
    scopes = []
    for entry in source["scopes"]:
        item = {key: str(entry.get(key, "")) for key in FIELDS}
        item["risk"] = risk_for(item["name"], item["kind"])
        if entry.get("note"):
            item["note"] = str(entry["note"])
        scopes.append(item)
    known = {item["name"] for item in scopes}
    for name, description in (spec_scopes(spec) if spec else {}).items():
        if name in known:
            continue
        kind = _kind_from_name(name)
        scopes.append(
            {
                "name": name,
                "description": str(description),
                "kind": kind,
                "family": "management",
                "status": "current",
                "grantable_via_app_grants": "yes",
                "risk": risk_for(name, kind),
                "note": "declared by the spec, not yet described in okta-scopes.yaml",
            }
        )
    scopes.sort(key=lambda item: item["name"])
    names = [item["name"] for item in scopes]
    if len(set(names)) != len(names):
        raise ValueError("duplicate scope names in the source")
    unknown = (CRITICAL | HIGH) - set(names)
    if unknown:
        raise ValueError(f"risk lists name scopes not in the source: {sorted(unknown)}")
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
