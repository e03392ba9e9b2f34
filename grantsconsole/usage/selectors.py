"""Reads of usage evidence for the pages, plans and reports: one query per
question, keyed by the app's ``client_id``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max, Sum
from django.utils import timezone

from grantsconsole.grants.models import OktaApp, ScopeGrant
from grantsconsole.usage.models import Gap, Observation, ScopeUsage, SkippedEvents
from grantsconsole.usage.verdicts import (
    DEFAULT_WINDOW_DAYS,
    Coverage,
    Evidence,
    Judgement,
    judge,
)

NO_EVIDENCE = Evidence()


def coverage() -> Coverage:
    """What stretch of the System Log has been read completely."""
    row = Observation.objects.filter(name="usage").first()
    if row is None:
        return Coverage(None, None)
    return Coverage(row.observed_from, row.observed_to)


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
) -> list[GrantUsage]:
    """Each of ``app``'s ``grants`` (its open grants, as the page lists them)
    with its evidence and verdict over ``window_days``."""
    grants = list(grants)
    seen = coverage() if seen is None else seen
    found = evidence([app.client_id], {g.scope_id for g in grants})
    return [
        GrantUsage(
            grant=g,
            evidence=(ev := found.get((app.client_id, g.scope_id), NO_EVIDENCE)),
            judgement=judge(g.scope_id, ev, seen, window_days=window_days),
        )
        for g in grants
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
