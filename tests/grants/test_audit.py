"""The audit trail: chain, ORM refusal, tamper detection (edit, delete, reorder,
forge, tail truncation, checkpoint edit)."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from grantsconsole.grants import audit
from grantsconsole.grants.models import AuditCheckpoint, AuditEvent, AuditImmutableError
from tests.grants.helpers import tamper as _raw

pytestmark = pytest.mark.django_db


def _fill(n: int = 6) -> list[AuditEvent]:
    return [
        audit.record(
            "grant",
            actor_id=f"00u{i}",
            actor_login=f"admin{i}@example.com",
            scope_id="okta.users.read",
            detail={"i": i, "note": "ünïcode ok"},
        )
        for i in range(n)
    ]


def _verify_fails(capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        call_command("verify_audit")
    assert exc.value.code != 0
    return capsys.readouterr().err


def test_it_chains_rows_and_verifies():
    rows = _fill(4)
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.row_hash for a, b in itertools.pairwise(rows))
    audit.checkpoint()
    result = audit.verify()
    assert result.ok, result.problem
    assert (result.rows, result.checkpoints) == (4, 1)


def test_verify_audit_command_passes_on_a_clean_chain(capsys):
    _fill(3)
    call_command("verify_audit")
    assert "OK" in capsys.readouterr().out


def test_record_with_a_key_is_idempotent():
    first = audit.record("sync", key="run-1")
    again = audit.record("sync", key="run-1")
    assert first.pk == again.pk
    assert AuditEvent.objects.count() == 1


def test_record_refuses_unknown_action():
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit.record("frobnicate")


def test_orm_refuses_update_and_delete():
    row = _fill(1)[0]
    row.outcome = "failure"
    with pytest.raises(AuditImmutableError):
        row.save()
    with pytest.raises(AuditImmutableError):
        row.delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.filter(pk=row.pk).update(outcome="failure")
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.all().delete()
    cp = audit.checkpoint()
    with pytest.raises(AuditImmutableError):
        cp.delete()
    with pytest.raises(AuditImmutableError):
        AuditCheckpoint.objects.all().update(count=0)
    assert audit.verify().ok


def test_edit_is_detected(capsys):
    _fill()
    _raw(
        "UPDATE grants_auditevent SET actor_login = 'someone.else@example.com' WHERE seq = 3"
    )
    err = _verify_fails(capsys)
    assert "seq 3" in err


def test_edit_with_recomputed_hash_is_detected(capsys):
    rows = _fill()
    victim = rows[2]
    victim.outcome = "failure"
    new_hash = audit.compute_hash(victim.prev_hash, victim)
    _raw(
        "UPDATE grants_auditevent SET outcome = 'failure', row_hash = %s WHERE seq = 3",
        [new_hash],
    )
    err = _verify_fails(capsys)
    assert "seq 3" in err


def test_delete_is_detected(capsys):
    _fill()
    _raw("DELETE FROM grants_auditevent WHERE seq = 4")
    err = _verify_fails(capsys)
    assert "seq 5" in err


def test_reorder_is_detected(capsys):
    _fill()
    # Swap the contents of rows 2 and 3 (everything except the primary key).
    _raw("UPDATE grants_auditevent SET seq = 1000 WHERE seq = 2")
    _raw("UPDATE grants_auditevent SET seq = 2 WHERE seq = 3")
    _raw("UPDATE grants_auditevent SET seq = 3 WHERE seq = 1000")
    err = _verify_fails(capsys)
    assert "seq 3" in err


def test_forged_row_is_detected(capsys):
    rows = _fill()
    last = rows[-1]
    forged = AuditEvent(
        seq=last.seq + 1,
        created_at=last.created_at,
        action="revoke",
        actor_login="attacker@example.com",
        scope_id="okta.users.manage",
        outcome="success",
        detail={},
        hash_version=1,
        prev_hash=last.row_hash,
    )
    forged.row_hash = audit.compute_hash(last.row_hash, forged)
    forged.row_mac = "f" * 64
    forged.save()  # an insert, like a forger with write access would do
    err = _verify_fails(capsys)
    assert f"seq {last.seq + 1}" in err


def test_tail_truncation_is_caught_by_checkpoint(capsys):
    _fill()
    audit.checkpoint()
    _raw("DELETE FROM grants_auditevent WHERE seq >= 5")
    err = _verify_fails(capsys)
    assert "checkpoint" in err
    assert "tail" in err


def test_edited_checkpoint_is_detected(capsys):
    _fill()
    audit.checkpoint()
    _raw("UPDATE grants_auditcheckpoint SET count = 3")
    err = _verify_fails(capsys)
    assert "signature" in err


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE grants_auditevent SET outcome = 'failure'",
        "DELETE FROM grants_auditevent",
        "UPDATE grants_auditcheckpoint SET count = 0",
        "DELETE FROM grants_auditcheckpoint",
    ],
)
def test_the_database_itself_refuses_raw_update_and_delete(sql):
    """A2/A-12 on the engine the test runs on (the PostgreSQL run too)."""
    from django.db import DatabaseError, transaction

    _fill(2)
    audit.checkpoint()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.count() == 2
    assert AuditCheckpoint.objects.count() == 1
    assert audit.verify().ok


@pytest.mark.postgres
def test_postgres_triggers_refuse_raw_update_and_delete():
    """On PostgreSQL even raw SQL cannot change or delete audit rows."""
    import os
    import secrets
    import subprocess
    import sys
    from pathlib import Path

    import psycopg

    base = os.environ.get("POSTGRES_TEST_URL")
    assert base, "run it through `make test` (.ci/with-services starts PostgreSQL)"
    name = f"gc_audit_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + f"/{name}"
    env = {**os.environ, "DATABASE_URL": url}
    root = Path(__file__).resolve().parents[2]
    try:
        for args in (
            ["migrate", "--noinput", "-v0"],
            [
                "shell",
                "-c",
                "from grantsconsole.grants import audit; "
                "audit.record('sync'); audit.checkpoint()",
            ],
        ):
            subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=root,
                env=env,
                check=True,
                timeout=120,
            )
        with psycopg.connect(url, autocommit=True) as conn:
            for sql in (
                "UPDATE grants_auditevent SET outcome = 'failure'",
                "DELETE FROM grants_auditevent",
                "UPDATE grants_auditcheckpoint SET count = 0",
            ):
                with pytest.raises(
                    psycopg.errors.InsufficientPrivilege, match="append-only"
                ):
                    conn.execute(sql)
            assert conn.execute(
                "SELECT count(*) FROM grants_auditevent"
            ).fetchone() == (1,)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_wiping_both_tables_is_caught_by_the_off_box_checkpoints(
    settings, tmp_path, capsys
):
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.log")
    _fill(3)
    audit.checkpoint()
    _raw("DELETE FROM grants_auditcheckpoint")
    _raw("DELETE FROM grants_auditevent")
    assert audit.verify().ok  # the database alone cannot tell
    err = _verify_fails(capsys)
    assert "off-box checkpoint on line 1" in err
    assert "removed" in err


def test_checkpoint_lines_from_a_log_drain_are_checked(tmp_path, capsys):
    _fill(4)
    cp = audit.checkpoint()
    drain = tmp_path / "drain.log"
    line = audit.checkpoint_line(cp.count, cp.head_hash, cp.created_at, cp.mac)
    drain.write_text(f"2026-11-29 app[worker.1]: INFO {line}\nunrelated line\n")
    call_command("verify_audit", "--against", str(drain))
    assert "OK: 4 audit rows and 2 checkpoints" in capsys.readouterr().out
    _raw("DELETE FROM grants_auditcheckpoint")
    _raw("DELETE FROM grants_auditevent WHERE seq >= 3")
    with pytest.raises(SystemExit):
        call_command("verify_audit", "--against", str(drain))
    err = capsys.readouterr().err
    assert "off-box checkpoint on line 1" in err
    assert "rows were removed" in err


def test_a_forged_line_is_ignored_and_counted(tmp_path, capsys):
    """A line that looks like a checkpoint but is not signed with the audit key
    proves nothing either way: it is left out, and the command says so."""
    _fill(4)
    cp = audit.checkpoint()
    line = audit.checkpoint_line(cp.count, cp.head_hash, cp.created_at, cp.mac)
    drain = tmp_path / "drain.log"
    drain.write_text(line.replace(f"count={cp.count}", "count=2") + "\n")
    call_command("verify_audit", "--against", str(drain))
    captured = capsys.readouterr()
    assert "OK: 4 audit rows and 1 checkpoints" in captured.out
    assert "ignored 1 line(s) that look like checkpoints" in captured.err
    assert audit.verify([line, line.replace("count=4", "count=9")]).ignored == 1


def test_a_line_planted_by_an_anonymous_request_cannot_hide_removed_rows(
    caplog, tmp_path, capsys
):
    """A request for a missing page logs its path ("Not Found: /..."), so anyone
    can put checkpoint-looking text into the log drain. Only lines signed with
    the audit key count: the planted one is ignored, and the real "rows were
    removed" result is reported."""
    _fill(5)
    genesis = audit.GENESIS_HASH
    planted = (
        f"/x/audit checkpoint count=0 head={genesis} "
        f"at=2026-01-01T00:00:00.000000+00:00 mac={'b' * 64}"
    )
    assert Client().get(planted).status_code == 404
    audit.checkpoint()  # the worker's genuine line, after the planted one
    drain = tmp_path / "drain.log"
    drain.write_text("\n".join(r.getMessage() for r in caplog.records) + "\n")
    assert f"Not Found: {planted}" in drain.read_text()  # it did land in the log
    _raw("DELETE FROM grants_auditcheckpoint")
    _raw("DELETE FROM grants_auditevent")
    with pytest.raises(SystemExit):
        call_command("verify_audit", "--against", str(drain))
    err = capsys.readouterr().err
    assert "signed for 5 rows but the chain has 0; rows were removed" in err
    assert "ignored 1 line(s)" in err


def test_a_tail_check_starts_at_the_newest_checkpoint():
    _fill(4)
    audit.checkpoint()
    _fill(2)
    result = audit.verify(tail=True)
    assert result.ok, result.problem
    assert (result.first_seq, result.rows, result.head_seq) == (5, 2, 6)
    assert result.head == AuditEvent.objects.get(seq=6).row_hash
    _raw("UPDATE grants_auditevent SET outcome = 'failure' WHERE seq = 6")
    problem = audit.verify(tail=True).problem
    assert (problem.where, problem.ident, problem.kind) == ("row", 6, "edited")


def test_a_tail_check_catches_rows_cut_below_the_newest_checkpoint():
    _fill(6)
    audit.checkpoint()
    _raw("DELETE FROM grants_auditevent WHERE seq >= 4")
    problem = audit.verify(tail=True).problem
    assert (problem.where, problem.kind) == ("checkpoint", "truncated")


def test_verify_audit_fails_when_the_append_only_triggers_are_gone(capsys):
    """A migration that rebuilds an audit table on SQLite drops its triggers
    silently; verify_audit says so (PostgreSQL: a dropped trigger likewise)."""
    _fill(1)
    call_command("verify_audit")  # clean: rows verify, triggers present
    table = "grants_auditevent"
    drop = (
        f"DROP TRIGGER {table}_append_only ON {table}"
        if connection.vendor == "postgresql"
        else f"DROP TRIGGER {table}_append_only_delete"
    )
    with connection.cursor() as cursor:
        cursor.execute(drop)
    err = _verify_fails(capsys)
    assert "append-only triggers are missing" in err
