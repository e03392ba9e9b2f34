"""The personas are the demo org's people, and ``signed_in_as`` gives a session
the console treats like one made by a real sign-in."""

from __future__ import annotations

import pytest

from grantsconsole.accounts.models import OktaCredential
from grantsconsole.grants import audit
from grantsconsole.grants.models import AuditEvent
from tests.factories import (
    PERSONAS,
    READ_ONLY,
    SUPER,
    make_app,
    make_grant,
    record_action,
)


def test_personas_match_the_demo_org(sim):
    users = {u["login"]: u for u in sim.state()["users"]}
    for persona in PERSONAS:
        user = users[persona.login]
        assert user["id"] == persona.okta_id
        assert user["roles"] == ([persona.role] if persona.role else [])


def test_a_super_admin_session_reads_and_knows_its_okta_credential(signed_in_as):
    client = signed_in_as(SUPER)
    assert client.get("/apps/").status_code == 200
    cred = OktaCredential.objects.get()
    assert (cred.okta_user_id, cred.login) == (SUPER.okta_id, SUPER.login)
    assert "okta.appGrants.manage" in cred.scopes.split()


@pytest.mark.parametrize("mfa", [False, True])
def test_the_credential_carries_the_sign_ins_amr(signed_in_as, mfa):
    signed_in_as(SUPER, mfa=mfa)
    assert ("mfa" in OktaCredential.objects.get().amr) is mfa


def test_a_read_only_admin_session_is_refused_at_the_role_recheck(
    signed_in_as, settings
):
    """The real sign-in refuses anyone but a Super Admin; a session made
    directly for another persona is refused at the next role re-check."""
    settings.ACCOUNTS_ROLE_RECHECK_SECONDS = 0
    assert signed_in_as(READ_ONLY).get("/apps/").status_code == 403


def test_audit_rows_from_the_factory_keep_the_chain_whole(db):
    app = make_app()
    make_grant(app, "okta.users.read")
    record_action("grant", app=app, scope_id="okta.users.read")
    record_action("revoke", by=READ_ONLY, app=app, scope_id="okta.users.read")
    assert list(
        AuditEvent.objects.order_by("seq").values_list("actor_login", flat=True)
    ) == [
        SUPER.login,
        READ_ONLY.login,
    ]
    assert audit.verify().ok
