"""Step-up before granting or revoking a manage scope: an Okta authentication
older than 15 minutes sends the admin through Okta again with ``max_age``, and
the action they started is resumed afterwards."""

from __future__ import annotations

import html
import re
import time
from datetime import timedelta

import jwt
import pytest
import requests
from django.utils import timezone

from grantsconsole.accounts.models import OktaCredential
from grantsconsole.grants.models import AuditEvent
from tests.accounts import flow
from tests.accounts.conftest import introspect, okta_writes

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.accounts.urls"),
]


def _app_id(sim) -> str:
    return next(a["id"] for a in sim.state()["apps"] if a["label"] == "Expense Reports")


def _age_auth(minutes: int = 16) -> None:
    OktaCredential.objects.update(auth_time=timezone.now() - timedelta(minutes=minutes))


def _form_fields(page: bytes) -> tuple[str, list[tuple[str, str]]]:
    text = page.decode()
    action = re.search(
        r'<form method="post" action="([^"]+)" id="step-up-resume"', text
    ).group(1)
    fields = [
        (html.unescape(n), html.unescape(v))
        for n, v in re.findall(
            r'<input type="hidden" name="([^"]*)" value="([^"]*)">', text
        )
    ]
    return html.unescape(action), fields


def _start_step_up(sim, admin) -> str:
    _age_auth()
    response = admin.post(
        "/test/grant/", {"app_id": _app_id(sim), "scope_id": "okta.users.manage"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(f"{sim.url}/oauth2/v1/authorize?")
    return response["Location"]


def test_recent_authentication_needs_no_step_up(sim, admin) -> None:
    _age_auth(minutes=14)
    response = admin.post(
        "/test/grant/", {"app_id": _app_id(sim), "scope_id": "okta.users.manage"}
    )
    assert response.status_code == 200
    assert len(okta_writes(sim)) == 1


def test_stale_authentication_redirects_to_okta_with_max_age(sim, admin) -> None:
    authorize = _start_step_up(sim, admin)
    q = flow.query(authorize)
    assert q["max_age"] == "900"
    assert q["nonce"]
    assert q["code_challenge_method"] == "S256"
    assert okta_writes(sim) == []  # nothing written before the step-up


def test_htmx_request_gets_an_hx_redirect(sim, admin) -> None:
    _age_auth()
    response = admin.post(
        "/test/grant/",
        {"app_id": _app_id(sim), "scope_id": "okta.users.manage"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(f"{sim.url}/oauth2/v1/authorize?")
    assert flow.query(response["HX-Redirect"])["max_age"] == "900"


@pytest.mark.parametrize("fresh_okta_session", [False, True])
def test_step_up_then_resume_the_action(
    sim, admin, okta_browser: requests.Session, fresh_okta_session: bool
) -> None:
    old = OktaCredential.objects.get()
    old_access = old.access_token
    authorize = _start_step_up(sim, admin)
    # the admin authenticates at Okta again (a new browser session at Okta shows
    # the login form; the existing one is still within max_age at Okta)
    if fresh_okta_session:
        okta_browser = requests.Session()
    callback = flow.okta_login(authorize, flow.SUPER, browser=okta_browser)
    landed = flow.finish(admin, callback)
    assert landed.status_code == 302
    assert landed["Location"] == "/accounts/step-up/resume/"

    new = OktaCredential.objects.get()
    assert new.pk != old.pk
    assert timezone.now() - new.auth_time < timedelta(minutes=15)
    assert introspect(old_access)["active"] is False  # the old tokens were ended

    page = admin.get("/accounts/step-up/resume/")
    assert page.status_code == 200
    assert b"autosubmit.js" in page.content
    action, fields = _form_fields(page.content)
    assert action == "/test/grant/"
    data = dict(fields)
    assert data["app_id"] == _app_id(sim)
    assert data["scope_id"] == "okta.users.manage"
    assert "csrfmiddlewaretoken" in data  # the page's own, fresh token

    done = admin.post(action, data)
    assert done.status_code == 200, done.content[:500]
    assert done.json()["granted"] == "okta.users.manage"
    assert len(okta_writes(sim)) == 1
    assert AuditEvent.objects.filter(action="sign_in", outcome="success").count() == 2
    assert AuditEvent.objects.filter(action="sign_in").latest("seq").detail["step_up"]

    # the pending action was single-use
    again = admin.get("/accounts/step-up/resume/")
    assert again.status_code == 302


def test_okta_ignoring_max_age_is_refused(sim_server, sim, admin) -> None:
    """If the returned auth_time is still too old the step-up is refused."""
    authorize = _start_step_up(sim, admin)
    callback = flow.okta_login(authorize, flow.SUPER)
    user = next(u for u in sim.state()["users"] if u["login"] == flow.SUPER)
    now = int(time.time())
    claims = {
        "sub": user["id"],
        "iss": sim.url,
        "aud": "0oa1consoleDEMO000x7",
        "iat": now,
        "exp": now + 3600,
        "auth_time": now - 3600,
        "nonce": flow.query(authorize)["nonce"],
    }
    oauth = sim_server.sim.oauth
    real = sim.token(login=flow.SUPER, scopes="openid okta.roles.read")
    sim.fault(
        r"^/oauth2/v1/token$",
        kind="wrong_shape",
        method="POST",
        body={
            "token_type": "Bearer",
            "expires_in": 3600,
            "access_token": real["access_token"],
            "scope": "openid okta.roles.read",
            "id_token": jwt.encode(
                claims, oauth.key, algorithm="RS256", headers={"kid": oauth.kid}
            ),
        },
    )
    response = flow.finish(admin, callback)
    assert response.status_code == 400
    assert b'data-reason="not_recent"' in response.content
    assert okta_writes(sim) == []


def test_resume_url_must_be_on_site(sim, admin) -> None:
    from django.test import RequestFactory

    from grantsconsole.accounts.access import require_recent_auth

    request = RequestFactory().post("/x/", HTTP_HOST=flow.HOST)
    request.user = OktaCredential.objects.get().user
    request.session = admin.session
    _age_auth()
    with pytest.raises(ValueError, match="resume_url"):
        require_recent_auth(request, "https://evil.example.com/grant/", {})


MFA = "urn:okta:loa:2fa:any"
DEMO_MFA_CODE = "123456"  # the simulator's demo verification code


@pytest.mark.parametrize("with_mfa", [True, False])
def test_step_up_can_demand_mfa(sim, admin, settings, with_mfa) -> None:
    settings.ACCOUNTS_STEP_UP_ACR_VALUES = MFA
    # a recent password-only sign-in is not enough when MFA is demanded
    response = admin.post(
        "/test/grant/", {"app_id": _app_id(sim), "scope_id": "okta.users.manage"}
    )
    assert response.status_code == 302
    authorize = response["Location"]
    assert flow.query(authorize)["acr_values"] == MFA
    if with_mfa:
        callback = flow.okta_login(authorize, flow.SUPER, passcode=DEMO_MFA_CODE)
        assert flow.finish(admin, callback)["Location"] == "/accounts/step-up/resume/"
        assert "mfa" in OktaCredential.objects.get().amr
        action, fields = _form_fields(admin.get("/accounts/step-up/resume/").content)
        assert admin.post(action, dict(fields)).status_code == 200
        assert len(okta_writes(sim)) == 1
    else:
        # an IdP that ignores acr_values (Okta does for unsupported values):
        # the sign-in happens with a password only, amr lacks "mfa"
        ignored = re.sub(r"&acr_values=[^&]*", "", authorize)
        assert "acr_values" not in ignored
        callback = flow.okta_login(ignored, flow.SUPER)
        refused = flow.finish(admin, callback)
        assert refused.status_code == 400
        assert b'data-reason="mfa_missing"' in refused.content
        assert okta_writes(sim) == []
