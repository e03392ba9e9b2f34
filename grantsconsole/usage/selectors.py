"""Reads of usage evidence for the pages, plans and reports: one query per
question, keyed by the app's ``client_id``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from grantsconsole.grants.models import OktaApp, ScopeGrant
from grantsconsole.usage.models import Observation, ScopeUsage
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
