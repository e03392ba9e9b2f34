"""Usage on the app page, on one scope's page and in the revoke confirmations:
last issued, last exercised and the verdict over a window of 30-365 days
(``?window=``), with the coverage they rest on and the scopes an app asked for
and was refused. The evidence rows are made directly (no System Log needed)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole.usage.models import Observation, ScopeUsage
from tests.factories import make_app, make_held_grant

NOW = timezone.now()


def ago(days: float):
    return NOW - timedelta(days=days)


def observed(days: float) -> None:
    Observation.objects.update_or_create(
        name="usage", defaults={"observed_from": ago(days), "observed_to": NOW}
    )


def used(app, scope_id: str, **times) -> ScopeUsage:
    return ScopeUsage.objects.create(
        client_id=app.client_id, scope_id=scope_id, **times
    )


def _text(response, status: int = 200) -> str:
    assert response.status_code == status, response.content[:500]
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def _row(html: str, row_id: str) -> str:
    """The ``<tr id=row_id>`` of a page, as text without tags."""
    match = re.search(rf'<tr id="{re.escape(row_id)}".*?</tr>', html, re.S)
    assert match, row_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


def _holder_row(html: str, okta_id: str) -> str:
    match = re.search(
        rf'<tr>\s*<td><input type="checkbox" name="app" value="{okta_id}".*?</tr>',
        html,
        re.S,
    )
    assert match, okta_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


@pytest.fixture
def app(db):
    app = make_app("0oaUSAGE000000000x7", label="Usage app")
    for scope_id in (
        "okta.users.manage",  # exercised: in use
        "okta.groups.manage",  # issued, never exercised: reducible
        "okta.apps.read",  # issued long ago: unused
        "okta.logs.read",  # issued recently: in use
    ):
        make_held_grant(app, scope_id)
    used(app, "okta.users.manage", last_issued_at=ago(2), last_exercised_at=ago(3))
    used(app, "okta.groups.manage", last_issued_at=ago(1))
    used(app, "okta.apps.read", last_issued_at=ago(120))
    used(app, "okta.logs.read", last_issued_at=ago(10))
    return app


def test_each_held_grant_shows_last_issued_last_exercised_and_its_verdict(admin, app):
    observed(400)
    html = _text(admin.get(f"/apps/{app.okta_id}/"))
    for header in ("Last issued", "Last exercised", "Verdict (90 days)"):
        assert header in html
    users = _row(html, "row-okta.users.manage")
    assert ago(2).strftime("%Y-%m-%d %H:%M") in users
    assert ago(3).strftime("%Y-%m-%d %H:%M") in users
    assert "in use" in users
    assert "Exercised by a logged write." in users
    groups = _row(html, "row-okta.groups.manage")
    assert "reducible" in groups
    assert "okta.groups.read would do" in groups
    assert "never seen" in groups  # never exercised
    apps = _row(html, "row-okta.apps.read")
    assert "unused" in apps
    assert "Not issued in any token in 90 days" in apps
    assert "not logged (a read)" in apps  # reads are never exercised
    assert "in use" in _row(html, "row-okta.logs.read")
    # the reason is also the badge's title
    assert 'class="badge verdict verdict-reducible" title="Issued, but no write' in html
    assert "400 days observed" in html
    assert "Read scopes are judged only by issuance: Okta does not log reads" in html


def test_nothing_is_called_unused_before_the_window_is_observed(admin, app):
    observed(10)
    html = _text(admin.get(f"/apps/{app.okta_id}/"))
    apps = _row(html, "row-okta.apps.read")
    assert "no data yet" in apps
    assert "only 10 of 90 days observed" in apps
    assert "unused" not in apps
    assert "reducible" not in _row(html, "row-okta.groups.manage")
    assert "10 days observed" in html
    assert "No grant is called unused or reducible until the whole window" in html


def test_before_the_system_log_is_read_every_verdict_is_no_data_yet(admin, app):
    html = _text(admin.get(f"/apps/{app.okta_id}/"))
    for scope_id in ("okta.users.manage", "okta.apps.read"):
        assert "no data yet" in _row(html, f"row-{scope_id}")
    assert "0 days observed" in html


@pytest.mark.parametrize(
    ("given", "window"),
    [
        ("30", 30),
        ("365", 365),
        ("180", 180),
        ("5", 30),  # clamped up
        ("-4", 30),
        ("100000", 365),  # clamped down
        ("9" * 5000, 90),  # unreadable: the default
        ("abc", 90),
        ("1e3", 90),
        ("", 90),
        ("12\x00", 90),
    ],
)
def test_the_window_is_clamped_to_30_365_and_bad_input_is_the_default(
    admin, app, given, window
):
    observed(400)
    response = admin.get(f"/apps/{app.okta_id}/", {"window": given})
    html = _text(response)
    assert f"Verdict ({window} days)" in html
    assert f'name="window" value="{window}"' in html


def test_the_window_changes_the_verdict_and_is_kept_by_the_pages_links(admin, app):
    observed(400)
    html = _text(admin.get(f"/apps/{app.okta_id}/?window=180"))
    assert "in use" in _row(html, "row-okta.apps.read")  # issued 120 days ago
    assert "?show=manage&amp;window=180" in html  # the view links keep it
    assert '<input type="hidden" name="window" value="180">' in html  # and the forms
    html = _text(admin.get(f"/apps/{app.okta_id}/?window=30"))
    assert "unused" in _row(html, "row-okta.apps.read")


def test_scopes_requested_and_refused_are_listed_as_requested_not_granted(admin, app):
    observed(400)
    assert 'id="missing-heading"' not in _text(admin.get(f"/apps/{app.okta_id}/"))
    used(app, "okta.roles.manage", last_denied_at=ago(5))  # listed
    used(app, "okta.users.read", last_denied_at=ago(200))  # refused too long ago
    # held: asked for by another token request that named it with others
    ScopeUsage.objects.filter(scope_id="okta.logs.read").update(last_denied_at=ago(1))
    html = _text(admin.get(f"/apps/{app.okta_id}/"))
    section = html.split('id="missing-heading"')[1].split("</section>")[0]
    assert "okta.roles.manage" in section
    assert ago(5).strftime("%Y-%m-%d %H:%M") in section
    # The demand signal opens a grant request prefilled with the app and scope.
    assert (
        f'href="/requests/new?app={app.okta_id}&amp;scope=okta.roles.manage"' in section
    )
    assert "okta.users.read" not in section
    assert "okta.logs.read" not in section
    html = _text(admin.get(f"/apps/{app.okta_id}/?show=all"))
    assert "requested, not granted" in _row(html, "row-okta.roles.manage")
    assert "requested, not granted" not in _row(html, "row-okta.users.read")


def test_scope_ids_from_the_system_log_are_escaped(admin, app):
    observed(400)
    used(app, "okta.<script>alert(1)</script>.manage", last_denied_at=ago(1))
    html = admin.get(f"/apps/{app.okta_id}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "okta.&lt;script&gt;alert(1)&lt;/script&gt;.manage" in html


def test_the_app_page_with_usage_stays_within_its_query_budget(
    admin, app, django_assert_max_num_queries, settings
):
    settings.ACCOUNTS_ROLE_RECHECK_SECONDS = 3600
    observed(400)
    used(app, "okta.roles.manage", last_denied_at=ago(5))
    admin.get(f"/apps/{app.okta_id}/")  # the session's once-a-minute stamps
    for query in ("", "?window=30", "?show=all&pick=1"):
        with django_assert_max_num_queries(8):
            assert admin.get(f"/apps/{app.okta_id}/{query}").status_code == 200


def test_a_write_answered_in_place_keeps_the_usage_columns(admin, app):
    observed(400)
    response = admin.post(
        f"/apps/{app.okta_id}/grants/revoke",
        {"scope": [], "window": "30"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="grant-collection",
    )
    html = _text(response, 400)  # an empty selection: nothing written
    assert "Verdict (30 days)" in html
    assert "unused" in _row(html, "row-okta.apps.read")


# --- one scope's page -----------------------------------------------------------------


def test_the_scope_page_shows_each_holders_usage_of_the_scope(admin, app):
    observed(400)
    other = make_app("0oaUSAGE000000001x7", label="Other app")
    make_held_grant(other, "okta.groups.manage")
    quiet = make_app("0oaUSAGE000000002x7", label="Quiet app")
    make_held_grant(quiet, "okta.groups.manage")
    used(other, "okta.groups.manage", last_issued_at=ago(4), last_exercised_at=ago(6))
    html = _text(admin.get("/scopes/okta.groups.manage/"))
    for header in ("Last issued", "Last exercised", "Verdict (90 days)"):
        assert header in html
    row = _holder_row(html, app.okta_id)
    assert "reducible" in row
    assert ago(1).strftime("%Y-%m-%d %H:%M") in row
    row = _holder_row(html, other.okta_id)
    assert "in use" in row
    assert ago(6).strftime("%Y-%m-%d %H:%M") in row
    row = _holder_row(html, quiet.okta_id)
    assert "unused" in row
    assert "never seen" in row
    assert "400 days observed" in html
    html = _text(admin.get("/scopes/okta.groups.manage/?window=zzz"))
    assert "Verdict (90 days)" in html
    html = _text(admin.get("/scopes/okta.groups.manage/?window=7"))
    assert "Verdict (30 days)" in html


def test_the_scope_page_reads_usage_without_an_extra_query(
    admin, django_assert_max_num_queries, settings
):
    settings.ACCOUNTS_ROLE_RECHECK_SECONDS = 3600
    observed(400)
    for i in range(30):
        holder = make_app(f"0oaUSAGE1{i:09d}x7")
        make_held_grant(holder, "okta.users.manage")
        used(holder, "okta.users.manage", last_issued_at=ago(i))
    admin.get("/scopes/okta.users.manage/")
    with django_assert_max_num_queries(8):
        html = _text(admin.get("/scopes/okta.users.manage/"))
    assert html.count("verdict-reducible") == 30


# --- revoke confirmations ----------------------------------------------------------------


def test_the_revoke_confirmation_shows_the_last_use_it_cuts(admin, app):
    observed(400)
    response = admin.post(
        f"/apps/{app.okta_id}/grants/revoke",
        {"scope": ["okta.users.manage", "okta.apps.read"], "window": "60"},
    )
    html = _text(response)
    assert "Revoke 2 scopes" in html
    users = html.split("<code>okta.users.manage</code>")[1].split("</li>")[0]
    assert ago(2).strftime("%Y-%m-%d %H:%M") in users
    assert ago(3).strftime("%Y-%m-%d %H:%M") in users
    assert "verdict over 60 days" in users
    assert "in use" in users
    apps = html.split("<code>okta.apps.read</code>")[1].split("</li>")[0]
    assert "unused" in apps
    assert "not logged (a read)" in apps
    assert ago(120).strftime("%Y-%m-%d %H:%M") in apps


def test_the_bulk_revoke_confirmation_shows_each_apps_last_use(admin, app):
    observed(400)
    quiet = make_app("0oaUSAGE000000002x7", label="Quiet app")
    make_held_grant(quiet, "okta.groups.manage")
    response = admin.post(
        "/scopes/okta.groups.manage/revoke", {"app": [app.okta_id, quiet.okta_id]}
    )
    html = _text(response)
    usage_app = html.split("<strong>Usage app</strong>")[1].split("</li>")[0]
    assert "reducible" in usage_app
    assert ago(1).strftime("%Y-%m-%d %H:%M") in usage_app
    quiet_app = html.split("<strong>Quiet app</strong>")[1].split("</li>")[0]
    assert "unused" in quiet_app
    assert "issued never seen" in quiet_app
    assert "verdict over 90 days" in quiet_app
