"""Console health: the console app's grant collection, the scopes in the admin's
and the worker's tokens, and what each missing scope disables."""

from __future__ import annotations

import re

import pytest

from grantsconsole.okta_clients import WORKER_SCOPES, forget_worker_clients
from tests.accounts import flow

pytestmark = pytest.mark.django_db(transaction=True)

CONSOLE = "0oa1consoleDEMO000x7"
WORKER = "0oa1workerDEMO0000x7"


@pytest.fixture(autouse=True)
def _fresh_worker_client():
    forget_worker_clients()
    yield
    forget_worker_clients()


def _row(page: bytes, section: str, scope: str) -> str:
    text = page.decode()
    part = text[text.index(f'id="{section}"') :]
    match = re.search(
        rf'<tr data-scope="{re.escape(scope)}" data-ok="(yes|no)">(.*?)</tr>',
        part,
        re.S,
    )
    assert match, scope
    return match.group(1) + match.group(2)


def test_all_scopes_present(sim, admin) -> None:
    page = admin.get("/health/console/")
    assert page.status_code == 200
    body = page.content
    assert b"Every scope the console and the worker need is present." in body
    for scope in (
        "okta.apps.read",
        "okta.appGrants.read",
        "okta.appGrants.manage",
        "okta.roles.read",
        "okta.logs.read",
    ):
        assert f"<code>{scope}</code>".encode() in body  # the console's grants
    for scope in ("okta.roles.read", "okta.appGrants.manage", "offline_access"):
        assert _row(body, "console-scopes", scope).startswith("yes")
    for scope in ("okta.apps.read", "okta.appGrants.read", "okta.logs.read"):
        assert _row(body, "worker-scopes", scope).startswith("yes")


def test_missing_grants_show_what_they_disable(sim, admin) -> None:
    sim.oob_revoke(CONSOLE, "okta.appGrants.manage")
    sim.oob_revoke(WORKER, "okta.logs.read")
    page = admin.get("/health/console/")
    assert page.status_code == 200
    body = page.content
    assert b"2 problems found." in body
    manage = _row(body, "console-scopes", "okta.appGrants.manage")
    assert manage.startswith("no")
    assert "Disabled: Granting and revoking Okta API scopes." in manage
    logs = _row(body, "worker-scopes", "okta.logs.read")
    assert logs.startswith("no")
    assert "System Log" in logs
    assert _row(body, "console-scopes", "okta.roles.read").startswith("yes")


def test_health_page_needs_a_super_admin(sim) -> None:
    client = flow.console_client()
    assert client.get("/health/console/").status_code == 302


def _worker_section(page: bytes) -> str:
    text = page.decode()
    return text[text.index('id="worker-scopes"') :]


def test_unknown_worker_key_id_quotes_okta(sim, admin, settings) -> None:
    settings.OKTA_WORKER_KEY_ID = "no-such-kid"
    body = admin.get("/health/console/").content
    assert b"Every scope" not in body
    assert b"1 problem found." in body
    worker = _worker_section(body)
    assert "<code>invalid_client</code>" in worker
    assert "“The client_assertion JWT kid is invalid.”" in worker
    assert "key id (kid)" in worker


def test_worker_without_grantable_scopes_quotes_invalid_scope(sim, admin) -> None:
    for scope in WORKER_SCOPES:
        sim.oob_revoke(WORKER, scope)
    worker = _worker_section(admin.get("/health/console/").content)
    assert "<code>invalid_scope</code>" in worker
    assert "none of the scopes the app asks for may be issued" in worker


def test_unknown_worker_client_is_a_client_problem(sim, admin, settings) -> None:
    settings.OKTA_WORKER_CLIENT_ID = "0oa1nosuchclient0000"
    worker = _worker_section(admin.get("/health/console/").content)
    assert "<code>invalid_client</code>" in worker
    assert "did not accept the app&#x27;s client credentials" in worker


def test_worker_without_an_admin_role_that_reads_grants(sim, admin) -> None:
    sim.set_client_roles(WORKER, ["READ_ONLY_ADMIN"])
    body = admin.get("/health/console/").content
    assert b"Every scope" not in body
    assert b"1 problem found." in body
    worker = _worker_section(body)
    assert "no admin role that can read grants" in worker
    assert "its roles: READ_ONLY_ADMIN" in worker
    for scope in ("okta.apps.read", "okta.appGrants.read", "okta.logs.read"):
        assert _row(body, "worker-scopes", scope).startswith("yes")


def test_worker_super_admin_role_is_shown(sim, admin) -> None:
    body = admin.get("/health/console/").content
    assert "Admin roles of the worker app: SUPER_ADMIN." in _worker_section(body)


def test_the_last_audit_verification_and_its_banner_are_shown(sim, admin) -> None:
    from grantsconsole.grants import audit, services
    from tests.grants.helpers import tamper

    audit.record("sync")
    services.verify_audit_trail(trigger="beat")
    page = admin.get("/health/console/").content.decode()
    assert "<title>Console health · grantsconsole</title>" in page
    assert page.index('id="audit-verification"') > page.index('<main id="main">')
    assert "intact" in page
    assert 'action="/audit/verify"' in page
    assert 'id="audit-broken"' not in page
    tamper("UPDATE grants_auditevent SET outcome = 'failure' WHERE seq = 1")
    services.verify_audit_trail(trigger="beat")
    page = admin.get("/health/console/").content.decode()
    assert "First break: audit row seq 1" in page
    assert 'id="audit-broken"' in page
