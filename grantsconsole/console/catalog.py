"""The Okta API scope catalog, arranged for the pages (grouped by resource, risk ranks).

Built once per process from :mod:`grantsconsole.okta.scopes` (CLIENT's catalog,
derived from ``spec/okta-scopes.yaml``). Nothing here queries the database.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from grantsconsole.okta import scopes as scope_catalog

RISK_RANK = scope_catalog.RISK_RANK
RANK_RISK = {rank: risk for risk, rank in RISK_RANK.items()}


@dataclass(frozen=True)
class Catalog:
    """The catalog as the pages use it.

    ``by_id`` maps scopeId → ScopeInfo; ``groups`` is ``[(resource, [ScopeInfo])]``
    sorted by resource, read before manage before self; ``by_risk`` maps a risk
    ("low" … "critical") to the scopeIds of manage scopes carrying it.
    """

    by_id: dict[str, Any]
    groups: list[tuple[str, list[Any]]]
    by_risk: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def get(self, scope_id: str) -> Any | None:
        return self.by_id.get(scope_id)

    def knows(self, scope_id: str) -> bool:
        return scope_id in self.by_id

    def is_manage(self, scope_id: str) -> bool:
        info = self.by_id.get(scope_id)
        if info is not None:
            return info.kind == "manage"
        return scope_id.endswith(".manage")

    def risk(self, scope_id: str) -> str:
        """The scope's risk when it is above low ("medium" … "critical"), else "".

        Rated above low: every manage scope and the reads that expose
        credentials or personal data (the rule is in ``okta.build_catalog``).
        An uncatalogued ``*.manage`` scope counts as "high": we cannot say what
        it reaches, so it is treated with care.
        """
        info = self.by_id.get(scope_id)
        if info is None:
            return "high" if scope_id.endswith(".manage") else ""
        return "" if info.risk == "low" else info.risk

    def risk_reason(self, scope_id: str) -> str:
        """Why the scope has its risk, in plain words that follow "This scope"
        (e.g. "reads every user's profile …")."""
        info = self.by_id.get(scope_id)
        if info is None:
            return "is not in the catalog: what it reaches is unknown"
        return info.risk_reason

    def asks_confirmation(self, scope_id: str) -> bool:
        """True when a grant of ``scope_id`` needs the risk confirmation and a
        recent sign-in: every scope rated above low (every manage scope, and
        reads exposing credentials or personal data), and every scope the
        catalog does not know (its reach is unknown, so it is treated as if
        high)."""
        return bool(self.risk(scope_id)) or not self.knows(scope_id)

    def resource(self, scope_id: str) -> str:
        info = self.by_id.get(scope_id)
        if info is not None:
            return info.resource
        return scope_catalog.resource_of(scope_id)


_KIND_ORDER = {"read": 0, "manage": 1, "self": 2}


@functools.cache
def get_catalog() -> Catalog:
    """Return the process-wide :class:`Catalog` (built on first use)."""
    infos = list(scope_catalog.all())
    by_id = {info.name: info for info in infos}
    grouped: dict[str, list[Any]] = {}
    for info in infos:
        grouped.setdefault(info.resource, []).append(info)
    groups = [
        (resource, sorted(items, key=lambda i: (_KIND_ORDER.get(i.kind, 3), i.name)))
        for resource, items in sorted(grouped.items())
    ]
    by_risk: dict[str, list[str]] = {}
    for info in infos:
        risk = getattr(info, "risk", "") or ""
        if info.kind == "manage" and risk:
            by_risk.setdefault(risk, []).append(info.name)
    return Catalog(
        by_id=by_id,
        groups=groups,
        by_risk={risk: tuple(sorted(ids)) for risk, ids in by_risk.items()},
    )
