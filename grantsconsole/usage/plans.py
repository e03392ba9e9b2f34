"""Least-privilege plans: what each app would hold if it held only what it uses,
and the exact steps that get it there, in the style of AWS IAM Access
Analyzer's generated policies.

Per app, from the verdicts of its open grants over a window
(:mod:`grantsconsole.usage.verdicts`):

- a **reducible** ``manage`` scope is downgraded: grant its ``read`` twin
  first (skipped when the app holds it), then revoke the ``manage`` scope, in
  that order, so the app never loses the reads it was issued;
- an **unused** scope is revoked; except the ``read`` twin of a reducible
  ``manage`` scope, which the downgrade keeps (the app was issued tokens that
  read through ``manage``);
- **in use** and **no data yet** grants produce no step (the verdict rules
  never say "unused" or "reducible" before the evidence covers the window).

**Risk removed** is one number per plan: the sum, over the scopes the plan
revokes, of the catalog's risk rank of each (``okta/scopes.py`` ``RISK_RANK``
of the rated risk: low 1, medium 2, high 3, critical 4), less the rank of each
``read`` twin the plan grants. Plans are sorted by it, largest first, then by
their riskiest revoked scope (then by when the console first saw the app).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Replace

from grantsconsole.grants.models import OktaApp, ScopeGrant
from grantsconsole.okta import scopes
from grantsconsole.usage import selectors
from grantsconsole.usage.models import Observation, ScopeUsage
from grantsconsole.usage.verdicts import (
    DEFAULT_WINDOW_DAYS,
    Coverage,
    Evidence,
    Verdict,
    judge,
    read_twin,
)

GRANT, REVOKE = "grant", "revoke"

# When a grant began, for the verdicts: Okta's created time, else when the
# console first saw it.
HELD_SINCE = Coalesce("created", "first_seen_at")


def rank(scope_id: str) -> int:
    """The catalog's risk rank of ``scope_id`` (low 1 … critical 4; an
    uncatalogued manage scope is high)."""
    return scopes.RISK_RANK[scopes.describe(scope_id).risk]


@dataclass(frozen=True, slots=True)
class Step:
    """One write of a plan: ``verb`` ("grant" or "revoke") ``scope_id``;
    ``why`` in plain words."""

    verb: str
    scope_id: str
    why: str

    @property
    def key(self) -> str:
        """``"<verb> <scope_id>"``: how a confirmation names the step."""
        return f"{self.verb} {self.scope_id}"


@dataclass(frozen=True, slots=True)
class AppPlan:
    """One app's least-privilege plan over ``window_days``.

    ``held``: its open grants now; ``reduced``: what it holds once the steps
    ran (sorted); ``steps``: in the order they must run; ``unused`` and
    ``reducible``: the scopes judged so; ``risk_removed``: see the module
    docstring; ``riskiest``: the highest risk rank among the scopes revoked
    (0: none).
    """

    app: OktaApp
    window_days: int
    held: tuple[str, ...]
    reduced: tuple[str, ...]
    steps: tuple[Step, ...]
    unused: tuple[str, ...]
    reducible: tuple[str, ...]
    risk_removed: int
    riskiest: int

    @property
    def step_keys(self) -> list[str]:
        return [s.key for s in self.steps]


def plan_for(
    app: OktaApp,
    held: Iterable[str],
    verdicts: dict[str, Verdict],
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> AppPlan:
    """The plan for ``app`` holding ``held`` scopes, given each one's verdict
    (``verdicts``: scope → verdict; a scope absent is treated as in use)."""
    held_set = set(held)
    reducible = sorted(
        (s for s in held_set if verdicts.get(s) == Verdict.REDUCIBLE),
        key=lambda s: (-rank(s), s),
    )
    kept_twins = {read_twin(s) for s in reducible}
    unused = sorted(
        (
            s
            for s in held_set
            if verdicts.get(s) == Verdict.UNUSED and s not in kept_twins
        ),
        key=lambda s: (-rank(s), s),
    )
    steps: list[Step] = []
    removed = 0
    for scope_id in reducible:
        twin = read_twin(scope_id)
        assert twin is not None  # the verdict needs one
        if twin not in held_set:
            steps.append(
                Step(GRANT, twin, f"Keeps the reads {scope_id} was issued for.")
            )
            removed -= rank(twin)
        steps.append(
            Step(
                REVOKE,
                scope_id,
                f"Issued, but no write needing it was logged in {window_days} days.",
            )
        )
        removed += rank(scope_id)
    for scope_id in unused:
        steps.append(
            Step(REVOKE, scope_id, f"Not issued in any token in {window_days} days.")
        )
        removed += rank(scope_id)
    reduced = (held_set - set(reducible) - set(unused)) | {
        read_twin(s) for s in reducible
    }
    return AppPlan(
        app=app,
        window_days=window_days,
        held=tuple(sorted(held_set)),
        reduced=tuple(sorted(s for s in reduced if s)),
        steps=tuple(steps),
        unused=tuple(unused),
        reducible=tuple(reducible),
        risk_removed=removed,
        riskiest=max((rank(s) for s in [*reducible, *unused]), default=0),
    )


def _plans_of(
    app_pks: Iterable[int], *, window_days: int, seen: Coverage
) -> dict[int, AppPlan]:
    """App pk → plan, for those of ``app_pks`` holding an open grant. One
    query: the open grants with their app's names and each one's evidence
    (plain values: a page of 50 apps' grants built as models cost more than
    the query)."""
    usage = ScopeUsage.objects.filter(
        client_id=OuterRef("app__client_id"), scope_id=OuterRef("scope_id")
    )
    rows = (
        ScopeGrant.objects.filter(app__in=list(app_pks), revoked_at__isnull=True)
        .annotate(
            issued_at=Subquery(usage.values("last_issued_at")[:1]),
            exercised_at=Subquery(usage.values("last_exercised_at")[:1]),
            held_since=HELD_SINCE,
        )
        .values_list(
            "app_id",
            "app__okta_id",
            "app__label",
            "app__client_id",
            "app__application_type",
            "scope_id",
            "issued_at",
            "exercised_at",
            "held_since",
        )
    )
    apps: dict[int, OktaApp] = {}
    held: dict[int, dict[str, Verdict | None]] = {}
    for row in rows:
        pk, okta_id, label, client_id, kind, scope_id, issued, exercised, since = row
        if pk not in apps:
            apps[pk] = OktaApp(
                pk=pk,
                okta_id=okta_id,
                label=label,
                client_id=client_id,
                application_type=kind,
            )
        # No client_id: no evidence can name the app, so no verdict either.
        held.setdefault(pk, {})[scope_id] = (
            judge(
                scope_id,
                Evidence(last_issued_at=issued, last_exercised_at=exercised),
                seen,
                window_days=window_days,
                held_since=since,
            ).verdict
            if client_id
            else None
        )
    return {
        pk: plan_for(
            apps[pk],
            verdicts,
            {s: v for s, v in verdicts.items() if v is not None},
            window_days=window_days,
        )
        for pk, verdicts in held.items()
    }


def plans_for_apps(
    apps: Iterable[OktaApp],
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    seen: Coverage | None = None,
) -> list[AppPlan]:
    """The plans of ``apps``, in the order given (one query, and the coverage
    unless ``seen`` is given)."""
    apps = list(apps)
    seen = selectors.coverage() if seen is None else seen
    found = _plans_of([a.pk for a in apps], window_days=window_days, seen=seen)
    return [
        dataclasses.replace(found[a.pk], app=a)
        if a.pk in found
        else plan_for(a, [], {}, window_days=window_days)
        for a in apps
    ]


def app_plan(
    app: OktaApp,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    seen: Coverage | None = None,
) -> AppPlan:
    """One app's plan (three queries, two with ``seen`` given)."""
    return plans_for_apps([app], window_days=window_days, seen=seen)[0]


def _reducible_scopes() -> list[str]:
    return [i.name for i in scopes.all() if read_twin(i.name) is not None]


@dataclass(slots=True)
class _Found:
    """One app's unused and reducible grants, and the read twins it holds of
    its reducible ones (what :func:`plan_for` needs to count risk removed)."""

    unused: set[str]
    reducible: set[str]
    held_twins: set[str]

    def revoked(self) -> set[str]:
        """The unused scopes a plan revokes: not the read twin it keeps."""
        return self.unused - {read_twin(s) for s in self.reducible}

    def score(self) -> tuple[int, int]:
        """Risk removed and the riskiest revoke, as :func:`plan_for` counts."""
        revoked = self.revoked()
        removed = sum(rank(s) for s in revoked) + sum(
            rank(s) - (0 if t in self.held_twins else rank(t))
            for s in self.reducible
            if (t := read_twin(s) or "")
        )
        return removed, max((rank(s) for s in revoked | self.reducible), default=0)


def _found(seen: Coverage, window_days: int) -> dict[int, _Found]:
    """App pk → its unused and reducible grants over the window, for every
    live app with one (judged in SQL as :func:`verdicts.judge` judges: not
    exercised by a logged write in the window, and not issued in it, or a
    manage scope with a read twin that was). One query; none before the
    evidence covers the window, or for an app without a client_id (no
    evidence can name it), nor for a grant held for less than the window."""
    if seen.observed_to is None or not seen.covers(window_days):
        return {}
    since = seen.observed_to - timedelta(days=window_days)
    usage = ScopeUsage.objects.filter(
        client_id=OuterRef("app__client_id"), scope_id=OuterRef("scope_id")
    )
    rows = (
        ScopeGrant.objects.filter(revoked_at__isnull=True, app__removed_at__isnull=True)
        .exclude(app__client_id="")
        # Held for the whole window (verdicts.judge's held_since).
        .alias(held_since=HELD_SINCE)
        .filter(held_since__lte=since)
        .exclude(Exists(usage.filter(last_exercised_at__gte=since)))
        .annotate(
            issued=Exists(usage.filter(last_issued_at__gte=since)),
            twin_held=Exists(
                ScopeGrant.objects.filter(
                    app=OuterRef("app"),
                    revoked_at__isnull=True,
                    scope_id=Replace(
                        OuterRef("scope_id"), Value(".manage"), Value(".read")
                    ),
                )
            ),
        )
        .filter(Q(issued=False) | Q(scope_id__in=_reducible_scopes()))
        .values_list("app_id", "scope_id", "issued", "twin_held")
    )
    found: dict[int, _Found] = {}
    for app_id, scope_id, issued, twin_held in rows:
        one = found.setdefault(app_id, _Found(set(), set(), set()))
        if not issued:
            one.unused.add(scope_id)
        else:
            one.reducible.add(scope_id)
            if twin_held:
                one.held_twins.add(read_twin(scope_id) or "")
    return found


@dataclass(frozen=True, slots=True)
class OrgPlans:
    """The org-wide plan: ``plans`` (one page of apps, sorted by risk
    removed), ``total_apps`` (apps with at least one step), the totals over
    all of them (``by_risk``: risk → {"unused", "reducible"} grant counts)
    and the coverage the verdicts were judged on."""

    plans: list[AppPlan]
    total_apps: int
    unused: int
    reducible: int
    risk_removed: int
    by_risk: dict[str, dict[str, int]]
    seen: Coverage
    window_days: int


#: how long the org-wide ranking may be reused while nothing it reads changed
RANKING_CACHE_SECONDS = 60


def _state() -> tuple[Coverage, str]:
    """The coverage and a key that changes whenever the org-wide ranking may:
    the evidence was written (the observation is saved with every poll), an
    app's grants changed (its ``last_change_at``) or an app appeared (the
    newest app row). One query."""
    newest = OktaApp.objects.order_by("-pk")
    row = (
        Observation.objects.filter(name="usage")
        .annotate(
            changed=Subquery(
                OktaApp.objects.filter(last_change_at__isnull=False)
                .order_by("-last_change_at")
                .values("last_change_at")[:1]
            ),
            newest=Subquery(newest.values("pk")[:1]),
        )
        .first()
    )
    if row is None:
        return Coverage(None, None), ""
    key = f"{row.updated_at.isoformat()}:{_iso(row.changed)}:{row.newest}"
    return Coverage(row.observed_from, row.observed_to), key


def _ranking(
    seen: Coverage, window_days: int
) -> tuple[list[tuple[int, int, int]], dict[str, dict[str, int]]]:
    """``(app pk, risk removed, riskiest)`` of every app with a step, sorted,
    and the unused and reducible grant counts by risk. One query."""
    found = _found(seen, window_days)
    scored = sorted(
        ((pk, *f.score()) for pk, f in found.items()),
        key=lambda row: (-row[1], -row[2], row[0]),
    )
    by_risk: dict[str, dict[str, int]] = {
        risk: {"unused": 0, "reducible": 0}
        for risk, r in sorted(scopes.RISK_RANK.items(), key=lambda kv: -kv[1])
        if r
    }
    for f in found.values():
        for s in f.reducible:
            by_risk[scopes.describe(s).risk]["reducible"] += 1
        for s in f.revoked():
            by_risk[scopes.describe(s).risk]["unused"] += 1
    return scored, by_risk


def org_plans(
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    offset: int = 0,
    limit: int | None = 50,
    cached: bool = False,
) -> OrgPlans:
    """Every live app's plan with at least one step, sorted by risk removed
    (largest first), ``limit`` apps from ``offset`` (None: all).

    The ranking reads every open grant (a few hundred ms at 50,000 grants);
    with ``cached`` (the pages) it is kept in Django's cache for up to
    ``RANKING_CACHE_SECONDS``, under a key that changes with the evidence and
    the grants (:func:`_state`), so a page never shows a ranking older than
    what it reads. Queries: the state, the ranking (unless cached), and the
    page's grants with their apps and evidence."""
    seen, state = _state()
    key = f"usage:ranking:{window_days}:{state}"
    ranked = cache.get(key) if cached and state else None
    if ranked is None:
        ranked = _ranking(seen, window_days)
        if cached and state:
            cache.set(key, ranked, RANKING_CACHE_SECONDS)
    scored, by_risk = ranked
    page = [
        pk for pk, _, _ in scored[offset : None if limit is None else offset + limit]
    ]
    found_plans = _plans_of(page, window_days=window_days, seen=seen)
    plans = [found_plans[pk] for pk in page if pk in found_plans]
    return OrgPlans(
        plans=[p for p in plans if p.steps],
        total_apps=len(scored),
        unused=sum(v["unused"] for v in by_risk.values()),
        reducible=sum(v["reducible"] for v in by_risk.values()),
        risk_removed=sum(row[1] for row in scored),
        by_risk=by_risk,
        seen=seen,
        window_days=window_days,
    )


@dataclass(frozen=True, slots=True)
class Missing:
    """A scope an app asked for and was denied within the window, and still
    does not hold ("requested, not granted")."""

    client_id: str
    scope_id: str
    last_denied_at: datetime
    app_okta_id: str  # "" when no live app has this client_id
    app_label: str


def missing(
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    limit: int | None = 100,
    seen: Coverage | None = None,
) -> list[Missing]:
    """Requested-not-granted scopes over the window, newest denial first, at
    most ``limit`` (None: all). One query."""
    seen = selectors.coverage() if seen is None else seen
    if seen.observed_to is None:
        return []
    since = seen.observed_to - timedelta(days=window_days)
    held = ScopeGrant.objects.filter(
        revoked_at__isnull=True,
        app__client_id=OuterRef("client_id"),
        scope_id=OuterRef("scope_id"),
    )
    app = OktaApp.objects.filter(
        client_id=OuterRef("client_id"), removed_at__isnull=True
    ).order_by("pk")
    rows = (
        ScopeUsage.objects.filter(last_denied_at__gte=since)
        .exclude(Exists(held))
        .annotate(
            app_okta_id=Subquery(app.values("okta_id")[:1]),
            app_label=Subquery(app.values("label")[:1]),
        )
        .order_by("-last_denied_at", "client_id", "scope_id")
        .values_list(
            "client_id", "scope_id", "last_denied_at", "app_okta_id", "app_label"
        )[:limit]
    )
    return [
        Missing(c, s, at, okta_id or "", label or "")
        for c, s, at, okta_id, label in rows
    ]


# Exports ---------------------------------------------------------------------

EXPORT_COLUMNS = (
    "app_okta_id",
    "app_label",
    "client_id",
    "order",
    "step",
    "scope_id",
    "risk",
    "why",
    "risk_removed",
    "reduced_set",
    "window_days",
)


def export_rows(org: OrgPlans) -> Iterator[list[Any]]:
    """The header, then one row per step of every plan, in the order they
    must run (``order`` counts from 1 within the app)."""
    yield list(EXPORT_COLUMNS)
    for plan in org.plans:
        for index, step in enumerate(plan.steps, start=1):
            yield [
                plan.app.okta_id,
                plan.app.label,
                plan.app.client_id,
                index,
                step.verb,
                step.scope_id,
                scopes.describe(step.scope_id).risk,
                step.why,
                plan.risk_removed,
                " ".join(plan.reduced),
                plan.window_days,
            ]


def as_json(org: OrgPlans) -> dict[str, Any]:
    """The org-wide plan as plain data: the window, coverage, totals and one
    object per app ({"app": {...}, "held", "reduced", "steps": [{"verb",
    "scope_id", "risk", "why"}], "unused", "reducible", "risk_removed"})."""
    return {
        "window_days": org.window_days,
        "coverage": {
            "observed_from": _iso(org.seen.observed_from),
            "observed_to": _iso(org.seen.observed_to),
            "days": org.seen.days(),
            "complete": org.seen.covers(org.window_days),
        },
        "totals": {
            "apps": org.total_apps,
            "unused": org.unused,
            "reducible": org.reducible,
            "risk_removed": org.risk_removed,
        },
        "plans": [
            {
                "app": {
                    "okta_id": p.app.okta_id,
                    "label": p.app.label,
                    "client_id": p.app.client_id,
                },
                "held": list(p.held),
                "reduced": list(p.reduced),
                "steps": [
                    {
                        "verb": s.verb,
                        "scope_id": s.scope_id,
                        "risk": scopes.describe(s.scope_id).risk,
                        "why": s.why,
                    }
                    for s in p.steps
                ],
                "unused": list(p.unused),
                "reducible": list(p.reducible),
                "risk_removed": p.risk_removed,
            }
            for p in org.plans
        ],
    }


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


# The daily report's section ------------------------------------------------

#: apps listed by name in the report's section (the exports have them all)
REPORT_TOP_APPS = 20


def report_section(*, window_days: int = DEFAULT_WINDOW_DAYS) -> dict[str, Any]:
    """The audit report's ``least_privilege`` section: {"window_days",
    "coverage_days", "complete" (the evidence covers the window; else every
    count is 0 and no grant is called unused), "unused", "reducible",
    "missing", "apps", "risk_removed" (counts now, kept in every report so
    the trend is read from past reports), "by_risk": {risk: {"unused",
    "reducible"}}, "top_apps": [{"okta_id", "label", "risk_removed",
    "steps": ["grant okta.x.read", "revoke okta.x.manage", ...]}]}."""
    org = org_plans(window_days=window_days, limit=REPORT_TOP_APPS)
    return {
        "window_days": window_days,
        "coverage_days": org.seen.days(),
        "complete": org.seen.covers(window_days),
        "unused": org.unused,
        "reducible": org.reducible,
        "missing": len(missing(window_days=window_days, limit=None, seen=org.seen)),
        "apps": org.total_apps,
        "risk_removed": org.risk_removed,
        "by_risk": org.by_risk,
        "top_apps": [
            {
                "okta_id": p.app.okta_id,
                "label": p.app.label,
                "risk_removed": p.risk_removed,
                "steps": p.step_keys,
            }
            for p in org.plans
        ],
    }
