"""The scope catalog: package data, risk rule, uncatalogued scopes."""

import json
from pathlib import Path

import pytest

from grantsconsole.okta import scope_catalog
from grantsconsole.okta.build_catalog import (
    CRITICAL,
    build,
    load_sources,
    risk_for,
    spec_scopes,
)

PACKAGE_JSON = Path(scope_catalog.__file__).with_name("scopes.json")


def test_catalog_is_package_data_with_every_scope():
    scopes = scope_catalog.all()
    assert len(scopes) == 183
    assert scope_catalog.spec_version() == "2026.06.3"
    names = [s.name for s in scopes]
    assert names == sorted(names)
    assert {s.kind for s in scopes} == {"read", "manage", "self"}
    for info in scopes:
        assert info.risk in {"low", "medium", "high", "critical"}
        assert info.risk_reason, info.name
        assert info.catalogued
        if info.kind == "manage":
            assert info.risk != "low", info.name  # every manage scope asks first
        if info.kind == "self":
            assert info.risk == "low", info.name


@pytest.mark.parametrize(
    ("scope", "risk"),
    [
        ("okta.users.manage", "critical"),
        ("okta.groups.manage", "critical"),
        ("okta.apps.manage", "critical"),
        ("okta.appGrants.manage", "critical"),
        ("okta.roles.manage", "critical"),
        ("okta.apiTokens.manage", "critical"),
        ("okta.authorizationServers.manage", "critical"),
        ("okta.clients.manage", "critical"),
        ("okta.policies.manage", "critical"),
        ("okta.idps.manage", "critical"),
        ("okta.orgs.manage", "critical"),
        ("okta.logStreams.manage", "high"),
        ("okta.brands.manage", "medium"),
        # Reads that expose credentials or personal data.
        ("okta.apps.read", "high"),
        ("okta.users.read", "high"),
        ("okta.logs.read", "high"),
        ("okta.idps.read", "high"),
        ("okta.apiTokens.read", "medium"),
        ("okta.clients.read", "medium"),
        ("okta.authenticators.read", "medium"),
        ("okta.factors.read", "medium"),
        ("okta.userRisk.read", "medium"),
        ("okta.groups.read", "medium"),
        # Reads of settings only, and self scopes.
        ("okta.brands.read", "low"),
        ("okta.schemas.read", "low"),
        ("okta.appGrants.read", "low"),
        ("okta.roles.read", "low"),
        ("okta.users.read.self", "low"),
    ],
)
def test_risk_levels(scope, risk):
    info = scope_catalog.get(scope)
    assert info is not None
    assert info.risk == risk


def test_resource_of():
    assert scope_catalog.resource_of("okta.users.read") == "users"
    assert scope_catalog.resource_of("okta.apps.interclientTrust.manage") == (
        "apps.interclientTrust"
    )
    assert scope_catalog.resource_of("okta.users.read.self") == "users"
    assert scope_catalog.resource_of("okta.clients.register") == "clients"
    assert scope_catalog.resource_of("ssf.read") == "ssf"
    assert scope_catalog.get("okta.appGrants.read").resource == "appGrants"


def test_unknown_scope_is_labelled_uncatalogued_not_rejected():
    assert scope_catalog.get("okta.brandNewThing.manage") is None
    info = scope_catalog.describe("okta.brandNewThing.manage")
    assert not info.catalogued
    assert (info.kind, info.resource, info.risk) == ("manage", "brandNewThing", "high")
    assert scope_catalog.describe("okta.brandNewThing.read").risk == "low"
    assert scope_catalog.describe("okta.users.read").catalogued


def test_committed_json_matches_the_generator():
    """scopes.json is exactly what build_catalog makes from the sources in spec/."""
    assert json.loads(PACKAGE_JSON.read_text(encoding="utf-8")) == build(
        *load_sources()
    )
    assert all(risk_for(name, "manage")[0] == "critical" for name in CRITICAL)


def test_every_scope_okta_declares_is_in_the_catalog():
    """The shipped spec is the authority on scope names: each scope its OAuth 2.0
    security scheme declares is catalogued, even one okta-scopes.yaml lacks."""
    source, spec = load_sources()
    declared = spec_scopes(spec)
    assert len(declared) > 100
    assert set(declared) <= {s.name for s in scope_catalog.all()}

    spec["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"][
        "scopes"
    ]["okta.aiAgents.manage"] = "Allows the app to manage AI agents"
    built = {item["name"]: item for item in build(source, spec)["scopes"]}
    added = built["okta.aiAgents.manage"]
    assert (added["kind"], added["risk"]) == ("manage", "medium")
    assert added["description"] == "Allows the app to manage AI agents"
