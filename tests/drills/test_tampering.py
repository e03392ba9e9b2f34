"""Tampering with the audit trail from outside the application: another client
of the database (SQLite file or PostgreSQL) edits, deletes, reorders, forges and
truncates rows with raw SQL; the real ``manage.py verify_audit`` must catch
each. Before that, several processes append at once (A-13) and the chain must
stay linear. On PostgreSQL the database itself refuses UPDATE and DELETE.

These run against a database of their own (from ``process_dbs``), so a tamperer's
connection is a separate process-level client, as an attacker's would be.
"""

from __future__ import annotations

import json

import pytest

from grantsconsole.grants import append_only
from tests.drills.procs import Database, on_postgres

WRITERS, ROWS_EACH = 4, 40

APPEND = (
    "from grantsconsole.grants import audit\n"
    "for i in range({n}):\n"
    "    audit.record('sync', actor_login='writer-{w}', detail={{'i': i, 'w': {w}}})\n"
    "    if i % 25 == 0: audit.checkpoint()\n"
)


def _raw(db: Database, *statements: str) -> None:
    """Run statements as a database owner would (PostgreSQL: triggers off)."""
    if db.path is not None:
        import sqlite3

        conn = sqlite3.connect(db.path, isolation_level=None)
        conn.create_function(append_only.FUNCTION, 0, lambda: 0)  # guard off
        for sql in statements:
            conn.execute(sql)
        conn.close()
        return
    import psycopg

    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # triggers off
        for sql in statements:
            conn.execute(sql)


TAMPER = {
    "edit-a-field": [
        "UPDATE grants_auditevent SET actor_login = 'someone@example.com' "
        "WHERE seq = 40"
    ],
    "delete-a-middle-row": ["DELETE FROM grants_auditevent WHERE seq = 41"],
    "swap-two-rows": [
        "UPDATE grants_auditevent SET seq = 100000 WHERE seq = 42",
        "UPDATE grants_auditevent SET seq = 42 WHERE seq = 43",
        "UPDATE grants_auditevent SET seq = 43 WHERE seq = 100000",
    ],
    "forge-a-row-with-copied-hashes": [
        # The forger copies a real row's hash and MAC onto a new tail row.
        "INSERT INTO grants_auditevent (seq, created_at, action, actor_id, "
        "actor_login, app_okta_id, scope_id, outcome, okta_request_id, detail, "
        "hash_version, prev_hash, row_hash, row_mac, event_key, app_label) "
        "SELECT (SELECT MAX(seq) + 1 FROM grants_auditevent), created_at, 'grant', "
        "actor_id, 'attacker@example.com', app_okta_id, 'okta.users.manage', "
        "'success', okta_request_id, detail, hash_version, "
        "(SELECT row_hash FROM grants_auditevent ORDER BY seq DESC LIMIT 1), "
        "row_hash, row_mac, NULL, app_label FROM grants_auditevent WHERE seq = 10"
    ],
    "truncate-the-tail": [
        "DELETE FROM grants_auditevent WHERE seq > "
        "(SELECT MAX(seq) - 5 FROM grants_auditevent)"
    ],
    "edit-a-checkpoint": [
        "UPDATE grants_auditcheckpoint SET count = count - 1 "
        "WHERE id = (SELECT MAX(id) FROM grants_auditcheckpoint)"
    ],
}


@pytest.fixture(scope="module")
def chain(process_dbs):
    """WRITERS processes append ROWS_EACH audit rows each, at the same time."""
    shared_db = process_dbs.new()
    procs = [
        shared_db.manage_async("shell", "-c", APPEND.format(n=ROWS_EACH, w=w))
        for w in range(WRITERS)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-2000:]
    checkpoint = shared_db.manage("verify_audit", "--checkpoint")
    assert checkpoint.returncode == 0, checkpoint.stdout + checkpoint.stderr
    yield shared_db
    shared_db.drop()


@pytest.mark.design("A-13", "A-11")
def test_concurrent_writers_then_every_tampering_is_caught(chain, ledger):
    # one linear chain, nothing lost, nothing forked.
    seqs = [r[0] for r in chain.query("SELECT seq FROM grants_auditevent ORDER BY seq")]
    assert seqs == list(range(1, WRITERS * ROWS_EACH + 1))
    written = chain.query("SELECT actor_login, detail FROM grants_auditevent")
    assert ledger.audit(
        [(f"writer-{w}", i) for w in range(WRITERS) for i in range(ROWS_EACH)],
        [
            (login, (json.loads(d) if isinstance(d, str) else d)["i"])
            for login, d in written
        ],
    ) == (0, 0)

    # each tampering in its own copy; verify_audit runs on all at once.
    copies = {name: chain.clone(name.replace("-", "_")) for name in TAMPER}
    try:
        for name, statements in TAMPER.items():
            _raw(copies[name], *statements)
        runs = {name: db.manage_async("verify_audit") for name, db in copies.items()}
        for name, proc in runs.items():
            out, err = proc.communicate(timeout=120)
            assert proc.returncode != 0, (name, out, err)
            assert "FAILED" in err, (name, err)
    finally:
        for db in copies.values():
            db.drop()
    # The untouched original still verifies.
    assert chain.manage("verify_audit").returncode == 0


@pytest.mark.design("A-12")
def test_the_database_refuses_or_exposes_raw_updates_and_deletes(chain):
    """PostgreSQL: UPDATE and DELETE on the audit tables are refused by the
    database for any client. SQLite has no such trigger (see findings F-5);
    there a raw change is at least caught by verify_audit."""
    statements = [
        "UPDATE grants_auditevent SET outcome = 'failure' WHERE seq = 5",
        "DELETE FROM grants_auditevent WHERE seq = 6",
        "UPDATE grants_auditcheckpoint SET count = 0",
        "DELETE FROM grants_auditcheckpoint",
    ]
    if on_postgres():
        import psycopg

        for sql in statements:
            with (
                psycopg.connect(chain.url, autocommit=True) as conn,
                pytest.raises(psycopg.errors.InsufficientPrivilege),
            ):
                conn.execute(sql)
        assert chain.manage("verify_audit").returncode == 0
    else:
        copy = chain.clone("raw")
        try:
            _raw(copy, statements[0])
            done = copy.manage("verify_audit")
            assert done.returncode != 0
            assert "seq 5" in done.stderr
        finally:
            copy.drop()


@pytest.mark.design("A-11", "A-12")
def test_wiping_the_whole_audit_trail_is_refused_or_detected(shared_db, tmp_path):
    """A-11 (e) / A1: checkpoints also live outside the database (the log drain,
    AUDIT_CHECKPOINT_FILE). Wiping both audit tables (PostgreSQL TRUNCATE, which
    the row triggers do not see; SQLite DELETE) must be refused, or caught by
    verify_audit against the outside copies."""
    kept = tmp_path / "checkpoints.log"
    script = (
        "from grantsconsole.grants import audit\n"
        "[audit.record('sync', detail={'i': i}) for i in range(5)]\n"
        "audit.checkpoint()\n"
    )
    wrote = shared_db.manage("shell", "-c", script, AUDIT_CHECKPOINT_FILE=str(kept))
    assert wrote.returncode == 0, wrote.stderr
    drain = tmp_path / "drain.log"  # the process's log output, as a drain keeps it
    drain.write_text(wrote.stdout + wrote.stderr)
    wipe = (
        "TRUNCATE grants_auditevent, grants_auditcheckpoint"
        if on_postgres()
        else "DELETE FROM grants_auditcheckpoint"
    )
    try:
        shared_db.query(wipe)
        if not on_postgres():
            shared_db.query("DELETE FROM grants_auditevent")
    except Exception as exc:
        refused = str(exc)
    else:
        refused = ""
    if refused:
        # SQLite from outside the console: the guard function is not defined.
        assert "append-only" in refused or append_only.FUNCTION in refused
        return
    configured = shared_db.manage("verify_audit", AUDIT_CHECKPOINT_FILE=str(kept))
    assert configured.returncode != 0, configured.stdout
    against = shared_db.manage("verify_audit", "--against", str(drain))
    assert against.returncode != 0, against.stdout
    # The daily report checks the trail before signing: no checkpoint over it.
    report = shared_db.manage("audit_report", AUDIT_CHECKPOINT_FILE=str(kept))
    assert report.returncode == 0, report.stderr
    assert "audit checkpoint not signed" in report.stdout + report.stderr
    assert shared_db.query("SELECT count(*) FROM grants_auditcheckpoint") == [(0,)]
    assert kept.read_text().count("audit checkpoint") == 1


@pytest.mark.design("A-12")
def test_another_client_of_the_database_cannot_change_audit_rows(shared_db):
    """A2/A-12: "a trigger that aborts UPDATE and DELETE, which also works on
    SQLite": a client other than the console (psql, the sqlite3 shell) is
    refused and the chain is untouched."""
    script = "from grantsconsole.grants import audit; audit.record('sync'); audit.checkpoint()"
    done = shared_db.manage("shell", "-c", script)
    assert done.returncode == 0, done.stderr
    for sql in (
        "UPDATE grants_auditevent SET outcome = 'failure'",
        "DELETE FROM grants_auditevent WHERE seq = 1",
        "UPDATE grants_auditcheckpoint SET count = 0",
        "DELETE FROM grants_auditcheckpoint",
    ):
        # psycopg: the trigger's message; sqlite3: the guard function is missing.
        with pytest.raises(Exception, match=f"append-only|{append_only.FUNCTION}"):
            shared_db.query(sql)
    assert shared_db.query("SELECT outcome FROM grants_auditevent") == [("success",)]
    assert shared_db.query("SELECT count(*) FROM grants_auditcheckpoint") == [(1,)]
    assert shared_db.manage("verify_audit").returncode == 0
