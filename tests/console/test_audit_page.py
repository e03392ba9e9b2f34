"""The audit page: filters, keyset pagination (no COUNT), streaming exports,
and the chain's last verification."""

from __future__ import annotations

import csv
import io
import json
import re

from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from grantsconsole.grants import audit
from tests.factories import SUPER
from tests.grants.csv_checks import assert_every_cell_quoted, formula_cells
from tests.grants.helpers import tamper


def _events(n: int) -> None:
    for i in range(n):
        audit.record(
            "grant" if i % 2 else "external_revoke",
            actor_login=f"admin{i % 3}@example.com",
            scope_id="okta.users.manage" if i % 4 == 0 else "okta.apps.read",
            detail={"i": i},
        )


def _seq_cell(seq: int) -> str:
    return f'aria-label="Row {seq} in full">{seq}</a></td>'


def test_keyset_pages_without_counting(admin, db):
    _events(120)
    with CaptureQueriesContext(connection) as ctx:
        first = admin.get("/audit/")
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    # Only the nav's governance counts (requests waiting, grants past their end
    # time) count anything, in the page-status query; never the audit rows.
    counted = re.findall(r'COUNT\([^)]*\)[^()]*? FROM "(\w+)"', sql)
    assert len(counted) == sql.upper().count("COUNT(")
    assert "grants_auditevent" not in counted
    body = first.content.decode()
    newest = audit.AuditEvent.objects.order_by("-seq").first().seq
    assert _seq_cell(newest) in body
    assert "before=" in body
    older = admin.get(f"/audit/?before={newest - 49}").content.decode()
    assert _seq_cell(newest - 50) in older
    assert _seq_cell(newest) not in older


def test_filters_by_action_actor_scope_and_external(admin, db):
    _events(20)
    body = admin.get("/audit/?external=on&actor=admin0@example.com").content.decode()
    rows = body.split("<tbody>")[1].split("</tbody>")[0]
    assert "Revoked in Okta (out of band)" in rows
    assert "Granted scope" not in rows
    assert "admin1@example.com" not in rows
    scoped = admin.get("/audit/?scope=okta.users.manage").content.decode()
    assert "okta.apps.read" not in scoped.split("<tbody>")[1]


def test_filter_labels_read_as_the_other_pages_do(admin, db):
    """Labels without Django's trailing colon (a tick box's label after it)."""
    body = admin.get("/audit/").content.decode()
    assert '<label for="id_app">App (label or Okta id)</label>' in body
    assert 'id="id_intents"><label for="id_intents">Show intent rows</label>' in body
    assert ":</label>" not in body


def test_csv_and_json_exports_stream_every_matching_row(admin, db):
    _events(30)
    response = admin.get("/audit/export.csv?action=grant")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    )
    assert len(rows) == audit.AuditEvent.objects.filter(action="grant").count()
    assert {r["action"] for r in rows} == {"grant"}
    response = admin.get("/audit/export.json")
    data = json.loads(b"".join(response.streaming_content))
    assert len(data) == audit.AuditEvent.objects.count()
    assert data[0]["seq"] > data[-1]["seq"]


def test_csv_export_neutralises_formulas(admin, db):
    """Whether split on commas or semicolons, no cell starts a formula, also after
    a ';' inside a cell; every cell is quoted."""
    audit.record(
        "grant",
        actor_login='=HYPERLINK("http://evil")',
        actor_id='00u1;=HYPERLINK("http://evil")',
        scope_id="okta.apps.read",
        detail={"error": "x;@SUM(A1)"},
    )
    response = admin.get("/audit/export.csv")
    text = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK" in text
    assert formula_cells(text) == []
    assert_every_cell_quoted(text)


def test_last_verification_is_shown(admin, db):
    from grantsconsole.grants import services

    _events(3)
    body = admin.get("/audit/").content.decode()
    assert "no check has run yet" in body
    audit.checkpoint()
    body = admin.get("/audit/").content.decode()
    assert "no check has run yet" in body  # a checkpoint is not a verification
    rows = audit.AuditEvent.objects.count()  # includes the sign-in row
    assert f"Newest signed checkpoint: {rows} rows" in body
    services.verify_audit_trail(trigger="beat")
    body = admin.get("/audit/").content.decode()
    assert f"intact — {rows} rows" in body
    assert "1 checkpoint checked" in body
    assert "run by the worker (beat)" in body
    tamper("UPDATE grants_auditevent SET outcome = 'failure' WHERE seq = 2")
    services.verify_audit_trail(trigger="beat")
    body = admin.get("/audit/").content.decode()
    assert "FAILED" in body
    assert "First break: audit row seq 2: row_hash does not match" in body


def test_verify_now_records_who_pressed_it_and_queues_the_check(
    admin, db, monkeypatch, django_capture_on_commit_callbacks
):
    from grantsconsole.grants import tasks
    from grantsconsole.grants.models import AuditVerification

    queued: list[dict] = []
    monkeypatch.setattr(tasks.verify_audit, "delay", lambda **kw: queued.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/audit/verify")
    assert response.status_code == 302
    press = AuditVerification.objects.get()
    assert (press.status, press.trigger, press.requested_by) == (
        "queued",
        "console",
        SUPER.login,
    )
    assert queued == [{"trigger": "console", "queued_id": press.pk}]
    assert (
        f"A check requested by {SUPER.login}" in admin.get("/audit/").content.decode()
    )
    tasks.verify_audit(**queued[0])  # what the worker then runs
    body = admin.get("/audit/").content.decode()
    assert f"requested by {SUPER.login}" in body
    assert "intact" in body


def test_a_failed_verification_puts_a_banner_on_every_page(admin, db):
    from grantsconsole.grants import services

    _events(3)
    assert 'id="audit-broken"' not in admin.get("/apps/").content.decode()
    tamper("DELETE FROM grants_auditevent WHERE seq = 2")
    services.verify_audit_trail(trigger="beat")
    for url in ("/apps/", "/scopes/", "/audit/", "/sync/", "/reports/"):
        body = admin.get(url).content.decode()
        assert 'id="audit-broken"' in body, url
        assert "audit row seq 3: expected seq 2 next" in body, url
    _events(1)
    services.checkpoint_verified(trigger="command")  # a passing tail check ...
    assert 'id="audit-broken"' in admin.get("/apps/").content.decode()  # ... keeps it


def test_a_bad_field_drops_only_itself_not_the_other_filters(admin, db):
    _events(10)
    body = admin.get("/audit/?action=grant&before=notanumber").content.decode()
    rows = body.split("<tbody>")[1].split("</tbody>")[0]
    assert "Revoked in Okta (out of band)" not in rows
    assert "Granted scope" in rows


def test_a_page_past_the_end_goes_back_to_page_one(admin, db):
    response = admin.get("/apps/?page=999&q=x")
    assert response.status_code == 302
    assert response["Location"] == "/apps/?q=x"


def test_verify_now_needs_a_super_admin(admin, sim, db):
    from grantsconsole.grants.models import AuditVerification

    sim.set_roles(SUPER.login, ["READ_ONLY_ADMIN"])  # writes always re-check
    assert admin.post("/audit/verify").status_code == 403
    assert not AuditVerification.objects.exists()
