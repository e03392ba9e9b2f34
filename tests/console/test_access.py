"""Every console URL: anonymous → sign-in, a demoted admin → 403, wrong method →
405, CSRF enforced on every write; none of these reaches Okta's grant API."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from grantsconsole.grants.models import AuditReport
from tests.console.conftest import grant_writes, web_app
from tests.factories import SUPER, make_sync_run


@pytest.fixture
def objects(mirrored, sim) -> dict[str, str]:
    app = web_app(sim, holding="okta.apps.read")
    run = make_sync_run()
    report = AuditReport.objects.create(
        period_start=timezone.now(),
        period_end=timezone.now(),
        data={"summary": {"apps": 1}},
    )
    return {"app": app["id"], "run": str(run.pk), "report": str(report.pk)}


READS = [
    "/apps/",
    "/apps/{app}/",
    "/scopes/",
    "/scopes/matrix/",
    "/scopes/okta.users.manage/",
    "/audit/",
    "/audit/export.csv",
    "/audit/export.json",
    "/sync/",
    "/sync/progress",
    "/sync/{run}/",
    "/reports/",
    "/reports/charts/grants-over-time.svg",
    "/reports/charts/top-manage-scopes.svg",
    "/reports/{report}/",
    "/reports/{report}/export.json",
    "/reports/{report}/export.csv",
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
]


def _fill(value: str, objects: dict[str, str]) -> str:
    return value.format(**objects)


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
