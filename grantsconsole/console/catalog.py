"""The Okta API scope catalog, arranged for the pages (grouped by resource).

Built once per process from :mod:`grantsconsole.okta.scopes` (the catalog
generated from ``spec/``). Nothing here queries the database.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from grantsconsole.okta import scopes as scope_catalog

RISK_RANK = scope_catalog.RISK_RANK
RANK_RISK = {rank: risk for risk, rank in RISK_RANK.items()}


@dataclass(frozen=True)
class Catalog:
    """The catalog as the pages use it.

    ``by_id`` maps scopeId → ScopeInfo; ``groups`` is ``[(resource, [ScopeInfo])]``
    sorted by resource, read before manage before self.
    """

    by_id: dict[str, Any]
    groups: list[tuple[str, list[Any]]]

    def get(self, scope_id: str) -> Any | None:
        return self.by_id.get(scope_id)

    def knows(self, scope_id: str) -> bool:
        return scope_id in self.by_id

    # The rule itself lives in okta.scopes; the pages ask through the Catalog.
    def is_manage(self, scope_id: str) -> bool:
        """See ``okta.scopes.is_manage``."""
        return scope_catalog.is_manage(scope_id)

    def risk(self, scope_id: str) -> str:
        """See ``okta.scopes.risk`` ("" when low)."""
        return scope_catalog.risk(scope_id)

    def risk_reason(self, scope_id: str) -> str:
        """Why the scope has its risk, in plain words that follow "This scope"
        (e.g. "reads every user's profile …")."""
        info = self.by_id.get(scope_id)
        if info is None:
            return "is not in the catalog: what it reaches is unknown"
        return info.risk_reason

    def asks_confirmation(self, scope_id: str) -> bool:
        """See ``okta.scopes.asks_confirmation``."""
        return scope_catalog.asks_confirmation(scope_id)

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
    return Catalog(by_id=by_id, groups=groups)
