"""Every console URL: anonymous → sign-in, a demoted admin → 403, an auditor →
only the audit, reports, exports and Console health, wrong method → 405, CSRF
enforced on every write; none of these reaches Okta's grant API."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from grantsconsole.accounts.models import OktaCredential
from grantsconsole.governance import approvals, attestation, policies
from grantsconsole.governance.models import AlertDestination, PolicyFinding
from grantsconsole.grants import audit
from grantsconsole.grants.models import (
    ApiServiceIntegration,
    AuditEvent,
    AuditReport,
    OktaApp,
)
from grantsconsole.grants.services import reports as report_services
from tests.console.conftest import grant_writes, web_app
from tests.factories import ORG_ADMIN, READ_ONLY, SUPER, make_sync_run


@pytest.fixture
def objects(mirrored, sim) -> dict[str, str]:
    app = web_app(sim, holding="okta.apps.read")
    run = make_sync_run()
    report = AuditReport.objects.create(
        period_start=timezone.now(),
        period_end=timezone.now(),
        data={"summary": {"apps": 1}},
    )
    seq = audit.record(
        "refresh", actor_login=SUPER.login, scope_id="okta.apps.read"
    ).seq
    ApiServiceIntegration.objects.create(
        okta_id="0oaINTEGRATION000001", name="Acme Log Streaming"
    )
    campaign = attestation.start_campaign(trigger="console", actor=SUPER.actor)
    request = approvals.open_request(
        OktaApp.objects.get(okta_id=app["id"]),
        "okta.users.manage",
        ORG_ADMIN.actor,
        "needed",
    )
    destination = AlertDestination.objects.create(
        name="Security mailbox", kind="email", emails="security@example.com"
    )
    version = policies.save_from_console(
        "version: 1\nrules:\n  - {id: no-roles, kind: forbid_scopes, "
        "scopes: [okta.apps.read]}\n",
        actor=SUPER.actor,
    )
    finding = PolicyFinding.objects.get(app__okta_id=app["id"])
    return {
        "campaign": str(campaign.pk),
        "item": str(campaign.items.order_by("pk").first().pk),
        "request": str(request.pk),
        "destination": str(destination.pk),
        "app": app["id"],
        "integration": "0oaINTEGRATION000001",
        "run": str(run.pk),
        "report": str(report.pk),
        "seq": str(seq),
        "version": str(version.pk),
        "finding": str(finding.pk),
    }


READS = [
    "/apps/",
    "/apps/{app}/",
    "/scopes/",
    "/scopes/matrix/",
    "/scopes/okta.users.manage/",
    "/audit/",
    "/audit/export.csv",
    "/audit/export.json",
    "/audit/{seq}/",
    "/sync/",
    "/sync/progress",
    "/sync/{run}/",
    "/reports/",
    "/reports/charts/grants-over-time.svg",
    "/reports/charts/top-manage-scopes.svg",
    "/reports/charts/least-privilege-by-risk.svg",
    "/reports/charts/least-privilege-trend.svg",
    "/reports/{report}/",
    "/reports/{report}/export.json",
    "/reports/{report}/export.csv",
    "/integrations/",
    "/apps/{app}/owner/",
    "/attestation/",
    "/attestation/{campaign}/",
    "/attestation/{campaign}/export.csv",
    "/attestation/{campaign}/export.json",
    "/requests/",
    "/requests/new",
    "/alerts/",
    "/alerts/destinations/",
    "/alerts/destinations/{destination}/",
    "/policy/",
    "/policy/versions/",
    "/policy/versions/{version}/",
    "/policy/plan/",
    "/usage/unused/",
    "/usage/plans/export.csv",
    "/usage/plans/export.json",
]
WRITES = [
    ("/apps/{app}/grants/grant", {"only": "okta.brands.read"}),
    ("/apps/{app}/grants/revoke", {"only": "okta.apps.read", "confirm": "yes"}),
    ("/apps/{app}/refresh", {}),
    ("/scopes/okta.brands.read/grant", {"app": "{app}"}),
    ("/scopes/okta.apps.read/revoke", {"app": "{app}", "confirm": "yes"}),
    ("/sync/start", {"kind": "incremental"}),
    ("/audit/verify", {}),
    ("/apps/{app}/grants/undo", {"revoke": "1"}),
    ("/apps/{app}/tokens/revoke", {"revoke": "1", "confirm": "yes"}),
    ("/reports/generate", {}),
    ("/usage/plans/apply", {"app": "{app}", "confirm": "yes"}),
    (
        "/integrations/{integration}/remove",
        {"confirm": "yes", "typed": "Acme Log Streaming"},
    ),
    ("/apps/{app}/owner/set", {"login": SUPER.login}),
    ("/attestation/start", {}),
    ("/attestation/items/{item}/answer", {"decision": "confirm"}),
    ("/requests/{request}/approve", {}),
    ("/requests/{request}/deny", {"reason": "no"}),
    (
        "/apps/{app}/grants/end-time",
        {"scope": "okta.apps.read", "ends_at": "2099-01-01T00:00"},
    ),
    (
        "/alerts/destinations/create",
        {"name": "Pager", "kind": "email", "emails": "pager@example.com"},
    ),
    (
        "/alerts/destinations/{destination}/edit",
        {"name": "Renamed", "kind": "email", "emails": "x@example.com"},
    ),
    ("/alerts/destinations/{destination}/test", {}),
    ("/alerts/destinations/{destination}/delete", {}),
    ("/policy/edit", {"text": "version: 1\n"}),
    ("/policy/findings/{finding}/accept", {"reason": "known", "days": "30"}),
    ("/policy/apply", {"plan": "x", "confirm": "yes"}),
]


def _fill(value: str, objects: dict[str, str]) -> str:
    return value.format(**objects)


#: the pages an auditor may read (every other URL is a Super Admin's)
AUDITOR_READS = [
    "/audit/",
    "/audit/export.csv",
    "/audit/export.json",
    "/audit/{seq}/",
    "/reports/",
    "/reports/charts/grants-over-time.svg",
    "/reports/charts/top-manage-scopes.svg",
    "/reports/charts/least-privilege-by-risk.svg",
    "/reports/charts/least-privilege-trend.svg",
    "/reports/{report}/",
    "/reports/{report}/export.json",
    "/reports/{report}/export.csv",
    "/health/console/",
    "/attestation/",
    "/attestation/{campaign}/",
    "/attestation/{campaign}/export.csv",
    "/attestation/{campaign}/export.json",
    "/policy/",
    "/policy/versions/",
    "/policy/versions/{version}/",
]


@pytest.fixture
def auditor(signed_in_as, sim):
    """Signed in as the demo Read-Only Admin, an auditor by default; every
    request re-checks the role (the role is what the server decides on)."""
    client = signed_in_as(READ_ONLY)
    OktaCredential.objects.filter(okta_user_id=READ_ONLY.okta_id).update(
        access=OktaCredential.AUDITOR
    )
    return client


@pytest.mark.parametrize("url", AUDITOR_READS)
def test_an_auditor_reads_the_audit_reports_exports_and_health(auditor, objects, url):
    assert auditor.get(_fill(url, objects)).status_code == 200


@pytest.mark.parametrize("url", [u for u in READS if u not in AUDITOR_READS])
def test_an_auditor_is_refused_every_other_page_and_stays_signed_in(
    auditor, objects, url
):
    response = auditor.get(_fill(url, objects))
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-reason="auditor"' in page
    assert "What auditors can see" in page
    assert "They cannot: see apps, scopes" in page
    assert AuditEvent.objects.filter(
        action="authz_denied", actor_login=READ_ONLY.login
    ).exists()
    assert auditor.get("/audit/").status_code == 200  # session kept


@pytest.mark.parametrize(("url", "data"), WRITES)
def test_an_auditor_cannot_write_even_when_the_role_says_super_admin_locally(
    auditor, objects, sim, url, data
):
    """Writes take a fresh role check with Okta: an access level forged in the
    database does not open them."""
    OktaCredential.objects.update(access=OktaCredential.SUPER_ADMIN)
    data = {k: _fill(v, objects) for k, v in data.items()}
    response = auditor.post(_fill(url, objects), data)
    assert response.status_code == 403
    assert b'data-reason="auditor"' in response.content
    assert b"Your admin roles in Okta:" in response.content  # the fresh answer
    assert grant_writes(sim) == []
    assert OktaCredential.objects.get().access == OktaCredential.AUDITOR


def test_an_auditors_nav_shows_only_what_they_may_open(auditor, admin, objects):
    nav = auditor.get("/audit/").content.decode().split("</nav>")[0]
    for allowed in ("/audit/", "/reports/", "/health/console/"):
        assert f'href="{allowed}"' in nav
    for refused in ("/apps/", "/scopes/", "/sync/"):
        assert f'href="{refused}"' not in nav
    assert "Verify now" not in auditor.get("/audit/").content.decode()
    assert auditor.get("/").url == "/audit/"
    full = admin.get("/audit/").content.decode()
    assert 'href="/apps/"' in full.split("</nav>")[0]
    assert "Verify now" in full
    assert admin.get("/").url == "/apps/"


def test_an_auditors_pages_link_to_no_page_that_refuses_them(auditor, admin, objects):
    """App and scope names on the audit and the reports are plain text for an
    auditor (links for a Super Admin), and no write button is offered."""
    app = OktaApp.objects.get(okta_id=objects["app"])
    audit.record("grant", actor_login=SUPER.login, app=app, scope_id="okta.apps.read")
    report = report_services.create_report(trigger="test")
    pages = ["/audit/", f"/audit/{AuditEvent.objects.latest('seq').seq}/"]
    pages += ["/reports/", f"/reports/{report.pk}/", "/health/console/"]
    pages += [
        "/policy/",
        "/policy/versions/",
        f"/policy/versions/{objects['version']}/",
    ]
    for page in pages:
        html = auditor.get(page).content.decode()
        assert "Generate report now</button>" not in html
        for href in sorted(set(re.findall(r'href="(/[^"#]*)', html))):
            target = auditor.get(unescape(href))
            assert target.status_code != 403, f"{page} links to {href}"
    report_page = admin.get(f"/reports/{report.pk}/").content.decode()
    assert 'href="/scopes/okta.users.manage/"' in report_page
    assert f'href="/apps/{app.okta_id}/"' in admin.get("/audit/").content.decode()
    assert "Generate report now</button>" in admin.get("/reports/").content.decode()


def test_a_group_member_is_an_auditor(signed_in_as, objects, sim, settings):
    """Membership of ``ACCOUNTS_AUDITOR_GROUP`` (the ID token's ``groups``
    claim at sign-in) makes an auditor of an admin whose role does not."""
    settings.ACCOUNTS_ROLE_RECHECK_SECONDS = 0
    settings.ACCOUNTS_AUDITOR_GROUP = "Grant Auditors"
    sim.set_roles(READ_ONLY.login, ["HELP_DESK_ADMIN"])
    client = signed_in_as(READ_ONLY)
    OktaCredential.objects.update(groups=["Everyone", "Grant Auditors"])
    assert client.get("/audit/").status_code == 200
    assert client.get("/apps/").status_code == 403
    assert OktaCredential.objects.get().access == OktaCredential.AUDITOR
    OktaCredential.objects.update(groups=["Everyone"])
    refused = client.get("/audit/")
    assert refused.status_code == 403
    assert b'data-reason="not_super_admin"' in refused.content
    assert not OktaCredential.objects.exists()  # neither: signed out


@pytest.mark.parametrize("url", READS)
def test_read_pages_answer_a_super_admin(admin, objects, url):
    assert admin.get(_fill(url, objects)).status_code == 200


@pytest.mark.parametrize("url", READS)
def test_anonymous_is_sent_to_sign_in(objects, url):
    response = Client().get(_fill(url, objects))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("url", "data"), WRITES)
def test_anonymous_write_is_sent_to_sign_in(objects, sim, url, data):
    data = {k: _fill(v, objects) for k, v in data.items()}
    response = Client().post(_fill(url, objects), data)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert grant_writes(sim) == []


@pytest.mark.parametrize(
    "url", ["/apps/", "/apps/{app}/", "/audit/", "/sync/", "/reports/"]
)
def test_an_admin_demoted_in_okta_gets_403(demoted, objects, url):
    response = demoted.get(_fill(url, objects))
    assert response.status_code == 403


@pytest.mark.parametrize(("url", "data"), WRITES[:5])
def test_a_demoted_admin_cannot_write(admin, objects, sim, url, data):
    sim.set_roles(SUPER.login, ["READ_ONLY_ADMIN"])  # writes always re-check
    data = {k: _fill(v, objects) for k, v in data.items()}
    response = admin.post(_fill(url, objects), data)
    assert response.status_code == 403
    assert grant_writes(sim) == []


@pytest.mark.parametrize(("url", "data"), WRITES)
def test_get_on_a_write_url_is_405(admin, objects, sim, url, data):
    assert admin.get(_fill(url, objects)).status_code == 405
    assert grant_writes(sim) == []


@pytest.mark.parametrize(
    "url", ["/apps/", "/apps/{app}/", "/audit/", "/sync/", "/reports/"]
)
def test_post_on_a_read_url_is_405(admin, objects, url):
    assert admin.post(_fill(url, objects)).status_code == 405


@pytest.mark.parametrize(("url", "data"), WRITES)
def test_csrf_is_enforced_on_every_write(admin_csrf, objects, sim, url, data):
    data = {k: _fill(v, objects) for k, v in data.items()}
    before = len(sim.requests())
    missing = admin_csrf.post(_fill(url, objects), data)
    wrong = admin_csrf.post(
        _fill(url, objects), {**data, "csrfmiddlewaretoken": "x" * 64}
    )
    wrong_header = admin_csrf.post(
        _fill(url, objects), data, HTTP_X_CSRFTOKEN="y" * 64, HTTP_HX_REQUEST="true"
    )
    assert missing.status_code == 403
    assert wrong.status_code == 403
    assert wrong_header.status_code == 403
    assert sim.requests()[before:] == []


def test_a_write_with_the_right_csrf_token_goes_through(admin_csrf, objects, sim):
    page = admin_csrf.get(f"/apps/{objects['app']}/")
    token = page.cookies.get("csrftoken") or admin_csrf.cookies["csrftoken"]
    response = admin_csrf.post(
        f"/apps/{objects['app']}/grants/grant",
        {"only": "okta.brands.read", "csrfmiddlewaretoken": token.value},
    )
    assert response.status_code == 302
    assert len(grant_writes(sim)) == 1


@pytest.mark.parametrize(
    "url",
    [
        "/apps/0oaNOPE/",
        "/scopes/not%20a%20scope/",
        "/sync/999999/",
        "/reports/999999/",
        "/reports/999999/export.csv",
        "/policy/versions/999999/",
    ],
)
def test_unknown_ids_are_404(admin, objects, url):
    assert admin.get(url).status_code == 404


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/scopes/not%20a%20scope/grant", {"app": "{app}"}),
        ("/scopes/not%20a%20scope/revoke", {"app": "{app}"}),
        ("/scopes/okta.brands.read/grant", {"app": "0oaNOPE"}),
        ("/scopes/okta.brands.read/grant", {"app": "<b>"}),
        ("/apps/0oaNOPE/refresh", {}),
    ],
)
def test_unknown_ids_in_writes_are_404_before_okta(admin, objects, sim, url, data):
    before = len(sim.requests())
    data = {k: _fill(v, objects) for k, v in data.items()}
    assert admin.post(_fill(url, objects), data).status_code == 404
    assert sim.requests()[before:] == []


def test_an_auditors_console_health_shows_the_console_apps_grants(auditor, objects):
    """An auditor's own role cannot read app grants; the worker reads the
    console app's grant collection for their Console health page."""
    page = auditor.get("/health/console/").content.decode()
    assert "Could not read it" not in page
    grants = page.split('id="console-grants"')[1].split("</section>")[0]
    assert "<code>okta.appGrants.manage</code>" in grants


def test_every_console_route_is_in_these_lists():
    """A new route gets its access rules tested here, or this fails."""
    from grantsconsole.console.urls import urlpatterns

    listed = {
        resolve(_fill(u, SAMPLE)).url_name for u in [*READS, *(w for w, _ in WRITES)]
    }
    routes = {p.name for p in urlpatterns} - {"home"}
    assert routes - listed == set()


SAMPLE = {
    "app": "0oa1",
    "integration": "0oa2",
    "run": "1",
    "report": "1",
    "seq": "1",
    "campaign": "1",
    "item": "1",
    "request": "1",
    "destination": "1",
    "version": "1",
    "finding": "1",
}
