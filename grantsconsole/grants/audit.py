"""The audit trail: append-only, hash-chained rows, signed checkpoints, verification.

``record()`` is the one way to write an audit row; everyone (sign-in, console,
sync) uses it. Appends are serialized so concurrent workers cannot fork the
chain: on PostgreSQL with a transaction-scoped advisory lock, on SQLite by the
``BEGIN IMMEDIATE`` transactions the settings configure (the database write lock).
The unique ``seq`` column is the last line of defence.

Hashing (hash_version 1): ``row_hash = sha256(prev_hash + "\\n" + canonical)``
where ``canonical`` is the JSON (sorted keys, no spaces, UTF-8) of the columns in
``HASHED_FIELDS``, datetimes as ISO-8601 UTC with microseconds. ``row_mac`` is
HMAC-SHA256(settings.AUDIT_HMAC_KEY, row_hash). Checkpoints sign
``count|head_hash|time`` with the same key (the AWS CloudTrail digest idea:
reliability-and-performance.md A1).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from grantsconsole.grants.models import AuditCheckpoint, AuditEvent

if TYPE_CHECKING:
    from grantsconsole.grants.models import OktaApp

logger = logging.getLogger("grantsconsole.audit")

GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "seq",
    "created_at",
    "action",
    "actor_id",
    "actor_login",
    "app_id",
    "app_okta_id",
    "app_label",
    "scope_id",
    "outcome",
    "okta_request_id",
    "detail",
    "event_key",
    "hash_version",
)
# Arbitrary constant: the advisory lock id of the audit chain on PostgreSQL.
_PG_LOCK_ID = 7_340_211_001

ACTIONS = (
    "grant",
    "revoke",
    "grant_intent",
    "revoke_intent",
    "external_grant",
    "external_revoke",
    "authz_denied",
    "sign_in",
    "sign_out",
    "sync",
    "app_discovered",
    "app_removed",
    "app_restored",
    "refresh",
    # A sync found a grant whose issuer is not the org (Org Authorization Server).
    "foreign_issuer",
)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


#: characters kept of each text in ``detail`` (request paths, Okta's error text,
#: anything a caller copied from a request): a row stays small whatever is sent
DETAIL_TEXT_LIMIT = 500


def _truncate(value: Any) -> Any:
    if isinstance(value, str):
        return value[:DETAIL_TEXT_LIMIT]
    if isinstance(value, dict):
        return {k[:DETAIL_TEXT_LIMIT]: _truncate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_truncate(v) for v in value]
    return value


def _normalize_detail(detail: Any) -> dict[str, Any]:
    """Round-trip ``detail`` through JSON so the hash sees what the DB returns,
    each text cut to DETAIL_TEXT_LIMIT characters."""
    if detail is None:
        return {}
    return _truncate(json.loads(json.dumps(detail, default=str, sort_keys=True)))


def _canonical_values(values: Any) -> bytes:
    data = {}
    for name in HASHED_FIELDS:
        value = values[name]
        if isinstance(value, datetime):
            value = _iso(value)
        data[name] = value
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def canonical(row: AuditEvent) -> bytes:
    """The canonical bytes of a row's hashed columns (hash_version 1)."""
    return _canonical_values({name: getattr(row, name) for name in HASHED_FIELDS})


def compute_hash(prev_hash: str, row: AuditEvent) -> str:
    """SHA-256 hex of ``prev_hash``, a newline and the canonical row."""
    return hashlib.sha256(
        prev_hash.encode("ascii") + b"\n" + canonical(row)
    ).hexdigest()


def _hash_values(prev_hash: str, values: Any) -> str:
    return hashlib.sha256(
        prev_hash.encode("ascii") + b"\n" + _canonical_values(values)
    ).hexdigest()


def _mac(message: str, key: bytes | None = None) -> str:
    if key is None:
        key = settings.AUDIT_HMAC_KEY.encode("utf-8")
    return hmac.digest(key, message.encode("utf-8"), "sha256").hex()


def _lock_chain() -> None:
    """Serialize appends for the rest of the current transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_ID])
    # SQLite: every transaction begins IMMEDIATE (settings.DATABASES OPTIONS), so
    # this transaction already holds the database's single write lock.


def record(
    action: str,
    *,
    actor_id: str = "",
    actor_login: str = "",
    app: OktaApp | None = None,
    scope_id: str = "",
    outcome: str = "success",
    okta_request_id: str = "",
    detail: dict[str, Any] | None = None,
    key: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one audit row and return it.

    ``action`` is one of ``ACTIONS`` (grant, revoke, grant_intent, revoke_intent,
    external_grant, external_revoke, authz_denied, sign_in, sign_out, sync,
    app_discovered, app_removed, app_restored, refresh, foreign_issuer);
    ``outcome`` one of
    success | failure | pending | denied | skipped. ``detail`` must be
    JSON-serializable (non-JSON values are stored as ``str()``); never put a
    secret in it; each text in it (keys and values, at any depth) is cut to
    ``DETAIL_TEXT_LIMIT`` (500) characters. ``key`` makes the call idempotent: when a row with that
    ``event_key`` exists it is returned and nothing is written. ``at`` is the
    row's UTC time (default now; the chain orders by ``seq``, not time).

    Runs in its own transaction (a savepoint when the caller has one open), so
    the row commits with the caller's changes. Raises ValueError for an unknown
    action or outcome.
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}.")
    if outcome not in AuditEvent.Outcome.values:
        raise ValueError(f"Unknown audit outcome {outcome!r}.")
    with transaction.atomic():
        _lock_chain()
        if key is not None:
            existing = AuditEvent.objects.filter(event_key=key).first()
            if existing is not None:
                return existing
        last = AuditEvent.objects.order_by("-seq").values("seq", "row_hash").first()
        prev_seq, prev_hash = (
            (last["seq"], last["row_hash"]) if last else (0, GENESIS_HASH)
        )
        row = AuditEvent(
            seq=prev_seq + 1,
            created_at=at or timezone.now(),
            action=action,
            actor_id=actor_id[:200],
            actor_login=actor_login[:300],
            app=app,
            app_okta_id=app.okta_id if app else "",
            app_label=(app.label if app else "")[:500],
            scope_id=scope_id,
            outcome=outcome,
            okta_request_id=okta_request_id[:200],
            detail=_normalize_detail(detail),
            event_key=key,
            hash_version=1,
            prev_hash=prev_hash,
        )
        row.row_hash = compute_hash(prev_hash, row)
        row.row_mac = _mac(row.row_hash)
        row.save()
    return row


def checkpoint() -> AuditCheckpoint:
    """Write a signed checkpoint of the chain's current head and log it.

    The log line (logger ``grantsconsole.audit``) is the off-box copy: with a log
    drain it survives a database restore or a truncated table.
    """
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-seq").values("seq", "row_hash").first()
        count, head = (last["seq"], last["row_hash"]) if last else (0, GENESIS_HASH)
        now = timezone.now()
        cp = AuditCheckpoint(
            count=count,
            head_hash=head,
            created_at=now,
            mac=_mac(f"{count}|{head}|{_iso(now)}"),
        )
        cp.save()
    line = checkpoint_line(cp.count, cp.head_hash, cp.created_at, cp.mac)
    logger.info("%s", line)
    path = getattr(settings, "AUDIT_CHECKPOINT_FILE", "")
    if path:
        with open(path, "a", encoding="ascii") as out:
            out.write(line + "\n")
    return cp


def checkpoint_line(count: int, head: str, at: datetime, mac: str) -> str:
    """The one-line, signed form of a checkpoint (log drain, checkpoint file)."""
    return f"audit checkpoint count={count} head={head} at={_iso(at)} mac={mac}"


_LINE = re.compile(
    r"audit checkpoint count=(\d+) head=([0-9a-f]{64}) at=(\S+) mac=([0-9a-f]{64})"
)


@dataclass(frozen=True, slots=True)
class _Signed:
    where: str  # "checkpoint" (a table row) | "external" (a copy kept elsewhere)
    ident: int  # the row id, or the line number
    count: int
    head: str
    at: str
    mac: str


def parse_checkpoint_lines(lines: Iterable[str]) -> list[_Signed]:
    """Checkpoints found in text lines (a log drain export or the checkpoint
    file); other lines are ignored. ``ident`` is the 1-based line number."""
    found = []
    for number, text in enumerate(lines, start=1):
        match = _LINE.search(text)
        if match:
            found.append(
                _Signed(
                    "external",
                    number,
                    int(match.group(1)),
                    match.group(2),
                    match.group(3),
                    match.group(4),
                )
            )
    return found


@dataclass(frozen=True, slots=True)
class Problem:
    """What ``verify`` found wrong: the first bad row's ``seq`` (or the
    checkpoint id when ``where`` is "checkpoint") and a plain-words message."""

    where: str  # "row" | "checkpoint" | "external"
    ident: int
    message: str

    def __str__(self) -> str:
        label = {
            "row": "audit row seq",
            "checkpoint": "checkpoint id",
            "external": "off-box checkpoint on line",
        }[self.where]
        return f"{label} {self.ident}: {self.message}"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """``rows`` checked, ``checkpoints`` checked, and the first ``problem`` or None."""

    rows: int
    checkpoints: int
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


_ROW_COLUMNS = ("id", *HASHED_FIELDS, "prev_hash", "row_hash", "row_mac")


def _iter_rows(batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Rows (as dicts of their columns) in physical id order, i.e. insertion
    order, in batches."""
    last_id = 0
    while True:
        rows = list(
            AuditEvent.objects.filter(id__gt=last_id)
            .order_by("id")
            .values(*_ROW_COLUMNS)[:batch]
        )
        if not rows:
            return
        yield from rows
        last_id = rows[-1]["id"]


def verify(external: Iterable[str] = ()) -> VerifyResult:
    """Check the whole chain and every checkpoint; stop at the first problem.

    Rows are read in insertion (primary key) order and must carry seq 1, 2, 3 ...
    with each ``prev_hash`` equal to the previous ``row_hash``, a ``row_hash``
    that matches the row's columns, and a valid ``row_mac``. That catches an
    edited row (hash or MAC mismatch), a deleted row (seq gap), reordered rows
    (seq out of order or broken link) and a forged row (MAC, or the link).
    Then each checkpoint's MAC must verify and the chain must still hold the
    row ``count`` with hash ``head_hash`` (rows cut off the tail). ``external``
    are text lines holding checkpoints kept outside the database (the log
    drain, ``settings.AUDIT_CHECKPOINT_FILE``); checked the same way, they
    catch a wipe of both audit tables.
    """
    signed = [
        _Signed(
            "checkpoint", cp.id, cp.count, cp.head_hash, _iso(cp.created_at), cp.mac
        )
        for cp in AuditCheckpoint.objects.order_by("id")
    ] + parse_checkpoint_lines(external)
    key = settings.AUDIT_HMAC_KEY.encode("utf-8")
    expected_seq = 1
    prev_hash = GENESIS_HASH
    wanted = {item.count for item in signed}
    hashes: dict[int, str] = {}
    checked = 0
    for checked, row in enumerate(_iter_rows(), start=1):
        if row["seq"] != expected_seq:
            if row["seq"] > expected_seq:
                msg = f"expected seq {expected_seq} next; rows are missing or reordered"
            else:
                msg = f"seq {row['seq']} appears after seq {expected_seq - 1}; reordered or duplicated"
            return VerifyResult(checked, 0, Problem("row", row["seq"], msg))
        if row["prev_hash"] != prev_hash:
            return VerifyResult(
                checked,
                0,
                Problem("row", row["seq"], "prev_hash does not match the previous row"),
            )
        if _hash_values(row["prev_hash"], row) != row["row_hash"]:
            return VerifyResult(
                checked,
                0,
                Problem(
                    "row", row["seq"], "row_hash does not match the row's contents"
                ),
            )
        if not hmac.compare_digest(_mac(row["row_hash"], key), row["row_mac"]):
            return VerifyResult(
                checked,
                0,
                Problem("row", row["seq"], "row_mac is not signed with the audit key"),
            )
        if row["seq"] in wanted:
            hashes[row["seq"]] = row["row_hash"]
        prev_hash = row["row_hash"]
        expected_seq += 1
    total = expected_seq - 1
    checked_signed = 0
    for item in signed:
        checked_signed += 1
        expected_mac = _mac(f"{item.count}|{item.head}|{item.at}", key)
        problem = None
        if not hmac.compare_digest(expected_mac, item.mac):
            problem = "checkpoint signature does not verify"
        elif item.count > total:
            problem = (
                f"signed for {item.count} rows but the chain has {total}; "
                "rows were removed from the tail"
            )
        elif item.count and hashes.get(item.count) != item.head:
            problem = f"row seq {item.count} is not the row that was signed"
        if problem:
            return VerifyResult(
                total, checked_signed, Problem(item.where, item.ident, problem)
            )
    return VerifyResult(total, checked_signed, None)
