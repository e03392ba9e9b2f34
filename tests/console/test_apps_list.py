"""The apps list: search, every filter, sort and pages, against rows built in the DB."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from grantsconsole.grants.models import OktaApp, ScopeGrant
from tests.factories import make_apps, make_grant


def _labels(body: str) -> list[str]:
    rows = body.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r'<a href="/apps/[^"]+/">([^<]+)</a>', rows)


def test_search_type_status_and_pages(admin, db):
    make_apps(60)
    page1 = admin.get("/apps/").content.decode()
    assert "60 apps, page 1 of 2." in page1
    assert len(_labels(page1)) == 50
    assert len(_labels(admin.get("/apps/?page=2").content.decode())) == 10
    assert _labels(admin.get("/apps/?q=App 0007").content.decode()) == ["App 0007"]
    assert _labels(admin.get("/apps/?q=0oaT000008").content.decode()) == ["App 0008"]
    web = _labels(admin.get("/apps/?type=web").content.decode())
    assert web == [f"App {i:04d}" for i in range(0, 60, 4)]
    inactive = _labels(admin.get("/apps/?status=INACTIVE").content.decode())
    assert inactive == [f"App {i:04d}" for i in range(0, 60, 5)]


def test_scope_manage_changed_and_unreadable_filters(admin, db):
    apps = make_apps(12, grants_per_app=1)  # app i holds scopes[i % 10]
    holders = _labels(admin.get("/apps/?scope=okta.users.manage").content.decode())
    assert holders == ["App 0002"]
    manage = set(_labels(admin.get("/apps/?manage=on").content.decode()))
    assert manage == {"App 0002", "App 0004", "App 0005", "App 0009"}
    changed = _labels(admin.get("/apps/?changed=3").content.decode())
    assert changed == ["App 0000", "App 0001", "App 0002"]
    unreadable = _labels(admin.get("/apps/?unreadable=on").content.decode())
    assert unreadable == ["App 0000", "App 0007"]
    OktaApp.objects.filter(pk=apps[3].pk).update(removed_at=timezone.now())
    assert "App 0003" not in _labels(admin.get("/apps/").content.decode())
    assert _labels(admin.get("/apps/?status=removed").content.decode()) == ["App 0003"]


def test_sort_by_grant_counts_and_risk_badges(admin, db):
    apps = make_apps(3, grants_per_app=1)
    now = timezone.now()
    ScopeGrant.objects.bulk_create(
        ScopeGrant(app=apps[1], scope_id=s, first_seen_at=now, last_seen_at=now)
        for s in ("okta.users.manage", "okta.groups.read", "okta.logs.read")
    )
    make_grant(
        apps[1],
        "okta.groups.manage",
        first_seen_at=now - timedelta(days=9),
        revoked_at=now,  # revoked: not counted
    )
    body = admin.get("/apps/?sort=-grants").content.decode()
    assert _labels(body)[0] == "App 0001"
    row = body.split(">App 0001</a>")[1].split("</tr>")[0]
    # 4 grants, the riskiest critical (okta.users.manage); 1 of them manage.
    assert '<td class="num">4</td>' in row
    assert '<td><span class="badge risk-critical">critical risk' in row
    assert '<td class="num">1</td>' in row
    assert _labels(admin.get("/apps/?sort=-label").content.decode())[0] == "App 0002"


def test_an_oidc_app_without_oauth_client_settings_shows_no_type_or_client_id(
    admin, db
):
    """Some of Okta's built-in OIDC apps have no ``oauthClient`` object: no
    application type and no client id. The list says so ("—"), never "Any
    type" (the filter's label for no choice) or a made-up client id."""
    OktaApp.objects.create(
        okta_id="0oa1bareBUILTIN000x7",
        label="Bare Built-in",
        name="okta_access_requests",
        sign_on_mode="OPENID_CONNECT",
        status="ACTIVE",
        grants_state="ok",
    )
    body = admin.get("/apps/").content.decode()
    row = body.split("Bare Built-in</a>")[1].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert cells[:2] == ["—", "—"]
    assert "Any type" not in row
    detail = admin.get("/apps/0oa1bareBUILTIN000x7/").content.decode()
    assert "okta_access_requests" in detail
    assert "no OAuth client settings" in detail


def test_a_read_of_personal_data_is_a_risk_but_not_a_manage_grant(admin, db):
    """okta.users.read reads every user's personal data: the app's risk says
    high, yet it holds no manage scope (not counted, not in the manage filter)."""
    apps = make_apps(2, grants_per_app=0)
    make_grant(apps[0], "okta.users.read")
    body = admin.get("/apps/").content.decode()
    row = body.split(">App 0000</a>")[1].split("</tr>")[0]
    assert '<td class="num">1</td>' in row
    assert '<td><span class="badge risk-high">high risk' in row
    assert '<td class="num">0</td>' in row
    assert _labels(admin.get("/apps/?manage=on").content.decode()) == []
