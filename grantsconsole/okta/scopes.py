"""The okta.* scope catalog (package data ``scopes.json``) and the one rule for
"is this a manage scope, how risky, does granting it ask for confirmation"
(:func:`describe`, :func:`is_manage`, :func:`risk`, :func:`asks_confirmation`;
the database's ``ScopeGrant.risk_rank`` column is built from the same catalog
and :func:`kind_from_name`).

Metadata for display, never a gate: a scope the catalog does not know is still
shown, stored and sent; :func:`describe` labels it uncatalogued. The JSON is
generated from ``spec/okta-scopes.yaml`` and Okta's spec by
``python -m grantsconsole.okta.build_catalog`` (see there for the risk rule).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = [
    "RISK_RANK",
    "ScopeInfo",
    "all",
    "asks_confirmation",
    "describe",
    "get",
    "is_manage",
    "kind_from_name",
    "rated_ranks",
    "rated_reads",
    "resource_of",
    "risk",
    "spec_version",
]

_ACTIONS = ("read", "manage", "register")
# A scope's risk as a number, for sorting and SQL ("" = none worth stating).
RISK_RANK = {"": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


@dataclass(frozen=True, slots=True)
class ScopeInfo:
    """One Okta API scope.

    ``kind``: read | manage | self; ``risk``: low | medium | high | critical
    (low for self scopes and reads without credentials or personal data) and
    ``risk_reason`` why, in plain words; ``resource``: the scope's resource, e.g.
    "users" for okta.users.read; ``family``: management | oauth | myaccount |
    governance | access-gateway; ``catalogued``: False for scopes the catalog
    does not know (then name/kind/resource are inferred from the name).
    """

    name: str
    description: str
    kind: str
    resource: str
    risk: str
    risk_reason: str = ""
    family: str = ""
    status: str = ""
    grantable: str = ""
    catalogued: bool = True


def resource_of(scope_id: str) -> str:
    """Resource part of a scope name: "okta.apps.interclientTrust.manage" ->
    "apps.interclientTrust", "okta.users.read.self" -> "users", "ssf.read" ->
    "ssf". Names without a known action suffix are returned without "okta."."""
    parts = scope_id.split(".")
    if parts and parts[0] == "okta":
        parts = parts[1:]
    if len(parts) > 1 and parts[-1] == "self":
        parts = parts[:-1]
    if len(parts) > 1 and parts[-1] in _ACTIONS:
        parts = parts[:-1]
    return ".".join(parts) or scope_id


def kind_from_name(scope_id: str) -> str:
    """The kind a scope's name suggests, for scopes the catalog does not describe:
    "manage" for a name ending in ".manage" (case-sensitive; the SQL of
    ``ScopeGrant.risk_rank`` makes the same test), else "self" for ``*.self``
    and MyAccount scopes, else "read"."""
    if scope_id.endswith(".manage"):
        return "manage"
    if scope_id.endswith(".self") or ".myAccount." in scope_id:
        return "self"
    return "read"


@cache
def _load() -> tuple[str, dict[str, ScopeInfo]]:
    raw = json.loads(
        resources.files(__package__).joinpath("scopes.json").read_text("utf-8")
    )
    catalog = {
        item["name"]: ScopeInfo(
            name=item["name"],
            description=item["description"],
            kind=item["kind"],
            resource=resource_of(item["name"]),
            risk=item["risk"],
            risk_reason=item.get("risk_reason", ""),
            family=item.get("family", ""),
            status=item.get("status", ""),
            grantable=item.get("grantable_via_app_grants", ""),
        )
        for item in raw["scopes"]
    }
    return raw.get("spec_version", ""), catalog


def get(scope_id: str) -> ScopeInfo | None:
    """The catalog entry for ``scope_id``, or None if it is not catalogued."""
    return _load()[1].get(scope_id)


def describe(scope_id: str) -> ScopeInfo:
    """Like :func:`get` but never None: an unknown scope gets an entry with
    ``catalogued=False``, kind from :func:`kind_from_name`, and risk "high" if
    that is "manage" (unknown power), else "low"."""
    info = get(scope_id)
    if info is not None:
        return info
    kind = kind_from_name(scope_id)
    return ScopeInfo(
        name=scope_id,
        description="Not in the scope catalog (uncatalogued).",
        kind=kind,
        resource=resource_of(scope_id),
        risk="high" if kind == "manage" else "low",
        risk_reason="is not in the catalog: what it reaches is unknown",
        catalogued=False,
    )


def is_manage(scope_id: str) -> bool:
    """True for a manage scope (catalogued as such, or named ``*.manage``)."""
    return describe(scope_id).kind == "manage"


def risk(scope_id: str) -> str:
    """The scope's risk when it is above low ("medium" … "critical"), else "".

    Rated above low: every manage scope and the reads that expose credentials
    or personal data (the rule is in ``build_catalog``). An uncatalogued
    ``*.manage`` scope is "high": we cannot say what it reaches."""
    rated = describe(scope_id).risk
    return "" if rated == "low" else rated


def asks_confirmation(scope_id: str) -> bool:
    """True when a grant of ``scope_id`` needs the risk confirmation and a recent
    sign-in: every scope rated above low, and every scope the catalog does not
    know (its reach is unknown)."""
    return bool(risk(scope_id)) or get(scope_id) is None


def all() -> list[ScopeInfo]:
    """Every catalogued scope, sorted by name."""
    return list(_load()[1].values())


def spec_version() -> str:
    """Okta spec version the catalog was derived from (e.g. "2026.06.3")."""
    return _load()[0]


def rated_ranks() -> dict[int, list[str]]:
    """The catalog's scopes rated above low (every manage scope, and the reads
    that expose credentials or personal data) by risk rank (2-4, see
    ``RISK_RANK``), each list sorted: ``{4: ["okta.apps.manage", ...], ...}``.
    A scope missing here is low (rank 0 in SQL) or uncatalogued (``*.manage``:
    rank 3)."""
    ranks: dict[int, list[str]] = {}
    for info in all():
        if RISK_RANK[info.risk] > RISK_RANK["low"]:
            ranks.setdefault(RISK_RANK[info.risk], []).append(info.name)
    return {rank: sorted(names) for rank, names in sorted(ranks.items(), reverse=True)}


def rated_reads() -> list[str]:
    """The scopes of :func:`rated_ranks` that are not manage scopes, sorted."""
    return sorted(
        info.name
        for info in all()
        if info.kind != "manage" and RISK_RANK[info.risk] > RISK_RANK["low"]
    )
