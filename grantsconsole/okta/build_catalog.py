"""Generate ``grantsconsole/okta/scopes.json`` from the project's scope list.

Usage::

    python -m grantsconsole.okta.build_catalog /work/shared/okta/scopes.yaml

The YAML (``shared/okta/scopes.yaml``, 183 okta.*/ssf.* scopes from the Okta
management, OAuth, MyAccount, governance and Access Gateway specs) is read once
here; the package only ever reads the JSON it writes, so nothing at run time
depends on the shared folder.

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


def build(source: dict[str, Any]) -> dict[str, Any]:
    """The JSON document for ``scopes.json`` from the parsed YAML."""
    scopes = []
    for entry in source["scopes"]:
        item = {key: str(entry.get(key, "")) for key in FIELDS}
        item["risk"] = risk_for(item["name"], item["kind"])
        if entry.get("note"):
            item["note"] = str(entry["note"])
        scopes.append(item)
    scopes.sort(key=lambda item: item["name"])
    names = [item["name"] for item in scopes]
    if len(set(names)) != len(names):
        raise ValueError("duplicate scope names in the source")
    unknown = (CRITICAL | HIGH) - set(names)
    if unknown:
        raise ValueError(f"risk lists name scopes not in the source: {sorted(unknown)}")
    return {
        "generated_by": "python -m grantsconsole.okta.build_catalog",
        "source": "shared/okta/scopes.yaml",
        "spec_version": str(source.get("catalog", {}).get("spec_version", "")),
        "count": len(scopes),
        "scopes": scopes,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="path to shared/okta/scopes.yaml")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).with_name("scopes.json"),
        help="where to write the JSON (default: the package's scopes.json)",
    )
    args = parser.parse_args(argv)
    document = build(yaml.safe_load(args.source.read_text(encoding="utf-8")))
    args.output.write_text(
        json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"wrote {document['count']} scopes to {args.output}")


if __name__ == "__main__":
    main()
