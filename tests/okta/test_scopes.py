"""The scope catalog: package data, risk rule, uncatalogued scopes."""

import json
from pathlib import Path

import pytest
import yaml

from grantsconsole.okta import scope_catalog
from grantsconsole.okta.build_catalog import CRITICAL, build, risk_for

# shared/ sits beside the repository (here and in CI).
SHARED_YAML = Path(__file__).resolve().parents[3] / "shared" / "okta" / "scopes.yaml"
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
        assert info.catalogued
        if info.kind != "manage":
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
        ("okta.apps.read", "low"),
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
    """scopes.json is exactly what build_catalog makes from shared/okta/scopes.yaml."""
    source = yaml.safe_load(SHARED_YAML.read_text(encoding="utf-8"))
    assert json.loads(PACKAGE_JSON.read_text(encoding="utf-8")) == build(source)
    assert all(risk_for(name, "manage") == "critical" for name in CRITICAL)
