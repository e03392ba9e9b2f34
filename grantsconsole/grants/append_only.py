"""The audit tables refuse UPDATE and DELETE on SQLite too (design A2/A-12).

PostgreSQL has row triggers (migration 0002). SQLite has triggers as well
(migration 0003), which abort an UPDATE or DELETE on ``grants_auditevent`` and
``grants_auditcheckpoint`` when the SQL function ``audit_rows_are_append_only()``
answers 1. The console's own connections define it (see :func:`install`): it
answers 1, except inside :func:`suspended` (Django's test flush, which empties
tables with DELETE on SQLite). Any other client of the database file (the
``sqlite3`` shell, a script) lacks the function, so its UPDATE or DELETE fails
with "no such function: audit_rows_are_append_only".

Like a PostgreSQL superuser, whoever can write the file can still get round it
(define the function, drop the triggers); ``verify_audit`` and the off-box
checkpoints catch what they change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

FUNCTION = "audit_rows_are_append_only"
TABLES = ("grants_auditevent", "grants_auditcheckpoint")

_suspended: ContextVar[bool] = ContextVar("audit_append_only_suspended", default=False)


def _guard() -> int:
    return 0 if _suspended.get() else 1


def install(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: define the guard function on every new
    SQLite connection of this process (no-op on other engines)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(FUNCTION, 0, _guard)


@contextmanager
def suspended() -> Iterator[None]:
    """Let this thread's SQLite connections update and delete audit rows (for
    Django's test-database flush only; never used by the product)."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


def trigger_sql(table: str, operation: str) -> str:
    """``CREATE TRIGGER`` for SQLite: abort ``operation`` (UPDATE|DELETE) on ``table``."""
    return (
        f"CREATE TRIGGER IF NOT EXISTS {table}_append_only_{operation.lower()} "
        f"BEFORE {operation} ON {table} WHEN {FUNCTION}() "
        f"BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: {operation} on "
        f"{table} refused'); END"
    )


def missing_triggers(connection: Any) -> list[str]:
    """Names of the append-only triggers that should exist on this database
    but do not (a migration that rebuilds an audit table on SQLite drops them
    silently). Empty on engines without them."""
    if connection.vendor == "sqlite":
        expected = {
            f"{table}_append_only_{op}"
            for table in TABLES
            for op in ("update", "delete")
        }
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    elif connection.vendor == "postgresql":
        expected = {f"{table}_append_only" for table in TABLES}
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql)
        present = {row[0] for row in cursor.fetchall()}
    return sorted(expected - present)
