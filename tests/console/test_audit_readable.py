"""An audit page people can read: app filter by label or id, ISO 8601 times to the
second, intent rows behind a toggle, actions in words, Okta's time of an
out-of-band change, a page per row with its place in the chain, and a clear
message for an inverted date range."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grantsconsole.console import selectors
from grantsconsole.console.forms import AUDIT_APPS_MAX, AuditFilterForm
from grantsconsole.grants import audit, services
from grantsconsole.grants.models import AuditEvent, OktaApp
from tests.console.conftest import web_app
from tests.factories import ORG_ADMIN, SUPER, make_apps
from tests.grants.helpers import tamper


def _rows(body: str) -> str:
    return body.split("<tbody>")[1].split("</tbody>")[0]


def _intent_and_final(app: OktaApp, scope: str = "okta.apps.read") -> None:
    audit.record(
        "revoke_intent",
        actor_login=SUPER.login,
        app=app,
        scope_id=scope,
        outcome="pending",
    )
    audit.record("revoke", actor_login=SUPER.login, app=app, scope_id=scope)


def test_the_app_filter_takes_a_label_or_an_okta_id(admin, db):
    payroll, other = make_apps(2, grants_per_app=0, prefix="Payroll")
    OktaApp.objects.filter(pk=other.pk).update(label="Wiki")
    audit.record("grant", app=payroll, scope_id="okta.users.read")
    other.refresh_from_db()
    audit.record("grant", app=other, scope_id="okta.groups.read")
    # a row written under the app's old label is found by its label of today
    OktaApp.objects.filter(pk=payroll.pk).update(label="Payroll (HR)")
    for query in ("payroll", "(HR)", payroll.okta_id):
        rows = _rows(admin.get("/audit/", {"app": query}).content.decode())
        assert "okta.users.read" in rows, query
        assert "okta.groups.read" not in rows, query
    rows = _rows(admin.get("/audit/", {"app": "no such app"}).content.decode())
    assert "No audit event matches" in rows


def test_the_app_filter_is_served_by_the_app_index(db):
    app = make_apps(1, grants_per_app=0)[0]
    filters = AuditFilterForm({"app": app.label}).to_filters()
    assert filters.app_ids == (app.pk,)
    audit.record("refresh", app=app, actor_login=SUPER.login)
    qs = selectors.audit_events(filters)[:51]
    if connection.vendor == "postgresql":
        # On a one-row table every index costs the same and the planner picks
        # either; give it the statistics of a real trail (20,000 rows of other
        # apps, rolled back with the test) so its choice means something.
        with connection.cursor() as cursor:
            columns = ", ".join(
                f.column
                for f in AuditEvent._meta.concrete_fields
                if f.column not in ("id", "seq", "app_id", "event_key")
            )
            cursor.execute(_FILLER_SQL.format(columns=columns))
            cursor.execute("ANALYZE grants_auditevent")
    assert "grants_audit_app_idx" in qs.explain()


# Copies of the newest row under other app ids and later seqs (the test's own
# transaction; the append-only triggers refuse UPDATE and DELETE, not INSERT).
_FILLER_SQL = """
INSERT INTO grants_auditevent ({columns}, seq, app_id)
SELECT {columns}, e.seq + g, NULL
FROM grants_auditevent e, generate_series(1, 20000) g
WHERE e.seq = (SELECT max(seq) FROM grants_auditevent)
"""


def test_an_app_text_matching_too_many_apps_is_refused_not_slow(admin, db):
    """A label part matching more than AUDIT_APPS_MAX apps would make the
    database sort the rows of all of them: the page says so and does not
    apply it, and the export refuses it rather than export a wider trail."""
    apps = make_apps(AUDIT_APPS_MAX + 1, grants_per_app=0)
    for app in apps:
        audit.record("refresh", app=app, actor_login=SUPER.login)
    body = admin.get("/audit/?app=App").content.decode()
    assert f"matches more than {AUDIT_APPS_MAX} apps" in body
    assert _rows(body).count("<tr") == AUDIT_APPS_MAX + 1  # unfiltered by app
    export = admin.get("/audit/export.csv?app=App")
    assert export.status_code == 400
    assert f"matches more than {AUDIT_APPS_MAX} apps" in export.content.decode()
    # a few apps are fine, and only theirs are kept
    one = AuditFilterForm({"app": apps[0].label}).to_filters()
    assert list(selectors.audit_events(one).values_list("app", flat=True)) == [
        apps[0].pk
    ]


def test_times_are_iso_8601_utc_to_the_second(admin, db):
    audit.record("sign_in", actor_login=SUPER.login)
    row = AuditEvent.objects.get(action="sign_in")
    stamp = row.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    for url in ("/audit/", f"/audit/{row.seq}/"):
        body = admin.get(url).content.decode()
        assert f'<time datetime="{stamp}">{stamp}</time>' in body, url


def test_intent_rows_are_hidden_until_asked_for_and_always_exported(admin, db):
    app = make_apps(1, grants_per_app=0)[0]
    _intent_and_final(app)
    default = _rows(admin.get("/audit/").content.decode())
    assert "Revoked scope" in default
    assert "Revoke requested" not in default
    shown = _rows(admin.get("/audit/?intents=on").content.decode())
    assert "Revoke requested" in shown
    assert "Revoked scope" in shown
    chosen = _rows(admin.get("/audit/?action=revoke_intent").content.decode())
    assert "Revoke requested" in chosen
    exported = b"".join(admin.get("/audit/export.csv").streaming_content).decode()
    actions = [r["action"] for r in csv.DictReader(io.StringIO(exported))]
    assert "revoke_intent" in actions


def test_every_action_has_a_name_in_words(admin, db):
    assert set(audit.ACTION_NAMES) == set(audit.ACTIONS)
    app = make_apps(1, grants_per_app=0)[0]
    audit.record("external_revoke", app=app, scope_id="okta.apps.read")
    rows = _rows(admin.get("/audit/").content.decode())
    assert "<td>Revoked in Okta (out of band)</td>" in rows
    assert "external_revoke" not in rows
    options = admin.get("/audit/").content.decode()
    assert '<option value="grant_intent">Grant requested</option>' in options
    report = services.create_report(trigger="test")  # a report's events too
    changes = admin.get(f"/reports/{report.pk}/").content.decode()
    assert "<td>Revoked in Okta (out of band)</td>" in changes
    assert "<td>external_revoke</td>" not in changes


def test_an_out_of_band_change_shows_when_okta_made_it(
    admin, mirrored, sim, worker_client
):
    app = web_app(sim, without="okta.users.manage")
    sim.oob_grant(app["id"], "okta.users.manage", actor_login=ORG_ADMIN.login)
    services.run_incremental_sync(client=worker_client, trigger="test")
    row = AuditEvent.objects.get(action="external_grant")
    assert row.actor_login == ORG_ADMIN.login
    okta_at = row.detail["changed_at"]  # the System Log event's published time
    published = timezone.datetime.fromisoformat(okta_at)
    stamp = published.strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = _rows(admin.get(f"/audit/?app={app['id']}").content.decode())
    assert f"in Okta {stamp}" in rows
    detail = admin.get(f"/audit/{row.seq}/").content.decode()
    assert f"<dt>When Okta made the change</dt><dd>{stamp}" in detail


def test_a_row_page_shows_every_field_and_its_place_in_the_chain(admin, db):
    app = make_apps(1, grants_per_app=0)[0]
    audit.record("sign_in", actor_login=SUPER.login)
    row = audit.record(
        "grant",
        actor_id="00uSUPER",
        actor_login=SUPER.login,
        app=app,
        scope_id="okta.users.manage",
        okta_request_id="req-<b>1</b>",
        detail={"note": "<script>x</script>"},
        key="k-1",
    )
    body = admin.get(f"/audit/{row.seq}/").content.decode()
    for text in (
        "Granted scope",
        "00uSUPER",
        SUPER.login,
        "req-&lt;b&gt;1&lt;/b&gt;",
        "&lt;script&gt;x&lt;/script&gt;",
        "k-1",
        row.prev_hash,
        row.row_hash,
        row.row_mac,
        f'href="/apps/{app.okta_id}/"',
        'href="/scopes/okta.users.manage/"',
        "This row's hash and MAC match its contents",
        f'Its previous hash is row <a href="/audit/{row.seq - 1}/">',
        "The chain has not been verified yet.",
    ):
        assert text in body, text
    assert "<script>x" not in body
    services.verify_audit_trail(trigger="beat")
    assert "covered this row and found the chain intact" in (
        admin.get(f"/audit/{row.seq}/").content.decode()
    )
    later = audit.record("sign_out", actor_login=SUPER.login)
    assert "Written after the last verification" in (
        admin.get(f"/audit/{later.seq}/").content.decode()
    )
    assert admin.get("/audit/999999/").status_code == 404


def test_a_row_page_shows_a_tampered_row_and_a_gap(admin, db):
    for i in range(3):
        audit.record("sign_in", actor_login=f"a{i}@example.com")
    first = AuditEvent.objects.order_by("seq").first().seq
    tamper(f"UPDATE grants_auditevent SET outcome = 'failure' WHERE seq = {first + 1}")
    body = admin.get(f"/audit/{first + 1}/").content.decode()
    assert "does not match its contents: it was changed after it was written" in body
    tamper(f"DELETE FROM grants_auditevent WHERE seq = {first + 1}")
    body = admin.get(f"/audit/{first + 2}/").content.decode()
    assert f"Row #{first + 1} is missing: the chain has a gap" in body


def test_an_inverted_date_range_is_a_clear_error_not_an_empty_page(admin, db):
    audit.record("sign_in", actor_login=SUPER.login)
    response = admin.get("/audit/?date_from=2026-12-07&date_to=2026-12-01")
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        "“To” (2026-12-01) is before “From” (2026-12-07): swap them. "
        "The dates were not applied."
    ) in body
    assert "Signed in" in _rows(body)  # the rows are shown, not filtered to nothing


def test_audit_pages_cost_the_same_queries_at_any_number_of_rows(admin, db, settings):
    settings.ACCOUNTS_ROLE_RECHECK_SECONDS = 3600
    app = make_apps(1, grants_per_app=0)[0]
    urls = ("/audit/", f"/audit/?app={app.label}&intents=on", "/audit/{seq}/")
    counts = []
    for n in (5, 120):
        for _ in range(n):
            _intent_and_final(app)
            audit.record(
                "external_grant",
                app=app,
                scope_id="okta.apps.read",
                detail={
                    "changed_at": (timezone.now() - timedelta(minutes=1)).isoformat()
                },
            )
        seq = AuditEvent.objects.order_by("-seq").first().seq
        admin.get("/audit/")  # the session's per-minute stamps settle first
        per_page = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert admin.get(url.format(seq=seq)).status_code == 200
            per_page.append(len(ctx.captured_queries))
        counts.append(per_page)
    assert counts[0] == counts[1], counts
