"""What a grant or revoke confirmation says about an app and a scope.

- :func:`app_facts`: the app's label, its type in words, who it acts as (a
  service app acts as itself; a web, single-page or native app acts as whoever
  signs in to it, within that person's admin role), and whether it is the
  console's or the worker's own app (``settings.OKTA_CONSOLE_CLIENT_ID``,
  ``settings.OKTA_WORKER_CLIENT_ID``).
- :func:`stops`: what stops working when a scope is revoked from one of those
  two apps. The scopes each needs, and the feature each enables, are the one
  table the Console health page shows too (``accounts.health.CONSOLE_FEATURES``
  and ``WORKER_FEATURES``).
- :func:`untyped`: the console-needed scopes whose id the admin did not type
  into the confirmation (the server refuses such a revoke, :func:`refusal`).
- :func:`stated_risk`: the risk a confirmation states for a scope.
- :func:`last_use`: what a revoke cuts: when each app last had the scope
  issued and exercised, and the verdict on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.http import QueryDict

from grantsconsole.accounts.health import CONSOLE_FEATURES, WORKER_FEATURES
from grantsconsole.console.catalog import get_catalog
from grantsconsole.grants.models import OktaApp
from grantsconsole.usage import selectors as usage
from grantsconsole.usage.verdicts import Coverage, Evidence, Judgement, judge

#: OktaApp.application_type -> the type in words
APP_TYPE_NAMES = {
    "service": "service app",
    "web": "web app",
    "browser": "single-page app (SPA)",
    "native": "native app",
}
USER_FACING = frozenset({"web", "browser", "native"})


@dataclass(frozen=True, slots=True)
class AppFacts:
    """One app as a confirmation names it.

    ``label``: its label (its Okta id when it has none); ``type_name``: e.g.
    "service app" ("" when Okta's app object has no OAuth client settings);
    ``acts_as``: one sentence on whose behalf the app uses its grants;
    ``own``: "console", "worker" or "" (any other app).
    """

    okta_id: str
    label: str
    type_name: str
    acts_as: str
    own: str


def own_app(app: OktaApp) -> str:
    """ "console" for the console's own app, "worker" for the worker's service
    app, else "". An OIDC app's Okta id is normally its client id; either counts."""
    ids = {app.client_id, app.okta_id} - {""}
    if settings.OKTA_CONSOLE_CLIENT_ID and settings.OKTA_CONSOLE_CLIENT_ID in ids:
        return "console"
    if settings.OKTA_WORKER_CLIENT_ID and settings.OKTA_WORKER_CLIENT_ID in ids:
        return "worker"
    return ""


def app_facts(app: OktaApp) -> AppFacts:
    """The :class:`AppFacts` of ``app`` (no query)."""
    kind = app.application_type
    if kind == "service":
        acts_as = (
            "A service app acts as itself: it uses its grants with the admin role "
            "assigned to it, without anyone signing in."
        )
    elif kind in USER_FACING:
        acts_as = (
            f"A {APP_TYPE_NAMES[kind]} acts as whoever signs in to it: it uses its "
            "grants within that person's admin role."
        )
    else:
        acts_as = (
            "Okta's app object names no OAuth type: the app may act as itself or as "
            "whoever signs in to it."
        )
    return AppFacts(
        okta_id=app.okta_id,
        label=app.label or app.okta_id,
        type_name=APP_TYPE_NAMES.get(kind, kind),
        acts_as=acts_as,
        own=own_app(app),
    )


def stops(app: OktaApp, scope_id: str) -> str:
    """What stops working if ``scope_id`` is revoked from ``app`` ("" when
    nothing of the console's: any app but the console's and the worker's own,
    or a scope they do not ask for)."""
    own = own_app(app)
    if own == "console":
        feature = CONSOLE_FEATURES.get(scope_id, "")
        return f"The console: {feature}" if feature else ""
    if own == "worker":
        feature = WORKER_FEATURES.get(scope_id, "")
        return f"The worker: {feature}" if feature else ""
    return ""


def stated_risk(scope_id: str) -> str:
    """The risk a confirmation states: the catalog's when above low, "high"
    for a scope the catalog does not know (its reach is unknown), else ""."""
    catalog = get_catalog()
    return catalog.risk(scope_id) or ("high" if not catalog.knows(scope_id) else "")


def refusal(scope_ids: list[str], owners: set[str]) -> str:
    """The message for a revoke confirmed without typing ``scope_ids``, which
    the ``owners`` ("console", "worker") need."""
    who = " and ".join(f"the {o}" for o in sorted(owners))
    them = "it" if len(scope_ids) == 1 else "them"
    return (
        f"Nothing was revoked: type {' and '.join(scope_ids)} exactly to confirm, "
        f"because {who} need{'s' if len(owners) == 1 else ''} {them}."
    )


def untyped(data: QueryDict, needed: list[str]) -> list[str]:
    """The scopeIds of ``needed`` that no ``typed`` field of ``data`` repeats
    exactly (surrounding spaces ignored), in the order given."""
    typed = {value.strip() for value in data.getlist("typed")}
    return [scope_id for scope_id in needed if scope_id not in typed]


@dataclass(frozen=True, slots=True)
class LastUse:
    """An app's latest ``evidence`` of one scope and the ``judgement`` on it."""

    evidence: Evidence
    judgement: Judgement


def last_use(
    apps: Iterable[OktaApp],
    scope_ids: Iterable[str],
    seen: Coverage,
    *,
    window_days: int,
) -> dict[tuple[str, str], LastUse]:
    """(app's Okta id, scopeId) -> its :class:`LastUse` over ``window_days``
    of the ``seen`` coverage, for every pair of ``apps`` and ``scope_ids``.
    One query (the evidence)."""
    apps, scope_ids = list(apps), list(scope_ids)
    found = usage.evidence([a.client_id for a in apps], scope_ids)
    return {
        (a.okta_id, s): LastUse(
            ev := found.get((a.client_id, s), usage.NO_EVIDENCE),
            judge(s, ev, seen, window_days=window_days),
        )
        for a in apps
        for s in scope_ids
    }
