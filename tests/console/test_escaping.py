"""Okta-sourced strings are escaped everywhere; the pages carry a strict CSP with
no inline script or style."""

from __future__ import annotations

import re

import pytest

from tests.console.conftest import mirror_org

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def hostile_app(sim, db) -> dict:
    app = sim.oob_app("create", label=HOSTILE, kind="web", grants=["okta.users.manage"])
    mirror_org(sim)
    return app


def test_a_hostile_label_renders_as_text(admin, hostile_app):
    app_id = hostile_app["id"]
    for url in (
        "/apps/",
        f"/apps/?q={app_id}",
        f"/apps/{app_id}/",
        "/scopes/okta.users.manage/",
        "/scopes/matrix/",
        "/scopes/",
        "/reports/charts/top-manage-scopes.svg",
    ):
        body = admin.get(url).content.decode()
        assert HOSTILE not in body, url
        assert "onerror=alert(1)" not in body.replace(
            "&lt;img src=x onerror=alert(1)&gt;", ""
        ), url
    assert (
        "&lt;img src=x onerror=alert(1)&gt;"
        in admin.get(f"/apps/{app_id}/").content.decode()
    )


def test_pages_carry_a_strict_csp_and_no_inline_script_or_style(admin, hostile_app):
    for url in (
        "/apps/",
        f"/apps/{hostile_app['id']}/",
        "/scopes/",
        "/audit/",
        "/sync/",
        "/reports/",
    ):
        response = admin.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        body = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), url
        assert " style=" not in body, url
        assert "<style" not in body, url


def test_the_apps_search_answers_htmx_with_the_results_fragment(admin, hostile_app):
    response = admin.get(
        "/apps/?q=onerror", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="apps-results"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="apps-results">')
    assert "<html" not in body
    assert "1 app." in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
