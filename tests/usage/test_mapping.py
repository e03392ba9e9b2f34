"""The event type → scope table that decides which logged writes exercise a scope."""

import pytest

from grantsconsole.usage import mapping


@pytest.mark.parametrize(
    ("event_type", "scope_id"),
    [
        ("user.lifecycle.create", "okta.users.manage"),
        ("user.lifecycle.deactivate", "okta.users.manage"),
        ("group.user_membership.add", "okta.groups.manage"),
        ("application.lifecycle.update", "okta.apps.manage"),
        ("app.oauth2.admin.consent.grant", "okta.appGrants.manage"),
        ("app.oauth2.admin.consent.revoke", "okta.appGrants.manage"),
        # *.privilege.* is a role change, not a change of the resource itself.
        ("user.account.privilege.grant", "okta.roles.manage"),
        ("group.privilege.revoke", "okta.roles.manage"),
        ("app.oauth2.client.privilege.grant", "okta.roles.manage"),
        ("iam.resourceset.bindings.add", "okta.roles.manage"),
        ("policy.lifecycle.update", "okta.policies.manage"),
        ("policy.rule.add", "okta.policies.manage"),
        ("system.api_token.create", "okta.apiTokens.manage"),
    ],
)
def test_each_write_family_maps_to_the_scope_it_needs(event_type, scope_id):
    assert mapping.scope_for_write(event_type) == scope_id


@pytest.mark.parametrize(
    "event_type",
    [
        "user.session.start",  # a sign-in, not a write
        "app.oauth2.token.grant.access_token",  # issuance is judged apart
        "user.lifecycle",  # the family's name without an event
        "policy",
        "",
    ],
)
def test_other_event_types_are_unmapped(event_type):
    assert mapping.scope_for_write(event_type) is None


def test_the_token_grant_events_are_the_org_authorization_servers_only():
    assert mapping.is_token_grant("app.oauth2.token.grant.access_token")
    assert mapping.is_token_grant("app.oauth2.token.grant.refresh_token")
    assert mapping.is_token_grant("app.oauth2.token.grant")
    # The custom authorization servers' issuance never carries okta.* scopes.
    assert not mapping.is_token_grant("app.oauth2.as.token.grant.access_token")
    assert not mapping.is_token_grant("app.oauth2.token.granted")


def test_the_server_side_filter_asks_for_every_mapped_family_and_the_issuance():
    terms = mapping.log_filter().split(" or ")
    assert terms[0] == 'eventType sw "app.oauth2.token.grant"'
    assert {t.removeprefix('eventType sw "').removesuffix('"') for t in terms[1:]} == {
        f.prefix for f in mapping.WRITE_FAMILIES
    }


def test_every_mapped_scope_is_a_catalogued_manage_scope():
    from grantsconsole.okta import scopes

    for family in mapping.WRITE_FAMILIES:
        info = scopes.get(family.scope_id)
        assert info is not None, family
        assert info.kind == "manage", family
