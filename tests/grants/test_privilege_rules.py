"""The effective-privilege table (grants/privilege.py): scope tier x role reach."""

from __future__ import annotations

import pytest

from grantsconsole.grants.privilege import (
    INTEGRATION_REACH,
    RANK,
    HeldRole,
    assess,
    assess_integration,
)

USERS = "okta.users.manage"  # critical


def line(app_type, scope, roles, **kw):
    a = assess(app_type, [scope, "okta.users.read"], roles, **kw)
    (only,) = a.lines  # a line per manage scope, reads have none
    return only.text, only.risk


@pytest.mark.parametrize(
    ("roles", "text", "risk"),
    [
        ([HeldRole("SUPER_ADMIN")], "with SUPER_ADMIN: every user", "critical"),
        ([HeldRole("ORG_ADMIN")], "with ORG_ADMIN: every user", "critical"),
        (
            [HeldRole("USER_ADMIN", groups=("Contractors", "Field Staff"))],
            "with USER_ADMIN on 2 groups: users of those groups",
            "high",
        ),
        ([HeldRole("USER_ADMIN")], "with USER_ADMIN: every user and group", "critical"),
        (
            [HeldRole("HELP_DESK_ADMIN", groups=("Contractors",))],
            "with HELP_DESK_ADMIN on 1 group: users of those groups",
            "high",
        ),
        (
            [HeldRole("HELP_DESK_ADMIN")],
            "with HELP_DESK_ADMIN: password resets of every user",
            "high",
        ),
        (
            [HeldRole("READ_ONLY_ADMIN")],
            "with READ_ONLY_ADMIN: nothing (the role can't make these calls)",
            "low",
        ),
        (
            [HeldRole("APP_ADMIN")],
            "with APP_ADMIN: nothing (the role can't make these calls)",
            "low",
        ),
        (
            [HeldRole("CUSTOM", "Partner user provisioning", resource_set="Partners")],
            "with custom role Partner user provisioning on resource set Partners: "
            "within it",
            "critical",
        ),
        (
            [HeldRole("BRAND_NEW_ADMIN")],
            "with BRAND_NEW_ADMIN: unknown reach",
            "critical",
        ),
        ([], "with no role: nothing until a role is assigned", "latent"),
        # Several roles: the widest wins.
        (
            [HeldRole("READ_ONLY_ADMIN"), HeldRole("SUPER_ADMIN")],
            "with SUPER_ADMIN: every user",
            "critical",
        ),
    ],
)
def test_service_app_scope_reach(roles, text, risk):
    assert line("service", USERS, roles) == (text, risk)


def test_org_admin_cannot_grant_scopes_or_assign_roles():
    a = assess("service", ["okta.appGrants.manage"], [HeldRole("ORG_ADMIN")])
    assert a.lines[0].risk == "low"
    assert not a.self_escalation


@pytest.mark.parametrize("app_type", ["web", "browser", "native"])
def test_user_facing_apps_act_as_the_signed_in_person(app_type):
    a = assess(app_type, [USERS], None)
    assert a.lines[0].text == "acts as whoever signs in, within that person's role"
    assert a.risk == "critical"
    assert not a.latent


def test_no_role_is_latent_and_ranked_below_live_risk():
    a = assess("service", [USERS, "okta.groups.manage"], [])
    assert a.latent
    assert a.risk == "latent"
    assert RANK["latent"] < RANK["low"] < RANK["critical"]
    live = assess("service", [USERS], [HeldRole("SUPER_ADMIN")])
    assert live.rank > a.rank


def test_reads_alone_are_not_latent():
    a = assess("service", ["okta.users.read"], [])
    assert a.lines == ()
    assert not a.latent
    assert a.rank == 0


def test_unreadable_roles_keep_the_scope_tier_and_say_why():
    a = assess("service", [USERS], None, roles_error="403 Forbidden (E0000006)")
    assert a.note == "roles not readable: 403 Forbidden (E0000006)"
    assert a.lines[0].text.startswith("roles not readable: 403")
    assert a.risk == "critical"


@pytest.mark.parametrize(
    ("scope", "roles", "flagged"),
    [
        ("okta.appGrants.manage", [HeldRole("SUPER_ADMIN")], True),
        ("okta.roles.manage", [HeldRole("SUPER_ADMIN")], True),
        ("okta.clients.manage", [HeldRole("APP_ADMIN")], True),
        ("okta.clients.manage", [HeldRole("READ_ONLY_ADMIN")], False),
        ("okta.roles.manage", [], False),  # latent, not yet able
        ("okta.apps.manage", [HeldRole("ORG_ADMIN")], True),
        # APP_ADMIN targeted at other apps does not reach this one ...
        ("okta.apps.manage", [HeldRole("APP_ADMIN", apps=("salesforce",))], False),
        # ... targeted at its own Okta app name or id, it does.
        ("okta.apps.manage", [HeldRole("APP_ADMIN", apps=("oidc_client",))], True),
        ("okta.apps.manage", [HeldRole("APP_ADMIN", apps=("0oa1self",))], True),
        ("okta.users.manage", [HeldRole("SUPER_ADMIN")], False),
    ],
)
def test_self_escalation(scope, roles, flagged):
    a = assess("service", [scope], roles, okta_id="0oa1self", okta_name="oidc_client")
    assert a.self_escalation is flagged


def test_self_escalation_is_not_claimed_for_user_facing_apps():
    assert not assess("web", ["okta.appGrants.manage"], None).self_escalation


def test_an_api_service_integration_holds_each_manage_scope_at_its_tier():
    a = assess_integration([USERS, "okta.users.read", "okta.futureThing.manage"])
    assert [(ln.scope_id, ln.risk) for ln in a.lines] == [
        ("okta.futureThing.manage", "high"),
        (USERS, "critical"),
    ]
    assert a.lines[1].text == INTEGRATION_REACH
    assert (a.risk, a.latent, a.self_escalation) == ("critical", False, False)
    assert assess_integration(["okta.logs.read"]).rank == RANK[""]
