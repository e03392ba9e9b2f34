"""The sign-in and the step-up resume in real Chromium (Playwright) against a live
server and the simulator: the POST button, the redirects under the strict CSP
(form-action), and the CSP-nonced auto-submit of the pending action."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole.accounts.models import OktaCredential
from tests.accounts import flow
from tests.accounts.conftest import okta_writes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.accounts.urls"),
]

# Playwright's sync API runs an event loop in this thread; the ORM calls of the
# test and of pytest-django's teardown are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
    }


@pytest.fixture
def csp_errors(page):
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    page.set_default_timeout(10_000)
    return errors


def _sign_in(page, live_server, next_path: str) -> None:
    page.goto(f"{live_server.url}{next_path}")
    assert "/accounts/login/" in page.url
    page.get_by_role("button", name="Sign in with Okta").click()
    page.wait_for_url("**/oauth2/v1/authorize**")
    page.fill("#okta-signin-username", flow.SUPER)
    page.fill("#okta-signin-password", flow.DEMO_PASSWORD)
    page.click("#okta-signin-submit")
    page.wait_for_url(f"{live_server.url}{next_path}")


def test_sign_in_in_a_real_browser(sim, live_server, page, csp_errors) -> None:
    _sign_in(page, live_server, "/health/console/")
    assert page.get_by_role("heading", name="Console health").is_visible()
    assert OktaCredential.objects.count() == 1
    assert csp_errors == []


def test_step_up_resume_submits_itself(sim, live_server, page, csp_errors) -> None:
    app_id = next(
        a["id"] for a in sim.state()["apps"] if a["label"] == "Expense Reports"
    )
    _sign_in(page, live_server, f"/test/grant/?app_id={app_id}")
    OktaCredential.objects.update(auth_time=timezone.now() - timedelta(minutes=16))
    with page.expect_navigation(url="**/test/grant/", timeout=15_000):
        page.get_by_role("button", name="Grant").click()
    page.wait_for_load_state()
    # Okta's session is still within max_age, so no form: straight back, resumed
    assert '"granted": "okta.users.manage"' in page.content()
    assert len(okta_writes(sim)) == 1
    assert csp_errors == []
