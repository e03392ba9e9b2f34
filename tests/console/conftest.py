"""Fixtures for the console view tests: signed-in clients (sessions made directly
by ``signed_in_as``; ``signed_in`` drives the real sign-in for the tests that need
it), and the demo org mirrored into the database with bulk_create (no Okta call
needed to fill a page)."""

from __future__ import annotations

import pytest
import requests
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from grantsconsole.grants.models import OktaApp, ScopeGrant
from tests.accounts import flow
from tests.factories import SUPER
from tests.grants.conftest import worker_client  # noqa: F401 (the worker's side of "Sync now")


def signed_in(login: str, *, enforce_csrf: bool = False) -> Client:
    """A test client signed in as ``login`` over the real sign-in (Django test
    client → the simulator's login form → callback)."""
    client = Client(HTTP_HOST=flow.HOST, enforce_csrf_checks=enforce_csrf)
    if enforce_csrf:
        # The sign-in button is a CSRF-protected POST: fetch the page for a token.
        page = client.get("/accounts/login/")
        token = page.cookies["csrftoken"].value
        authorize = client.post(flow.LOGIN_PATH, {"csrfmiddlewaretoken": token})[
            "Location"
        ]
        response = flow.finish(
            client, flow.okta_login(authorize, login, browser=requests.Session())
        )
    else:
        response = flow.sign_in(client, login, browser=requests.Session())
    assert response.status_code == 302, response.content[:500]
    return client


@pytest.fixture
def admin(signed_in_as) -> Client:
    """Signed in as the demo Super Admin (session made directly)."""
    return signed_in_as(SUPER)


@pytest.fixture
def admin_csrf(signed_in_as) -> Client:
    """Signed in as the demo Super Admin, with CSRF checks enforced."""
    return signed_in_as(SUPER, enforce_csrf=True)


@pytest.fixture
def demoted(sim, admin, settings) -> Client:
    """A signed-in session whose Okta role was then lowered to App Admin (neither
    a Super Admin nor an auditor); every request re-checks the role (recheck
    interval 0 s)."""
    settings.ACCOUNTS_ROLE_RECHECK_SECONDS = 0
    sim.set_roles(SUPER.login, ["APP_ADMIN"])
    return admin


def mirror_org(sim) -> int:
    """Copy the simulator's OIDC apps and grants into the database, as a full
    sync would leave them, without Okta calls (fast). Returns the app count."""
    now = timezone.now()
    apps = [a for a in sim.state()["apps"] if a["sign_on_mode"] == "OPENID_CONNECT"]
    rows = OktaApp.objects.bulk_create(
        OktaApp(
            okta_id=a["id"],
            label=a["label"],
            name=a.get("name", ""),
            client_id=a.get("client_id") or "",
            application_type=a.get("kind", ""),
            status=a["status"],
            sign_on_mode=a["sign_on_mode"],
            grants_state="ok",
            last_synced_at=now,
        )
        for a in apps
    )
    ScopeGrant.objects.bulk_create(
        ScopeGrant(
            app=row,
            scope_id=g["scopeId"],
            okta_grant_id=g["id"],
            source="ADMIN",
            created_by_id=g["createdBy"]["id"],
            created_by_type=g["createdBy"]["type"],
            created=parse_datetime(g["created"]),
            first_seen_at=parse_datetime(g["created"]),
            last_seen_at=now,
        )
        for row, a in zip(rows, apps, strict=True)
        for g in a["grants"]
    )
    return len(rows)


@pytest.fixture
def mirrored(sim, db) -> int:
    """The demo org's apps and grants in the database, without a sync (see
    ``mirror_org``)."""
    return mirror_org(sim)


def okta_grants(sim, app_id: str) -> set[str]:
    """The scopeIds the simulator says ``app_id`` holds."""
    for app in sim.state()["apps"]:
        if app["id"] == app_id:
            return {g["scopeId"] for g in app["grants"]}
    raise AssertionError(f"no app {app_id} in the simulator")


def grant_writes(sim) -> list[dict]:
    """Every request the simulator saw that writes a grant collection."""
    return [
        r
        for r in sim.requests()
        if r["method"] in ("POST", "DELETE") and "/grants" in r["path"]
    ]


def web_app(sim, *, without: str = "", holding: str = "") -> dict:
    """An OIDC web app of the simulator (not the console's own app) that does not
    hold ``without`` / does hold ``holding``."""
    for app in sim.state()["apps"]:
        scopes = {g["scopeId"] for g in app["grants"]}
        if (
            app["sign_on_mode"] == "OPENID_CONNECT"
            and app["id"] not in ("0oa1consoleDEMO000x7", "0oa1workerDEMO0000x7")
            and app.get("client_id")
            not in ("0oa1consoleDEMO000x7", "0oa1workerDEMO0000x7")
            and (not without or without not in scopes)
            and (not holding or holding in scopes)
        ):
            return app
    raise AssertionError("no suitable app in the demo org")
