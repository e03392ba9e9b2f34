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

Evidence too voluminous to chain row by row (usage roll-ups) is signed into
the checkpoints instead: a part registers a :class:`Seal` (``register_seal``),
each checkpoint signs the statement it returns (e.g. a digest of the roll-ups
of the days closed since the last one) along with the head, and ``verify``
recomputes each statement and reports what changed since it was signed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
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


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something, for the ``actor_id``/``actor_login`` of audit rows.

    ``actor_id``: the Okta user id (or a System Log actor's id); ``login``: the
    Okta login. From a System Log event also ``at`` (its ``published`` time,
    UTC), ``event_uuid``, ``request_id`` and ``ip_address`` (its
    ``client.ipAddress``, for alerts; not written to audit rows). An empty Actor (:data:`NOBODY`)
    means "unknown: only noticed by comparing with Okta".
    """

    actor_id: str = ""
    login: str = ""
    at: datetime | None = None
    event_uuid: str = ""
    request_id: str = ""
    ip_address: str = ""

    @classmethod
    def of_event(cls, event: Any) -> Actor:
        """The actor of a System Log event (``okta.models.LogEvent``): its id,
        its login (``alternateId``, else its display name), when and in which
        event and request."""
        return cls(
            actor_id=event.actor_id,
            login=event.actor_alternate_id or event.actor_display_name,
            at=event.published,
            event_uuid=event.uuid,
            request_id=event.request_id,
            ip_address=event.ip_address,
        )

    @property
    def known(self) -> bool:
        return bool(self.actor_id or self.login)

    @property
    def name(self) -> str:
        """The login, else the id: how the pages and ``*_by`` columns name it."""
        return self.login or self.actor_id

    @property
    def fields(self) -> dict[str, str]:
        """``record()``'s ``actor_id``/``actor_login`` keywords for this actor."""
        return {"actor_id": self.actor_id, "actor_login": self.login}


NOBODY = Actor()


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
    # OIN API service integrations (services.api_services).
    "integration_discovered",
    "integration_removed",
    "integration_remove_intent",
    "integration_remove",
    # A service app's admin roles (or their targets) changed in Okta.
    "privilege_change",
    # An app's refresh tokens revoked after a scope revoke, and the check, once
    # the access tokens' lifetime has passed, that no token carried the scope.
    "tokens_revoke_intent",
    "tokens_revoke",
    "token_window_check",
    # Governance: an app's owner set (by default or by a Super Admin) or
    # orphaned (its Okta user deactivated); attestation campaigns and answers.
    "owner_assigned",
    "owner_orphaned",
    "campaign_started",
    "campaign_closed",
    "attestation_answer",
    # Governance: two-person approval of risky grants, and grants' end times.
    "request_opened",
    "request_approved",
    "request_denied",
    "request_expired",
    "end_time_set",
    "expiry_enforced",
    "expiry_alerted",
    "policy_enforced",
    # An alert that could not be delivered to a destination (after its retries),
    # and a change to where alerts go (governance).
    "alert_undelivered",
    "alert_destination",
    "policy_version",
    "policy_rejected",
    "policy_finding_accepted",
)

#: each action in words, as the pages show it (every action has one)
ACTION_NAMES = {
    "grant": "Granted scope",
    "revoke": "Revoked scope",
    "grant_intent": "Grant requested",
    "revoke_intent": "Revoke requested",
    "external_grant": "Granted in Okta (out of band)",
    "external_revoke": "Revoked in Okta (out of band)",
    "authz_denied": "Refused",
    "sign_in": "Signed in",
    "sign_out": "Signed out",
    "sync": "Sync ended with problems",
    "app_discovered": "App appeared in Okta",
    "app_removed": "App removed from Okta",
    "app_restored": "App back in Okta",
    "refresh": "Refreshed from Okta",
    "foreign_issuer": "Grant for another issuer found",
    "integration_discovered": "API service integration appeared in Okta",
    "integration_removed": "API service integration removed in Okta",
    "integration_remove_intent": "API service integration removal requested",
    "integration_remove": "Removed API service integration",
    "privilege_change": "Admin roles changed in Okta",
    "tokens_revoke_intent": "Refresh tokens revoke requested",
    "tokens_revoke": "Revoked the app's refresh tokens",
    "token_window_check": "Checked token issuance after a revoke",
    "owner_assigned": "App owner set",
    "owner_orphaned": "App owner deactivated in Okta (orphaned)",
    "campaign_started": "Attestation campaign started",
    "campaign_closed": "Attestation campaign closed",
    "attestation_answer": "Grant attested",
    "request_opened": "Grant request opened",
    "request_approved": "Grant request approved",
    "request_denied": "Grant request denied",
    "request_expired": "Grant request expired",
    "end_time_set": "Grant end time set",
    "expiry_enforced": "Expired grant revoked by the enforcer",
    "expiry_alerted": "Grant end time alerted",
    "policy_enforced": "Forbidden grant revoked by the enforcer (policy)",
    "alert_undelivered": "Alert not delivered",
    "alert_destination": "Alert destination changed",
    "policy_version": "Policy version put in force",
    "policy_rejected": "Invalid policy refused",
    "policy_finding_accepted": "Policy finding's risk accepted",
}


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


# One encoder for every row: json.dumps with options builds a new one per call.
_ENCODE = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False
).encode


def _canonical_values(values: Any) -> bytes:
    data = {}
    for name in HASHED_FIELDS:
        value = values[name]
        if isinstance(value, datetime):
            value = _iso(value)
        data[name] = value
    return _ENCODE(data).encode("utf-8")


def canonical(row: AuditEvent) -> bytes:
    """The canonical bytes of a row's hashed columns (hash_version 1)."""
    return _canonical_values({name: getattr(row, name) for name in HASHED_FIELDS})


def compute_hash(prev_hash: str, row: AuditEvent) -> str:
    """SHA-256 hex of ``prev_hash``, a newline and the canonical row."""
    return hashlib.sha256(
        prev_hash.encode("ascii") + b"\n" + canonical(row)
    ).hexdigest()


def _mac(message: str, key: bytes | None = None) -> str:
    if key is None:
        key = settings.AUDIT_HMAC_KEY.encode("utf-8")
    return hmac.digest(key, message.encode("utf-8"), "sha256").hex()


def row_sealed(row: AuditEvent) -> bool:
    """True when ``row_hash`` is the hash of the row's columns after its
    ``prev_hash`` and ``row_mac`` is the audit key's MAC of it: one row's share
    of :func:`verify` (which also follows the links between rows)."""
    return hmac.compare_digest(
        row.row_hash, compute_hash(row.prev_hash, row)
    ) and hmac.compare_digest(row.row_mac, _mac(row.row_hash))


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
    app_discovered, app_removed, app_restored, refresh, foreign_issuer,
    privilege_change);
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


@dataclass(frozen=True, slots=True)
class Seal:
    """Evidence another part signs into every checkpoint.

    ``name`` keys its statement in ``AuditCheckpoint.seals``; ``what`` names
    the evidence in plain words ("usage roll-ups"). ``sign(previous)`` returns
    the statement to sign now, given the newest one signed before (None: the
    first): a JSON-able dict holding a ``"digest"``, or None when there is
    nothing new to sign. ``digest(statement)`` recomputes that digest from the
    evidence as it is now, or returns None when the evidence is no longer kept
    (deleted by its retention rule, which is not a break).
    """

    name: str
    what: str
    sign: Callable[[dict[str, Any] | None], dict[str, Any] | None]
    digest: Callable[[dict[str, Any]], str | None]


_SEALS: dict[str, Seal] = {}


def register_seal(seal: Seal) -> None:
    """Sign ``seal``'s statement into every checkpoint from now on (call from
    an app's ``ready()``; registering a name again replaces it)."""
    _SEALS[seal.name] = seal


def _seals_text(seals: dict[str, Any] | None) -> str:
    """The signed form of a checkpoint's seals: canonical JSON, "" for none."""
    return _ENCODE(seals) if seals else ""


def _signed_message(count: int, head: str, at: str, seals: str) -> str:
    # Without seals, the message checkpoints have always signed.
    return f"{count}|{head}|{at}" + (f"|{seals}" if seals else "")


def checkpoint(count: int | None = None, head: str | None = None) -> AuditCheckpoint:
    """Write a signed checkpoint of the chain's current head and log it; with
    ``count`` and ``head`` (a head the caller verified), sign those instead.
    Each registered :class:`Seal` with something new adds its statement.

    The log line (logger ``grantsconsole.audit``) is the off-box copy: with a log
    drain it survives a database restore or a truncated table; so is the line
    appended to ``settings.AUDIT_CHECKPOINT_FILE`` when set.
    """
    with transaction.atomic():
        _lock_chain()
        if count is None or head is None:
            last = AuditEvent.objects.order_by("-seq").values("seq", "row_hash").first()
            count, head = (last["seq"], last["row_hash"]) if last else (0, GENESIS_HASH)
        seals = {}
        for seal in _SEALS.values():
            previous = (
                AuditCheckpoint.objects.filter(seals__has_key=seal.name)
                .order_by("-id")
                .values_list("seals", flat=True)
                .first()
            )
            statement = seal.sign(previous[seal.name] if previous else None)
            if statement is not None:
                seals[seal.name] = statement
        now = timezone.now()
        cp = AuditCheckpoint(
            count=count,
            head_hash=head,
            created_at=now,
            mac=_mac(_signed_message(count, head, _iso(now), _seals_text(seals))),
            seals=seals or None,
        )
        cp.save()
    line = checkpoint_line(
        cp.count, cp.head_hash, cp.created_at, cp.mac, _seals_text(cp.seals)
    )
    logger.info("%s", line)
    path = getattr(settings, "AUDIT_CHECKPOINT_FILE", "")
    if path:
        with open(path, "a", encoding="ascii") as out:
            out.write(line + "\n")
    return cp


def checkpoint_line(
    count: int, head: str, at: datetime, mac: str, seals: str = ""
) -> str:
    """The one-line, signed form of a checkpoint (log drain, checkpoint file);
    ``seals`` is the canonical JSON of its seals (no spaces), if any."""
    line = f"audit checkpoint count={count} head={head} at={_iso(at)} mac={mac}"
    return line + (f" seals={seals}" if seals else "")


_LINE = re.compile(
    r"audit checkpoint count=(\d+) head=([0-9a-f]{64}) at=(\S+) mac=([0-9a-f]{64})"
    r"(?: seals=(\S+))?"
)


@dataclass(frozen=True, slots=True)
class _Signed:
    where: str  # "checkpoint" (a table row) | "external" (a copy kept elsewhere)
    ident: int  # the row id, or the line number
    count: int
    head: str
    at: str
    mac: str
    seals: str = ""  # canonical JSON of the signed seals ("" for none)

    def signed_by(self, key: bytes) -> bool:
        """True when ``mac`` is the audit key's signature of count, head, time
        (and seals)."""
        expected = _mac(
            _signed_message(self.count, self.head, self.at, self.seals), key
        )
        return hmac.compare_digest(expected, self.mac)


def parse_checkpoint_lines(lines: Iterable[str]) -> list[_Signed]:
    """Text that looks like a checkpoint in ``lines`` (a log drain export or the
    checkpoint file); other lines are skipped. ``ident`` is the 1-based line
    number. Nothing here is trusted yet: anyone who can get text into a log
    (a request for a missing page logs its path) can write such a line, so
    :func:`verify` keeps only those whose signature verifies."""
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
                    match.group(5) or "",
                )
            )
    return found


#: the kinds of break ``verify`` reports (``Problem.kind``), in plain words
BREAKS = {
    "missing": "rows missing (a gap in seq)",
    "reordered": "rows reordered or duplicated",
    "link": "chain link broken (prev_hash)",
    "edited": "row edited (row_hash)",
    "forged": "row not signed with the audit key (row_mac)",
    "signature": "checkpoint signature does not verify",
    "truncated": "rows removed from the tail",
    "replaced": "signed row replaced",
    "unreadable": "the checkpoint file cannot be read",
    "sealed": "evidence signed into a checkpoint changed",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """What ``verify`` found wrong: where (a "row", a "checkpoint" in the table,
    or an "external" checkpoint line), ``ident`` (the first bad row's ``seq``,
    the checkpoint id, or the line number), ``kind`` (a key of ``BREAKS``) and
    a plain-words ``message``."""

    where: str  # "row" | "checkpoint" | "external"
    ident: int
    kind: str
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
    """``rows`` checked (seq ``first_seq`` to ``head_seq``, whose row_hash is
    ``head``), signed ``checkpoints`` checked (table rows and trusted external
    lines), ``ignored`` external lines that look like checkpoints but whose
    signature does not verify, and the first ``problem`` or None. ``first_seq``
    is 1 for a whole-chain check; a tail check starts after the newest
    checkpoint."""

    rows: int
    checkpoints: int
    problem: Problem | None
    ignored: int = 0
    first_seq: int = 1
    head: str = GENESIS_HASH

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def head_seq(self) -> int:
        """The seq of the last row checked (0: an empty chain)."""
        return self.first_seq - 1 + self.rows


# Fetched in this order: the hashed columns sorted by name, as the canonical
# JSON orders its keys, so a row's values zip straight into that dict.
_SORTED_FIELDS = tuple(sorted(HASHED_FIELDS))
_ROW_COLUMNS = ("id", *_SORTED_FIELDS, "prev_hash", "row_hash", "row_mac")
_SEQ = 1 + _SORTED_FIELDS.index("seq")
_CREATED = 1 + _SORTED_FIELDS.index("created_at")
_N = len(_SORTED_FIELDS)


def _rows_after(row_id: int, chunk: int = 5000) -> Iterator[tuple[Any, ...]]:
    """Rows with a primary key above ``row_id`` as tuples of ``_ROW_COLUMNS``,
    in physical id order (insertion order), fetched ``chunk`` rows at a time
    without building model instances."""
    return (
        AuditEvent.objects.filter(id__gt=row_id)
        .order_by("id")
        .values_list(*_ROW_COLUMNS)
        .iterator(chunk_size=chunk)
    )


def _tail_anchor(key: bytes) -> tuple[int, int, str] | Problem:
    """Where a tail check starts: (row id, seq, row_hash) of the row the newest
    checkpoint signed, (0, 0, genesis) when there is none, or the Problem when
    that checkpoint does not hold."""
    cp = AuditCheckpoint.objects.order_by("-id").first()
    if cp is None or cp.count == 0:
        return (0, 0, GENESIS_HASH)
    signed = _Signed(
        "checkpoint",
        cp.id,
        cp.count,
        cp.head_hash,
        _iso(cp.created_at),
        cp.mac,
        _seals_text(cp.seals),
    )
    if not signed.signed_by(key):
        return Problem("checkpoint", cp.id, "signature", BREAKS["signature"])
    row = AuditEvent.objects.filter(seq=cp.count).values_list("id", "row_hash").first()
    if row is None:
        return Problem(
            "checkpoint",
            cp.id,
            "truncated",
            f"signed for {cp.count} rows but row seq {cp.count} is gone; "
            "rows were removed from the tail",
        )
    if row[1] != cp.head_hash:
        return Problem(
            "checkpoint",
            cp.id,
            "replaced",
            f"row seq {cp.count} is not the row that was signed",
        )
    return (row[0], cp.count, cp.head_hash)


def _check_seals(item: _Signed, checked: dict[str, bool]) -> Problem | None:
    """The Problem when evidence ``item`` signed has changed since (each
    statement is recomputed once: ``checked`` remembers the answers)."""
    for name, statement in json.loads(item.seals).items():
        seal = _SEALS.get(name)
        if seal is None:
            return Problem(
                item.where,
                item.ident,
                "sealed",
                f"{name} signed here cannot be checked",
            )
        text = _ENCODE(statement)
        if text not in checked:
            now = seal.digest(statement)
            checked[text] = now is None or hmac.compare_digest(
                now, str(statement.get("digest", ""))
            )
        if not checked[text]:
            since = (
                f"checkpoint {item.ident}"
                if item.where == "checkpoint"
                else f"the checkpoint on line {item.ident}"
            )
            return Problem(
                item.where,
                item.ident,
                "sealed",
                f"{seal.what} changed since {since} signed them",
            )
    return None


def verify(external: Iterable[str] = (), *, tail: bool = False) -> VerifyResult:
    """Check the chain and every checkpoint; stop at the first problem.

    Rows are read in insertion (primary key) order and must carry seq 1, 2, 3 ...
    with each ``prev_hash`` equal to the previous ``row_hash``, a ``row_hash``
    that matches the row's columns, and a valid ``row_mac``. That catches an
    edited row (hash or MAC mismatch), a deleted row (seq gap), reordered rows
    (seq out of order or broken link) and a forged row (MAC, or the link).
    Then each checkpoint's MAC must verify and the chain must still hold the
    row ``count`` with hash ``head_hash`` (rows cut off the tail), and the
    evidence it sealed must still have the digest it signed (``Seal``).

    ``external`` are text lines holding checkpoints kept outside the database
    (the log drain, ``settings.AUDIT_CHECKPOINT_FILE``); they catch a wipe of
    both audit tables. Only lines signed with the audit key count: the others
    (planted, garbled) are left out and counted in ``ignored``.

    ``tail=True`` checks only the rows after the newest checkpoint, starting
    from the row it signed (the checkpoint's signature and that row's hash are
    checked, the rows before it are not re-hashed), plus every checkpoint's
    signature and count (not its seals): cheap, run before each checkpoint is signed; the
    daily check is the whole chain.
    """
    key = settings.AUDIT_HMAC_KEY.encode("utf-8")
    lines = parse_checkpoint_lines(external)
    trusted = [item for item in lines if item.signed_by(key)]
    ignored = len(lines) - len(trusted)
    signed = [
        _Signed(
            "checkpoint",
            cp.id,
            cp.count,
            cp.head_hash,
            _iso(cp.created_at),
            cp.mac,
            _seals_text(cp.seals),
        )
        for cp in AuditCheckpoint.objects.order_by("id")
    ] + trusted
    after_id, start_seq, prev_hash = 0, 0, GENESIS_HASH
    if tail:
        anchor = _tail_anchor(key)
        if isinstance(anchor, Problem):
            return VerifyResult(0, 1, anchor, ignored, 1)
        after_id, start_seq, prev_hash = anchor
    first_seq = start_seq + 1
    expected_seq = first_seq
    wanted = {item.count for item in signed}
    hashes: dict[int, str] = {}
    mac = hmac.digest
    sha256 = hashlib.sha256
    checked = 0
    for row in _rows_after(after_id):
        checked += 1
        seq = row[_SEQ]
        problem = None
        if seq != expected_seq:
            if seq > expected_seq:
                problem = Problem(
                    "row",
                    seq,
                    "missing",
                    f"expected seq {expected_seq} next; rows are missing or reordered",
                )
            else:
                problem = Problem(
                    "row",
                    seq,
                    "reordered",
                    f"seq {seq} appears after seq {expected_seq - 1}; "
                    "reordered or duplicated",
                )
        elif row[-3] != prev_hash:
            problem = Problem(
                "row", seq, "link", "prev_hash does not match the previous row"
            )
        else:
            data = dict(zip(_SORTED_FIELDS, row[1 : _N + 1], strict=True))
            data["created_at"] = _iso(row[_CREATED])
            digest = sha256(
                prev_hash.encode("ascii") + b"\n" + _ENCODE(data).encode("utf-8")
            ).hexdigest()
            if digest != row[-2]:
                problem = Problem(
                    "row", seq, "edited", "row_hash does not match the row's contents"
                )
            elif not hmac.compare_digest(
                mac(key, digest.encode("utf-8"), "sha256").hex(), row[-1]
            ):
                problem = Problem(
                    "row", seq, "forged", "row_mac is not signed with the audit key"
                )
        if problem is not None:
            return VerifyResult(checked, 0, problem, ignored, first_seq)
        if seq in wanted:
            hashes[seq] = digest
        prev_hash = digest
        expected_seq += 1
    total = expected_seq - 1
    earlier = [c for c in wanted if 0 < c <= start_seq]
    if earlier:
        hashes.update(
            AuditEvent.objects.filter(seq__in=earlier).values_list("seq", "row_hash")
        )
    checked_signed = 0
    resealed: dict[str, bool] = {}
    for item in signed:
        checked_signed += 1
        problem = None
        if not item.signed_by(key):
            problem = Problem(item.where, item.ident, "signature", BREAKS["signature"])
        elif item.count > total:
            problem = Problem(
                item.where,
                item.ident,
                "truncated",
                f"signed for {item.count} rows but the chain has {total}; "
                "rows were removed from the tail",
            )
        elif item.count and hashes.get(item.count) != item.head:
            problem = Problem(
                item.where,
                item.ident,
                "replaced",
                f"row seq {item.count} is not the row that was signed",
            )
        elif item.seals and not tail:
            problem = _check_seals(item, resealed)
        if problem:
            return VerifyResult(checked, checked_signed, problem, ignored, first_seq)
    return VerifyResult(checked, checked_signed, None, ignored, first_seq, prev_hash)
