"""People, not ids: every page and export that shows an Okta user id shows the
person's display name and login too, the id on hover (and in its own export
column), a deleted user as such, and an id the worker could not read with a
note, never an error."""

from __future__ import annotations

import csv
import html
import io

import pytest
from django.utils import timezone

from grantsconsole.grants import services
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import OktaPerson
from tests.factories import (
    APP_ADMIN,
    ORG_ADMIN,
    READ_ONLY,
    SUPER,
    make_app,
    make_grant,
    make_sync_run,
    record_action,
)

pytestmark = pytest.mark.django_db

GONE = "00u1deletedUSER00000"
HIDDEN = "00u1unreadableUSER00"
NEW = "00u1notyetnamed00000"
NAMELESS = "00u1deletedNONAME000"
NAMES = {
    SUPER: "Sam Super",
    APP_ADMIN: "Ada <b>Apps</b>",
    ORG_ADMIN: "Oren Org",
    READ_ONLY: "Rita Reader",
}


def shown(person) -> str:
    """How a named person appears in a page (escaped, id on hover)."""
    return (
        f'<abbr class="person" title="Okta user id {person.okta_id}">'
        f"{html.escape(NAMES[person], quote=False)} ({person.login})</abbr>"
    )


@pytest.fixture
def directory():
    now = timezone.now()
    for persona, name in NAMES.items():
        OktaPerson.objects.create(
            okta_id=persona.okta_id,
            login=persona.login,
            display_name=name,
            source="okta",
            refreshed_at=now,
        )
    OktaPerson.objects.create(
        okta_id=GONE, login="gone@example.com", state="deleted", refreshed_at=now
    )
    OktaPerson.objects.create(okta_id=HIDDEN, state="unreadable", refreshed_at=now)
    OktaPerson.objects.create(okta_id=NAMELESS, state="deleted", refreshed_at=now)


@pytest.fixture
def app(directory):
    """An app whose grants were made by people the console knows only by id
    (Okta's createdBy), revoked by one, and whose history names them."""
    app = make_app(label="Payroll")
    make_grant(app, "okta.users.manage", by=APP_ADMIN)
    make_grant(app, "okta.groups.read", created_by_id=GONE)
    make_grant(app, "okta.logs.read", created_by_id=HIDDEN)
    make_grant(app, "okta.apps.read", created_by_id=NEW)
    make_grant(app, "okta.policies.read", created_by_id=NAMELESS)
    make_grant(
        app,
        "okta.roles.read",
        by=ORG_ADMIN,
        revoked_at=timezone.now(),
        revoked_by=READ_ONLY.okta_id,
    )
    return app


def test_app_page_names_grant_creators_and_history(admin, app):
    page = admin.get(f"/apps/{app.okta_id}/").content.decode()
    grants, history = page.split('id="app-history"')
    assert shown(APP_ADMIN) in grants
    assert shown(APP_ADMIN) in history
    assert f"by {shown(READ_ONLY)}" in history  # the revoke, stored as an id
    assert "<b>Apps</b>" not in page  # a display name is text, never markup
    # A deleted user says so; ids the worker could not name show with a note.
    assert (
        f'<abbr class="person" title="Okta user id {GONE}">gone@example.com</abbr> '
        '<span class="muted">(deleted user)</span>'
    ) in page
    assert (
        f'<span class="person mono" title="Okta user id">{HIDDEN}</span> '
        '<span class="muted">(no name: the worker may not read users '
        "(okta.users.read))</span>"
    ) in page
    assert f'{NEW}</span> <span class="muted">(name not known yet)</span>' in page
    assert f'{NAMELESS}</span> <span class="muted">(deleted user)</span>' in page


def test_scope_page_names_who_granted(admin, app):
    page = admin.get("/scopes/okta.users.manage/").content.decode()
    assert shown(APP_ADMIN) in page


def test_sync_pages_name_who_started_a_run(admin, directory):
    run = make_sync_run(trigger="console", requested_by=ORG_ADMIN.login)
    for url in ("/sync/", "/sync/progress", f"/sync/{run.pk}/"):
        assert shown(ORG_ADMIN) in admin.get(url).content.decode(), url


def test_audit_page_names_actors_kept_only_by_id(admin, app):
    record_action("external_grant", by=Actor(APP_ADMIN.okta_id, ""), app=app)
    record_action("grant", by=SUPER, app=app, scope_id="okta.apps.read")
    page = admin.get("/audit/").content.decode()
    assert shown(APP_ADMIN) in page
    assert shown(SUPER) in page


def test_audit_row_page_names_an_actor_kept_only_by_id(admin, app):
    event = record_action("external_grant", by=Actor(APP_ADMIN.okta_id, ""), app=app)
    page = admin.get(f"/audit/{event.seq}/").content.decode()
    assert f"<dt>Actor</dt><dd>{shown(APP_ADMIN)}</dd>" in page


def test_audit_verification_names_who_asked(admin, directory):
    services.request_verification(SUPER.login)
    assert shown(SUPER) in admin.get("/audit/").content.decode()


def test_audit_exports_add_the_actor_login_and_name(admin, app):
    record_action("external_grant", by=Actor(APP_ADMIN.okta_id, ""), app=app)
    record_action("external_grant", by=Actor("", "worker"), app=app)
    text = b"".join(admin.get("/audit/export.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    by_id = next(r for r in rows if r["actor_id"] == APP_ADMIN.okta_id)
    assert (by_id["actor_login"], by_id["person_login"], by_id["person_name"]) == (
        "",
        APP_ADMIN.login,
        NAMES[APP_ADMIN],
    )
    worker = next(r for r in rows if r["actor_login"] == "worker")
    assert (worker["person_login"], worker["person_name"]) == ("", "")
    content = b"".join(admin.get("/audit/export.json").streaming_content)
    assert f'"person_name": "{NAMES[APP_ADMIN]}"'.encode() in content


@pytest.fixture
def report(app):
    record_action(
        "external_revoke",
        by=Actor(READ_ONLY.okta_id, ""),
        app=app,
        scope_id="okta.roles.read",
    )
    return services.create_report()


def test_report_page_names_holders_and_actors(admin, report):
    page = admin.get(f"/reports/{report.pk}/").content.decode()
    assert f"by {shown(APP_ADMIN)}" in page  # critical holder, granted by an id
    assert shown(READ_ONLY) in page  # a change made by an id


def test_report_csv_actor_login_is_a_login_never_an_id(report):
    rows = list(csv.DictReader(io.StringIO(services.report_as_csv(report))))
    holder = next(
        r
        for r in rows
        if r["section"] == "critical_holder" and r["scope_id"] == "okta.users.manage"
    )
    assert (holder["actor_login"], holder["actor_id"], holder["actor_name"]) == (
        APP_ADMIN.login,
        APP_ADMIN.okta_id,
        NAMES[APP_ADMIN],
    )
    change = next(r for r in rows if r["section"] == "change")
    assert (change["actor_login"], change["actor_id"], change["actor_name"]) == (
        READ_ONLY.login,
        READ_ONLY.okta_id,
        NAMES[READ_ONLY],
    )
    assert not any(r["actor_login"].startswith("00u") for r in rows)


def test_report_csv_leaves_the_login_empty_for_an_id_nobody_named(app):
    OktaPerson.objects.all().delete()
    rows = list(
        csv.DictReader(io.StringIO(services.report_as_csv(services.create_report())))
    )
    holder = next(r for r in rows if r["section"] == "critical_holder")
    assert (holder["actor_login"], holder["actor_id"]) == ("", APP_ADMIN.okta_id)


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200, url
    return len(queries)


def test_names_cost_one_query_per_page_whatever_the_number_of_people(admin):
    """Each page reads the people it shows in one query: as many queries with
    three people as with thirty (the pages' budget: tests/console/test_queries.py)."""
    app = make_app()
    counts = []
    for n in (3, 30):
        for i in range(n):
            okta_id = f"00u1person{n:02d}{i:06d}"
            login = f"p{n}.{i}@example.com"
            OktaPerson.objects.create(
                okta_id=okta_id,
                login=login,
                display_name=f"Person {i}",
                refreshed_at=timezone.now(),
            )
            record_action("external_grant", by=Actor(okta_id, ""), app=app)
            make_grant(app, f"okta.scope{n}x{i}.read", created_by_id=okta_id)
            make_sync_run(trigger="console", requested_by=login)
        report = services.create_report()
        counts.append(
            [
                _queries(admin, url)
                for url in (
                    "/audit/",
                    f"/apps/{app.okta_id}/",
                    "/sync/",
                    f"/reports/{report.pk}/",
                )
            ]
        )
    assert counts[0] == counts[1]
