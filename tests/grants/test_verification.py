"""Audit trail verification by the worker: stored results, alerts on a break, the
off-database checkpoint copy, and no checkpoint signed over a failing trail."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.core.management import call_command

from grantsconsole import celery_app
from grantsconsole.grants import audit, services, tasks
from grantsconsole.grants.models import AuditCheckpoint, AuditEvent, AuditVerification
from tests.factories import SUPER
from tests.grants.helpers import tamper

pytestmark = pytest.mark.django_db


def _fill(n: int) -> None:
    for i in range(n):
        audit.record("sync", detail={"i": i})


@pytest.fixture
def checkpoint_file(settings, tmp_path):
    path = tmp_path / "checkpoints.log"
    settings.AUDIT_CHECKPOINT_FILE = str(path)
    return path


def _wipe() -> None:
    tamper("DELETE FROM grants_auditcheckpoint")
    tamper("DELETE FROM grants_auditevent")


def test_the_daily_task_verifies_the_whole_chain_and_stores_the_result():
    _fill(5)
    audit.checkpoint()
    row = AuditVerification.objects.get(pk=tasks.verify_audit())
    assert (row.status, row.scope, row.trigger) == ("ok", "full", "beat")
    assert (row.rows, row.first_seq, row.checkpoints) == (5, 1, 1)
    assert row.started_at is not None
    assert row.duration_ms is not None
    assert row.problem == ""


def test_the_beat_runs_the_verification_daily(settings):
    celery_app.loader.import_default_modules()
    entry = celery_app.conf.beat_schedule["grants-audit-verify"]
    assert entry["task"] == "grants.verify_audit"
    assert entry["schedule"].hour == {settings.AUDIT_REPORT_HOUR}


def test_a_break_is_stored_logged_at_error_and_emailed(settings, caplog):
    settings.ALERT_EMAILS = ["security@example.com", "oncall@example.com"]
    _fill(5)
    tamper("UPDATE grants_auditevent SET outcome = 'failure' WHERE seq = 3")
    with caplog.at_level(logging.ERROR, logger="grantsconsole.audit"):
        row = services.verify_audit_trail(trigger="beat")
    assert row.status == "failed"
    assert (row.problem_where, row.problem_ident, row.problem_kind) == (
        "row",
        3,
        "edited",
    )
    assert row.rows == 3
    assert "audit row seq 3" in row.problem
    assert any(
        r.levelno == logging.ERROR and "audit row seq 3" in r.getMessage()
        for r in caplog.records
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["security@example.com", "oncall@example.com"]
    assert "audit row seq 3" in mail.outbox[0].body


def test_a_wiped_trail_is_caught_against_the_checkpoint_file(checkpoint_file):
    _fill(5)
    audit.checkpoint()
    _wipe()
    assert audit.verify().ok  # the database alone cannot tell
    row = services.verify_audit_trail()
    assert row.status == "failed"
    assert (row.problem_where, row.problem_ident, row.problem_kind) == (
        "external",
        1,
        "truncated",
    )
    assert "signed for 5 rows but the chain has 0" in row.problem


def test_the_daily_report_never_signs_a_checkpoint_over_a_failing_trail(
    checkpoint_file, capsys
):
    _fill(5)
    audit.checkpoint()
    _wipe()
    services.create_report(trigger="beat")
    assert AuditCheckpoint.objects.count() == 0
    assert len(checkpoint_file.read_text().splitlines()) == 1
    check = AuditVerification.objects.get()
    assert (check.scope, check.status, check.problem_kind) == (
        "tail",
        "failed",
        "truncated",
    )
    with pytest.raises(SystemExit):
        call_command("verify_audit")
    assert "rows were removed" in capsys.readouterr().err


def test_no_checkpoint_while_the_last_whole_chain_check_failed():
    _fill(3)
    audit.checkpoint()
    tamper("UPDATE grants_auditevent SET outcome = 'failure' WHERE seq = 2")
    assert services.verify_audit_trail().status == "failed"
    _fill(2)  # the tail after the checkpoint is fine; the break is older
    assert services.checkpoint_verified(trigger="report-beat") is None
    assert AuditCheckpoint.objects.count() == 1


def test_the_daily_report_checks_the_tail_and_signs_the_verified_head():
    _fill(3)
    audit.checkpoint()
    _fill(2)
    services.create_report(trigger="beat")
    check = AuditVerification.objects.get()
    assert (check.scope, check.status, check.trigger) == ("tail", "ok", "report-beat")
    assert (check.first_seq, check.rows) == (4, 2)
    newest = AuditCheckpoint.objects.order_by("-id").first()
    assert newest.count == 5
    assert newest.head_hash == AuditEvent.objects.get(seq=5).row_hash
    assert audit.verify().ok


def test_a_queued_press_is_run_once():
    _fill(2)
    queued = services.request_verification(SUPER.login)
    assert queued.ok is None
    done = services.verify_audit_trail(trigger="console", queued_id=queued.pk)
    assert done.pk == queued.pk
    assert (done.status, done.requested_by, done.rows) == (
        "ok",
        SUPER.login,
        2,
    )
    again = services.verify_audit_trail(trigger="console", queued_id=queued.pk)
    assert again.started_at == done.started_at  # a redelivered task repeats nothing


def test_verify_audit_command_stores_its_result(capsys):
    _fill(2)
    call_command("verify_audit")
    row = AuditVerification.objects.get()
    assert (row.trigger, row.status, row.rows) == ("command", "ok", 2)
