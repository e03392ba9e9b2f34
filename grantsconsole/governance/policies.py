"""The policy in force, its versions, and its evaluation into findings.

- :func:`in_force`: the newest valid :class:`PolicyVersion` and its parsed
  :class:`~grantsconsole.governance.policy.Policy`, after reading the policy
  file (``settings.GOVERNANCE_POLICY_FILE``) when one is set.
- :func:`save_from_console`: a Super Admin's edit; refused (and audited) when
  invalid, and the version in force stays.
- :func:`violations`: what the org does not comply with, from the local grant
  state (no Okta call).
- :func:`evaluate`: turn the violations into findings (open, accepted,
  resolved, reopened), raising a ``policy_violation`` alert for each new open
  one. Runs after every sync and every console write (``grant_state_changed``).
- :func:`accept`: a Super Admin accepts a finding's risk, with a reason and an
  expiry; audited.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from grantsconsole.governance import alerting
from grantsconsole.governance.policy import Policy, PolicyInvalid, Problem, Rule, parse
from grantsconsole.governance.policy_models import PolicyFinding, PolicyVersion
from grantsconsole.grants import audit
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import OktaApp, ScopeGrant
from grantsconsole.okta import scopes as scope_catalog

logger = logging.getLogger(__name__)

RISK_RANK = scope_catalog.RISK_RANK
# More new findings than this in one evaluation raise one summary alert, not
# one each (a first evaluation of a large org, or a policy edit).
ALERT_EACH_UP_TO = 10
REASON_MAX = 500


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _problems(exc: PolicyInvalid) -> list[dict[str, Any]]:
    return [{"line": p.line, "rule": p.rule, "why": p.why} for p in exc.problems]


_parsed: dict[str, Policy] = {}


def _policy_of(version: PolicyVersion) -> Policy:
    """The parsed policy of a stored (valid) version, parsed once per process
    and text (keyed by its sha256: a row id can be reused after a rollback)."""
    policy = _parsed.get(version.sha256)
    if policy is None:
        if len(_parsed) > 50:
            _parsed.clear()
        policy = _parsed[version.sha256] = parse(version.text)
    return policy


def latest() -> PolicyVersion | None:
    return PolicyVersion.objects.order_by("-pk").first()


@dataclass(frozen=True, slots=True)
class FileState:
    """The policy file as last read: ``path`` ("" when none is set),
    ``state`` ("in force", "refused", "unreadable", "superseded": a console
    edit is newer than the file's text, "changed": not yet read, see
    :func:`load_file`), ``problems`` of a refused text, ``error`` why it
    could not be read."""

    path: str
    state: str
    problems: tuple[Problem, ...] = ()
    error: str = ""


def load_file(path: str | None = None, *, store: bool = True) -> FileState:
    """Read the policy file and, when its text differs from the newest
    version read from that file, store it as the version in force (audited
    ``policy_version``). An invalid text is refused: audited once per text
    (``policy_rejected``, with each problem) and logged; the version in force
    stays. A console edit newer than the file's text stays in force until the
    file changes. ``store=False`` (pages) writes nothing: a valid changed
    text is then "changed" (read at the next evaluation)."""
    path = settings.GOVERNANCE_POLICY_FILE if path is None else path
    if not path:
        return FileState("", "")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        logger.warning("policy file %s cannot be read: %s", path, why)
        return FileState(path, "unreadable", error=why)
    sha = _sha(text)
    last_file = (
        PolicyVersion.objects.filter(source=PolicyVersion.Source.FILE, path=path)
        .order_by("-pk")
        .first()
    )
    if last_file is not None and last_file.sha256 == sha:
        newest = latest()
        state = "in force" if newest and newest.pk == last_file.pk else "superseded"
        return FileState(path, state)
    try:
        parse(text)
    except PolicyInvalid as exc:
        if not store:
            return FileState(path, "refused", tuple(exc.problems))
        logger.warning("policy file %s refused: %s", path, exc)
        audit.record(
            "policy_rejected",
            actor_login=f"file {path}"[:300],
            outcome="denied",
            detail={
                "source": "file",
                "path": path,
                "sha256": sha,
                "problems": _problems(exc),
            },
            key=f"policy_rejected:file:{sha}",
        )
        return FileState(path, "refused", tuple(exc.problems))
    if not store:
        return FileState(path, "changed")
    _store(text, sha, source=PolicyVersion.Source.FILE, path=path, author="")
    return FileState(path, "in force")


def _store(
    text: str, sha: str, *, source: str, path: str, author: str, note: str = ""
) -> PolicyVersion:
    with transaction.atomic():
        version = PolicyVersion.objects.create(
            text=text,
            sha256=sha,
            source=source,
            path=path[:500],
            author=(author or f"file {path}")[:300],
            note=note[:500],
            created_at=timezone.now(),
        )
        audit.record(
            "policy_version",
            actor_login=version.author,
            detail={
                "version": version.pk,
                "source": source,
                "path": path,
                "sha256": sha,
                "note": note,
            },
        )
    return version


def in_force(*, store: bool = True) -> tuple[PolicyVersion | None, Policy | None]:
    """The version in force and its policy (None, None when there is none),
    after reading the policy file when one is set (:func:`load_file`;
    ``store=False`` for pages: a changed file is stored by the next
    evaluation, not by a GET)."""
    load_file(store=store)
    version = latest()
    return (version, _policy_of(version)) if version is not None else (None, None)


def save_from_console(text: str, *, actor: Actor, note: str = "") -> PolicyVersion:
    """Store a Super Admin's edit as the version in force (audited
    ``policy_version``) and evaluate it. The same text as the version in
    force stores nothing and returns that version. Raises
    :class:`PolicyInvalid` when the text is invalid, after auditing the
    refusal (``policy_rejected``); the version in force stays."""
    text = text.replace("\r\n", "\n")
    sha = _sha(text)
    try:
        parse(text)
    except PolicyInvalid as exc:
        audit.record(
            "policy_rejected",
            **actor.fields,
            outcome="denied",
            detail={"source": "console", "sha256": sha, "problems": _problems(exc)},
        )
        raise
    current = latest()
    if current is not None and current.sha256 == sha:
        return current
    version = _store(
        text,
        sha,
        source=PolicyVersion.Source.CONSOLE,
        path="",
        author=actor.name,
        note=note,
    )
    evaluate()
    return version


# --- evaluation ---------------------------------------------------------------------


@cache
def risk_of(scope_id: str) -> str:
    """The scope's catalog risk, "low" for an unrated one."""
    return scope_catalog.risk(scope_id) or "low"


@dataclass(frozen=True, slots=True)
class Violation:
    """One thing the org does not comply with (the future finding's fields)."""

    rule_id: str
    rule_kind: str
    app_pk: int
    scope_id: str
    risk: str
    message: str
    remedy: str  # "grant", "revoke" or ""
    auto_remediate: bool = False


@dataclass(frozen=True, slots=True)
class _App:
    pk: int
    okta_id: str
    label: str
    application_type: str
    auth_method: str
    owned: bool
    grants: tuple[tuple[str, datetime | None], ...]  # (scope_id, ends_at)


def _apps(app_ids: Iterable[int] | None) -> list[_App]:
    """The present apps (``app_ids``: only these) with their open grants,
    auth method and whether they have an owner who is not orphaned: three
    queries whatever the number of apps."""
    apps = OktaApp.objects.filter(removed_at__isnull=True)
    grants = ScopeGrant.objects.filter(
        revoked_at__isnull=True, app__removed_at__isnull=True
    )
    if app_ids is not None:
        ids = list(app_ids)
        apps, grants = apps.filter(pk__in=ids), grants.filter(app_id__in=ids)
    held: dict[int, list[tuple[str, datetime | None]]] = defaultdict(list)
    for app_id, scope_id, ends_at in grants.order_by().values_list(
        "app_id", "scope_id", "ends_at"
    ):
        held[app_id].append((scope_id, ends_at))
    rows = apps.order_by().values_list(
        "pk",
        "okta_id",
        "label",
        "application_type",
        "controls__auth_method",
        "owner__pk",
        "owner__orphaned_at",
    )
    return [
        _App(
            pk,
            okta_id,
            label,
            kind,
            method or "",
            owner is not None and orphaned is None,
            tuple(sorted(held.get(pk, ()))),
        )
        for pk, okta_id, label, kind, method, owner, orphaned in rows
    ]


def _forbid(rule: Rule, policy: Policy, app: _App) -> Iterable[Violation]:
    for scope_id, _ in app.grants:
        if not rule.scopes.matches(scope_id):
            continue
        if rule.unless_allowlisted and policy.allowlisted(app.okta_id, scope_id):
            continue
        yield Violation(
            rule.id,
            rule.kind,
            app.pk,
            scope_id,
            rule.risk or risk_of(scope_id),
            f"{app.label} holds {scope_id}, which rule {rule.id} forbids"
            + (
                " unless the app's allowed_scopes list it."
                if rule.unless_allowlisted
                else "."
            ),
            "revoke",
            rule.auto_remediate,
        )


def _auth_method(rule: Rule, app: _App) -> Iterable[Violation]:
    holding = [
        s
        for s, _ in app.grants
        if rule.when_holding is None or rule.when_holding.matches(s)
    ]
    if not holding or app.auth_method == rule.method:
        return
    method = app.auth_method or "an auth method Okta did not report"
    yield Violation(
        rule.id,
        rule.kind,
        app.pk,
        "",
        max((risk_of(s) for s in holding), key=RISK_RANK.__getitem__),
        f"{app.label} holds {', '.join(holding)} and authenticates with {method}; "
        f"rule {rule.id} asks for {rule.method}.",
        "",
    )


def _owner_and_end(rule: Rule, app: _App) -> Iterable[Violation]:
    floor = RISK_RANK[rule.min_risk]
    for scope_id, ends_at in app.grants:
        risk = risk_of(scope_id)
        if RISK_RANK[risk] < floor:
            continue
        missing = [
            what
            for what, ok in (
                ("an owner", app.owned),
                ("an end date", ends_at is not None),
            )
            if not ok
        ]
        if missing:
            yield Violation(
                rule.id,
                rule.kind,
                app.pk,
                scope_id,
                risk,
                f"{app.label}'s {risk} grant of {scope_id} has no "
                f"{' and no '.join(m.split(' ', 1)[1] for m in missing)}.",
                "",
            )


def _allowed(policy: Policy, app: _App) -> Iterable[Violation]:
    entry = policy.apps.get(app.okta_id)
    if entry is None:
        return
    held = {s for s, _ in app.grants}
    for scope_id in sorted(held - entry.allowed_scopes):
        yield Violation(
            entry.rule_id,
            "allowed_scopes",
            app.pk,
            scope_id,
            risk_of(scope_id),
            f"{app.label} holds {scope_id}, which its allowed_scopes do not list.",
            "revoke",
            entry.auto_remediate,
        )
    for scope_id in entry.required_scopes:
        if scope_id not in held:
            yield Violation(
                entry.rule_id,
                "required_scopes",
                app.pk,
                scope_id,
                risk_of(scope_id),
                f"{app.label} does not hold {scope_id}, which its required_scopes list.",
                "grant",
            )


_CHECKS = {
    "forbid_scopes": lambda rule, policy, app: _forbid(rule, policy, app),
    "require_auth_method": lambda rule, policy, app: _auth_method(rule, app),
    "require_owner_and_end": lambda rule, policy, app: _owner_and_end(rule, app),
}


def violations(
    policy: Policy, app_ids: Iterable[int] | None = None
) -> dict[tuple[str, int, str], Violation]:
    """Every violation of ``policy`` by the present apps (``app_ids``: only
    these), keyed by (rule_id, app pk, scope_id). Reads the local grant state
    only (three queries)."""
    found: dict[tuple[str, int, str], Violation] = {}
    for app in _apps(app_ids):
        judged: list[Iterable[Violation]] = [_allowed(policy, app)]
        for rule in policy.rules:
            if rule.applies_to(app.application_type):
                judged.append(_CHECKS[rule.kind](rule, policy, app))
        for batch in judged:
            for v in batch:
                found[(v.rule_id, v.app_pk, v.scope_id)] = v
    return found


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What one evaluation changed: findings ``opened`` (new, reopened, or
    back from an expired acceptance), ``resolved``, and how many are now
    ``open`` in the apps it judged (None when no policy is in force)."""

    version: int | None
    opened: int = 0
    resolved: int = 0
    open: int = 0


_FIELDS = ("rule_kind", "risk", "message", "remedy", "auto_remediate")


def evaluate(
    app_ids: Iterable[int] | None = None, *, now: datetime | None = None
) -> Evaluation:
    """Evaluate the policy in force against the local state of the present
    apps (``app_ids``: only these; None: the whole org) and move the findings
    through their lifecycle: new violations open, findings whose violation is
    gone resolve (an app no longer present complies), resolved ones that are
    violated again reopen, accepted ones whose ``accepted_until`` passed
    reopen. Raises a ``policy_violation`` alert per finding opened (one
    summary alert beyond ``ALERT_EACH_UP_TO``). Nothing happens without a
    policy in force."""
    version, policy = in_force()
    if policy is None:
        return Evaluation(None)
    now = now or timezone.now()
    ids = None if app_ids is None else list(app_ids)
    found = violations(policy, ids)
    existing = PolicyFinding.objects.all()
    if ids is not None:
        existing = existing.filter(app_id__in=ids)
    opened: list[PolicyFinding] = []
    changed: list[PolicyFinding] = []
    resolve: list[int] = []
    columns = ("pk", "rule_id", "app_id", "scope_id", "state", "accepted_until")
    with transaction.atomic():
        # Tuples, not model instances: a steady evaluation of a large org reads
        # every finding and writes none.
        for row in existing.order_by("pk").values_list(*columns, "reopened", *_FIELDS):
            pk, rule_id, app_id, scope_id, state, until, reopened = row[:7]
            v = found.pop((rule_id, app_id, scope_id), None)
            if v is None:
                if state != PolicyFinding.State.RESOLVED:
                    resolve.append(pk)
                continue
            stored = dict(zip(_FIELDS, row[7:], strict=True))
            differs = any(stored[n] != getattr(v, n) for n in _FIELDS)
            again = state == PolicyFinding.State.RESOLVED
            expired = (
                state == PolicyFinding.State.ACCEPTED
                and until is not None
                and until <= now
            )
            if not (differs or again or expired):
                continue
            finding = PolicyFinding(
                pk=pk,
                rule_id=rule_id,
                app_id=app_id,
                scope_id=scope_id,
                state=state,
                accepted_until=until,
                reopened=reopened + again,
                **{n: getattr(v, n) for n in _FIELDS},
            )
            if again or expired:
                _reopen(finding)
                opened.append(finding)
            changed.append(finding)
        for start in range(0, len(resolve), 500):
            PolicyFinding.objects.filter(pk__in=resolve[start : start + 500]).update(
                state=PolicyFinding.State.RESOLVED, resolved_at=now
            )
        PolicyFinding.objects.bulk_update(
            changed,
            [
                *_FIELDS,
                "state",
                "resolved_at",
                "reopened",
                "accepted_by",
                "accepted_reason",
                "accepted_until",
            ],
            batch_size=500,
        )
        new = [
            PolicyFinding(
                rule_id=v.rule_id,
                app_id=v.app_pk,
                scope_id=v.scope_id,
                state=PolicyFinding.State.OPEN,
                first_seen_at=now,
                **{name: getattr(v, name) for name in _FIELDS},
            )
            for v in found.values()
        ]
        # A concurrent evaluation (a write beside a sync) may have opened the
        # same finding: the unique constraint keeps one.
        PolicyFinding.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
        opened += new
        open_now = PolicyFinding.objects.filter(state=PolicyFinding.State.OPEN)
        if ids is not None:
            open_now = open_now.filter(app_id__in=ids)
        count = open_now.count()
    _alert(opened, version)
    return Evaluation(version.pk, len(opened), len(resolve), count)


def _reopen(finding: PolicyFinding) -> None:
    finding.state = PolicyFinding.State.OPEN
    finding.resolved_at = None
    finding.accepted_by = finding.accepted_reason = ""
    finding.accepted_until = None


def _alert(opened: list[PolicyFinding], version: PolicyVersion) -> None:
    if not opened:
        return
    if len(opened) > ALERT_EACH_UP_TO:
        by_rule: dict[str, int] = defaultdict(int)
        for f in opened:
            by_rule[f.rule_id] += 1
        alerting.raise_alert(
            "policy_violation",
            risk=max((f.risk or "low" for f in opened), key=RISK_RANK.__getitem__),
            title=f"{len(opened)} new policy findings (policy v{version.pk})",
            details={"policy_version": version.pk, "by_rule": dict(by_rule)},
        )
        return
    apps = {a.pk: a for a in OktaApp.objects.filter(pk__in={f.app_id for f in opened})}
    for f in opened:
        alerting.raise_alert(
            "policy_violation",
            risk=f.risk or "low",
            title=f.message,
            details={
                "policy_version": version.pk,
                "rule": f.rule_id,
                "reopened": f.reopened,
            },
            app=apps.get(f.app_id),
            scope_id=f.scope_id,
            # Two evaluations at once (a write beside a sync) alert once per
            # finding and time it opened (``reopened`` counts the reopenings).
            key="finding:"
            + _sha(f"{f.rule_id}:{f.app_id}:{f.scope_id}:{f.reopened}:{version.pk}"),
        )


def evaluate_after_change(app_ids: list[int] | None = None, **_: Any) -> None:
    """Receiver of ``grants.signals.grant_state_changed``: evaluate the apps
    that changed (all after a sync). A failure is logged, never raised: the
    sync or the write that changed the grants has already happened."""
    try:
        # A savepoint: a failed evaluation leaves the caller's transaction usable.
        with transaction.atomic():
            evaluate(app_ids)
    except Exception:
        logger.exception("policy evaluation after a grant change failed")


def accept(
    finding_pk: int,
    *,
    actor: Actor,
    reason: str,
    days: int,
    now: datetime | None = None,
) -> PolicyFinding:
    """Accept an open (or re-accept an accepted) finding's risk for ``days``
    days (1 .. ``settings.GOVERNANCE_ACCEPT_MAX_DAYS``) with ``reason``
    (1 .. 500 characters); audited ``policy_finding_accepted``. Raises
    ``PolicyFinding.DoesNotExist`` for an unknown finding and ValueError (a
    plain-words message) for a resolved one or bad input; nothing changes
    then."""
    reason = reason.strip()
    if not reason:
        raise ValueError("Say why the risk is accepted: the reason is required.")
    if len(reason) > REASON_MAX:
        raise ValueError(f"The reason is longer than {REASON_MAX} characters.")
    most = settings.GOVERNANCE_ACCEPT_MAX_DAYS
    if not 1 <= days <= most:
        raise ValueError(f"Accept the risk for 1 to {most} days, not {days}.")
    now = now or timezone.now()
    with transaction.atomic():
        finding = (
            PolicyFinding.objects.select_for_update()
            .select_related("app")
            .get(pk=finding_pk)
        )
        if finding.state == PolicyFinding.State.RESOLVED:
            raise ValueError(
                "This finding is resolved: the org complies, nothing to accept."
            )
        finding.state = PolicyFinding.State.ACCEPTED
        finding.accepted_by = actor.name[:300]
        finding.accepted_reason = reason
        finding.accepted_until = now + timedelta(days=days)
        finding.save(
            update_fields=["state", "accepted_by", "accepted_reason", "accepted_until"]
        )
        audit.record(
            "policy_finding_accepted",
            **actor.fields,
            app=finding.app,
            scope_id=finding.scope_id,
            detail={
                "finding": finding.pk,
                "rule": finding.rule_id,
                "reason": reason,
                "until": finding.accepted_until.isoformat(),
            },
        )
    return finding
