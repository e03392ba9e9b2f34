"""Reads of usage evidence for the pages, plans and reports: one query per
question, keyed by the app's ``client_id``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Max, OuterRef, Subquery, Sum
from django.utils import timezone

from grantsconsole.grants.models import OktaApp, ScopeGrant
from grantsconsole.usage.models import Gap, Observation, ScopeUsage, SkippedEvents
from grantsconsole.usage.verdicts import (
    DEFAULT_WINDOW_DAYS,
    Coverage,
    Evidence,
    Judgement,
    judge,
    missing,
)

NO_EVIDENCE = Evidence()


def coverage() -> Coverage:
    """What stretch of the System Log has been read completely."""
    row = Observation.objects.filter(name="usage").first()
    if row is None:
        return Coverage(None, None)
    return Coverage(row.observed_from, row.observed_to)


def coverage_annotations() -> dict[str, Subquery]:
    """Scalar subqueries ``usage_observed_from`` and ``usage_observed_to`` (see
    :func:`coverage_of`): annotate them onto a query a page makes anyway, so
    coverage costs no query of its own."""
    row = Observation.objects.filter(name="usage")
    return {
        "usage_observed_from": Subquery(row.values("observed_from")[:1]),
        "usage_observed_to": Subquery(row.values("observed_to")[:1]),
    }


def coverage_of(row: Any) -> Coverage:
    """The coverage carried by a row annotated with :func:`coverage_annotations`."""
    return Coverage(row.usage_observed_from, row.usage_observed_to)


def evidence_annotations(scope_id: str) -> dict[str, Subquery]:
    """Scalar subqueries ``usage_issued_at`` and ``usage_exercised_at``: the
    latest evidence of ``scope_id`` for each row's ``client_id`` (None: never
    observed), for a list of apps that holds one scope (see
    :func:`evidence_of`). Each is one lookup of the (client_id, scope_id) key."""
    row = ScopeUsage.objects.filter(client_id=OuterRef("client_id"), scope_id=scope_id)
    return {
        "usage_issued_at": Subquery(row.values("last_issued_at")[:1]),
        "usage_exercised_at": Subquery(row.values("last_exercised_at")[:1]),
    }


def evidence_of(row: Any) -> Evidence:
    """The evidence carried by a row annotated with :func:`evidence_annotations`."""
    return Evidence(
        last_issued_at=row.usage_issued_at, last_exercised_at=row.usage_exercised_at
    )


def evidence(
    client_ids: Iterable[str], scope_ids: Iterable[str] | None = None
) -> dict[tuple[str, str], Evidence]:
    """The latest evidence per (client_id, scope_id) for these apps (and, when
    given, only these scopes); pairs never observed are absent."""
    qs = ScopeUsage.objects.filter(client_id__in=[c for c in client_ids if c])
    if scope_ids is not None:
        qs = qs.filter(scope_id__in=list(scope_ids))
    return {
        (row.client_id, row.scope_id): Evidence(
            last_issued_at=row.last_issued_at,
            last_exercised_at=row.last_exercised_at,
            last_denied_at=row.last_denied_at,
        )
        for row in qs
    }


@dataclass(frozen=True, slots=True)
class GrantUsage:
    """One held grant with its evidence and verdict."""

    grant: ScopeGrant
    evidence: Evidence
    judgement: Judgement


def app_usage(
    app: OktaApp,
    grants: Iterable[ScopeGrant],
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    seen: Coverage | None = None,
    found: Mapping[tuple[str, str], Evidence] | None = None,
) -> list[GrantUsage]:
    """Each of ``app``'s ``grants`` (its open grants, as the page lists them)
    with its evidence and verdict over ``window_days``. ``seen`` and ``found``
    (the app's evidence, from :func:`evidence`) save their query when the
    caller has them already."""
    grants = list(grants)
    seen = coverage() if seen is None else seen
    if found is None:
        found = evidence([app.client_id], {g.scope_id for g in grants})
    return [
        GrantUsage(
            grant=g,
            evidence=(ev := found.get((app.client_id, g.scope_id), NO_EVIDENCE)),
            judgement=judge(
                g.scope_id,
                ev,
                seen,
                window_days=window_days,
                held_since=g.created or g.first_seen_at,
            ),
        )
        for g in grants
    ]


def app_missing(
    app: OktaApp,
    held: Iterable[str],
    found: Mapping[tuple[str, str], Evidence],
    seen: Coverage,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> list[tuple[str, datetime | None]]:
    """The scopes ``app`` asked for and was denied within the window and does
    not hold (``verdicts.missing``), each with when it was last denied, sorted;
    from the app's evidence ``found`` (:func:`evidence` of its client_id, all
    scopes)."""
    denied = {
        scope_id: ev.last_denied_at
        for (client_id, scope_id), ev in found.items()
        if client_id == app.client_id and ev.last_denied_at is not None
    }
    return [
        (scope_id, denied[scope_id])
        for scope_id in missing(set(held), denied, seen, window_days=window_days)
    ]


@dataclass(frozen=True, slots=True)
class SkippedReason:
    """Events skipped for one ``reason`` over the last days: how many, the
    last UTC ``day`` it happened and one ``example_uuid`` to look up."""

    reason: str
    count: int
    last_day: date
    example_uuid: str


def skipped_summary(days: int = 30) -> list[SkippedReason]:
    """Events not used as evidence in the last ``days`` UTC days, per reason,
    most frequent first (one query)."""
    since = timezone.now().date() - timedelta(days=days)
    rows = (
        SkippedEvents.objects.filter(day__gte=since)
        .values("reason")
        .annotate(total=Sum("count"), last_day=Max("day"), example=Max("example_uuid"))
        .order_by("-total", "reason")
    )
    return [
        SkippedReason(r["reason"], r["total"], r["last_day"], r["example"] or "")
        for r in rows
    ]


def gaps(limit: int = 20) -> list[Gap]:
    """The newest stretches of the System Log the console could not read."""
    return list(Gap.objects.order_by("-started_at")[:limit])


@dataclass(frozen=True, slots=True)
class IngestionStatus:
    """How far the usage ingestion has read: the coverage (``seen``), how long
    ago its end was (``lag_seconds``, None before the first poll) and how many
    gaps were recorded."""

    seen: Coverage
    lag_seconds: float | None
    gaps: int


def ingestion_status() -> IngestionStatus:
    """The usage ingestion's progress, for health checks (two queries)."""
    seen = coverage()
    lag = (
        (timezone.now() - seen.observed_to).total_seconds()
        if seen.observed_to is not None
        else None
    )
    return IngestionStatus(seen, lag, Gap.objects.count())
