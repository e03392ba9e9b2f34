"""The audit report (daily, and on demand): build, store, export as CSV and JSON.

Sections of ``AuditReport.data`` (every time ISO-8601 UTC):

- ``period``: {"start", "end"}; ``generated_at``.
- ``notice``: "" when every live app's grants are current; else a plain
  sentence saying for how many apps grant data is unavailable or stale and since
  when (the details are in ``grants_unavailable``).
- ``critical_holders``: [{"scope_id", "description", "apps": [{"okta_id", "label",
  "since", "granted_by", "granted_by_id", "current", "as_of",
  "effective"}]}] — every
  catalogued ``manage`` scope of risk "critical" and the live apps holding it
  (scopes no app holds are listed with ``apps: []``). ``granted_by`` is who
  granted it as recorded (a login, a System Log actor, or Okta's ``createdBy``
  id), ``granted_by_id`` the Okta user id of that person when known ("" else).
  ``current`` is False for an app listed in ``grants_unavailable``: the grant
  is the last known one, as of ``as_of``. ``effective``: what the scope lets
  the app do, given its admin roles (grants/privilege.py), in words.
- ``changes``: [{"seq", "time", "action", "outcome", "actor_login", "actor_id",
  "app_okta_id", "app_label", "scope_id", "okta_request_id"}] — grants, revokes
  and app changes in the period (console and external), oldest first. Apps
  recorded by the baseline (the first full sync) are not changes.
- ``external_changes``: the subset of ``changes`` made outside the console
  (external_grant, external_revoke, app_removed, app_discovered, app_restored,
  privilege_change: a service app's admin roles changed in Okta).
- ``failed_attempts``: failed grant/revoke rows and authz_denied rows in the period.
- ``grants_unavailable``: [{"okta_id", "label", "reason", "error", "as_of"}] —
  live apps whose grants are not known to be current: ``reason`` "never read"
  (``error`` says why, if a read failed), "unreadable" (the last read failed;
  ``error`` is why) or "stale" (not read for longer than
  ``STALE_AFTER_FULL_SYNCS`` full-sync intervals: syncs are failing or not
  running). ``as_of`` is the last time they were read ("" if
  never): the local grants are Okta's state at that time.
- ``uncatalogued_scopes``: [{"scope_id", "apps": [okta_id, ...]}] — open grants of
  scopes the catalog does not know.
- ``foreign_issuer_grants``: [{"okta_id", "label", "scope_id", "issuer"}] — open
  grants naming an issuer other than the org (the Org Authorization Server is the
  only one that mints okta.* scopes, so these grants never work).
- ``api_service_integrations``: {"error", "integrations": [...]} — the OIN API
  service integrations, holders of scopes beside apps (shape in
  ``services.api_services.report_section``). Each ``critical_holders`` item
  also lists the integrations holding its scope (``integrations``: [{"okta_id",
  "name", "effective"}]); their additions and removals are in ``changes``.
- ``totals``: counts of the above plus apps and open grants.
- one section per entry of ``settings.AUDIT_REPORT_SECTIONS``, built by the
  app that owns it: ``least_privilege`` (``usage.plans.report_section``):
  unused and reducible grants by risk, the apps with the most risk to remove,
  and counts kept in every report so their trend is read from past reports.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from grantsconsole.grants.models import AuditEvent, AuditReport, OktaApp, ScopeGrant
from grantsconsole.grants.safe_csv import csv_lines
from grantsconsole.grants.services import api_services, controls, people
from grantsconsole.grants.services.privilege_sync import effective_lines
from grantsconsole.grants.services.verification import checkpoint_verified
from grantsconsole.okta import scope_catalog

CHANGE_ACTIONS = (
    "grant",
    "revoke",
    "external_grant",
    "external_revoke",
    "app_removed",
    "privilege_change",
    "app_discovered",
    "app_restored",
    "integration_discovered",
    "integration_removed",
    "integration_remove",
)
EXTERNAL_ACTIONS = (
    "external_grant",
    "external_revoke",
    "app_removed",
    "privilege_change",
    "app_discovered",
    "app_restored",
    "integration_discovered",
    "integration_removed",
)


#: an app's grants not read for this many full-sync intervals are stale
STALE_AFTER_FULL_SYNCS = 2


def _unavailable(now: datetime) -> list[dict[str, str]]:
    """The ``grants_unavailable`` section (see the module docstring)."""
    stale_before = now - timedelta(
        seconds=STALE_AFTER_FULL_SYNCS * settings.SYNC_FULL_EVERY
    )
    rows = []
    for app in (
        OktaApp.objects.with_synced_at()
        .filter(
            Q(grants_state=OktaApp.GrantsState.UNKNOWN)
            | Q(synced_at__isnull=True)
            | Q(synced_at__lt=stale_before),
            removed_at__isnull=True,
        )
        .order_by("label", "okta_id")
    ):
        if app.synced_at is None:
            reason = "never read"
        elif app.grants_state == OktaApp.GrantsState.UNKNOWN:
            reason = "unreadable"
        else:
            reason = "stale"
        rows.append(
            {
                "okta_id": app.okta_id,
                "label": app.label,
                "reason": reason,
                "error": app.grants_error
                if app.grants_state == OktaApp.GrantsState.UNKNOWN
                else "",
                "as_of": _iso(app.synced_at),
            }
        )
    return rows


def _notice(unavailable: list[dict[str, str]]) -> str:
    if not unavailable:
        return ""
    known = sorted(a["as_of"] for a in unavailable if a["as_of"])
    n = len(unavailable)
    return (
        f"Grant data is unavailable or stale for {n} app{'s' if n != 1 else ''}"
        + (f", the oldest as of {known[0]}" if known else "")
        + ". Their grants in this report are the last known ones, not current;"
        " see the apps whose grants are unavailable."
    )


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _event(row: AuditEvent) -> dict[str, Any]:
    """One audit row as the report lists it; an API service integration's row
    names the integration where an app's names the app."""
    integration = row.action.startswith("integration_") and isinstance(row.detail, dict)
    return {
        "seq": row.seq,
        "time": _iso(row.created_at),
        "action": row.action,
        "outcome": row.outcome,
        "actor_login": row.actor_login,
        "actor_id": row.actor_id,
        "app_okta_id": row.detail.get("integration", "")
        if integration
        else row.app_okta_id,
        "app_label": row.detail.get("name", "") if integration else row.app_label,
        "scope_id": row.scope_id,
        "okta_request_id": row.okta_request_id,
    }


def build_report(*, start: datetime, end: datetime) -> dict[str, Any]:
    """The report's data for events in [start, end) and the state now."""
    unavailable = _unavailable(timezone.now())
    integrations = api_services.report_section()
    not_current = {a["okta_id"]: a["as_of"] for a in unavailable}
    open_grants = list(
        ScopeGrant.objects.filter(revoked_at__isnull=True, app__removed_at__isnull=True)
        .select_related("app")
        .order_by("scope_id", "app__label")
    )
    by_scope: dict[str, list[ScopeGrant]] = {}
    for grant in open_grants:
        by_scope.setdefault(grant.scope_id, []).append(grant)

    critical_apps = {g.app.pk: g.app for g in open_grants}
    open_scopes: dict[int, list[str]] = {}
    for grant in open_grants:
        open_scopes.setdefault(grant.app_id, []).append(grant.scope_id)
    effective = effective_lines(list(critical_apps.values()), open_scopes)
    critical = [
        info
        for info in scope_catalog.all()
        if info.kind == "manage" and info.risk == "critical"
    ]
    critical_holders = [
        {
            "scope_id": info.name,
            "description": info.description,
            "apps": [
                {
                    "okta_id": g.app.okta_id,
                    "label": g.app.label,
                    "since": _iso(g.created or g.first_seen_at),
                    "granted_by": g.granted_by or g.created_by_id,
                    "granted_by_id": next(
                        (
                            v
                            for v in (g.created_by_id, g.granted_by)
                            if people.is_user_id(v)
                        ),
                        "",
                    ),
                    "current": g.app.okta_id not in not_current,
                    "as_of": not_current.get(g.app.okta_id, ""),
                    "effective": effective.get((g.app.pk, info.name), ""),
                }
                for g in by_scope.get(info.name, [])
            ],
            "integrations": [
                {
                    "okta_id": i["okta_id"],
                    "name": i["name"],
                    "effective": i["effective"].get(info.name, ""),
                }
                for i in integrations["integrations"]
                if info.name in i["scopes"]
            ],
        }
        for info in sorted(critical, key=lambda i: i.name)
    ]

    events = AuditEvent.objects.filter(created_at__gte=start, created_at__lt=end)
    changes = [
        _event(r)
        for r in events.filter(action__in=CHANGE_ACTIONS, outcome="success")
        .exclude(
            action__in=("app_discovered", "integration_discovered"),
            detail__has_key="baseline",
        )
        .order_by("seq")
    ]
    external = [c for c in changes if c["action"] in EXTERNAL_ACTIONS]
    failed = [
        _event(r)
        for r in events.filter(
            action__in=("grant", "revoke", "authz_denied"),
            outcome__in=("failure", "denied"),
        ).order_by("seq")
    ]
    uncatalogued = [
        {"scope_id": scope_id, "apps": [g.app.okta_id for g in grants]}
        for scope_id, grants in sorted(by_scope.items())
        if scope_catalog.get(scope_id) is None
    ]
    foreign_issuer = [
        {
            "okta_id": g.app.okta_id,
            "label": g.app.label,
            "scope_id": g.scope_id,
            "issuer": g.issuer,
        }
        for g in open_grants
        if not g.from_org_authorization_server
    ]
    return {
        "period": {"start": _iso(start), "end": _iso(end)},
        "generated_at": _iso(timezone.now()),
        "notice": _notice(unavailable),
        "critical_holders": critical_holders,
        "changes": changes,
        "external_changes": external,
        "failed_attempts": failed,
        "grants_unavailable": unavailable,
        "uncatalogued_scopes": uncatalogued,
        "foreign_issuer_grants": foreign_issuer,
        "api_service_integrations": integrations,
        "org_settings": controls.org_settings_report(),
        **{
            name: import_string(path)()
            for name, path in settings.AUDIT_REPORT_SECTIONS.items()
        },
        "totals": {
            "apps": OktaApp.objects.filter(removed_at__isnull=True).count(),
            "open_grants": len(open_grants),
            "apps_with_critical_scopes": len(
                {a["okta_id"] for h in critical_holders for a in h["apps"]}
            ),
            "changes": len(changes),
            "external_changes": len(external),
            "failed_attempts": len(failed),
            "grants_unavailable": len(unavailable),
            "uncatalogued_scopes": len(uncatalogued),
            "foreign_issuer_grants": len(foreign_issuer),
            "api_service_integrations": len(integrations["integrations"]),
        },
    }


def create_report(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    trigger: str = "command",
) -> AuditReport:
    """Build and store a report; default period: the 24 hours before now.

    Also signs the daily audit checkpoint, after checking the trail since the
    last one (``verification.checkpoint_verified``): never over a trail that
    fails verification."""
    end = end or timezone.now()
    start = start or end - timedelta(days=1)
    report = AuditReport.objects.create(
        period_start=start,
        period_end=end,
        trigger=trigger,
        data=build_report(start=start, end=end),
    )
    checkpoint_verified(trigger=f"report-{trigger}")
    return report


def report_as_json(report: AuditReport) -> str:
    """The stored report as pretty JSON (the ``data`` shape above)."""
    return json.dumps(report.data, indent=2, sort_keys=True, ensure_ascii=False)


CSV_COLUMNS = (
    "section",
    "scope_id",
    "app_okta_id",
    "app_label",
    "time",
    "action",
    "outcome",
    "actor_login",
    "actor_id",
    "actor_name",
    "okta_request_id",
    "detail",
    "effective_privilege",
)


def report_people(data: Any) -> people.Directory:
    """The directory rows of the people a report's ``data`` names (who
    granted critical scopes, who made the changes, who authorized API service
    integrations). One query."""
    data = data if isinstance(data, dict) else {}
    values: list[str] = []
    for holder in data.get("critical_holders", []):
        for app in holder.get("apps", []):
            values += [app.get("granted_by", ""), app.get("granted_by_id", "")]
    held = data.get("api_service_integrations") or {}
    values += [i.get("created_by_id", "") for i in held.get("integrations", [])]
    for key in ("changes", "external_changes", "failed_attempts"):
        for event in data.get(key, []):
            values += [event.get("actor_login", ""), event.get("actor_id", "")]
    return people.directory(values)


def _actor_columns(named: people.Named, stored_id: str) -> dict[str, str]:
    """``actor_login`` (a login, never a user id), ``actor_id`` and
    ``actor_name`` of a CSV row, from what the directory says."""
    if not named.okta_id:
        # Not a person ("worker", a service app): the stored text, if not an id.
        text = "" if people.is_user_id(named.text) else named.text
        return {"actor_login": text, "actor_id": stored_id, "actor_name": ""}
    return {
        "actor_login": named.login,
        "actor_id": named.okta_id,
        "actor_name": named.name,
    }


def report_as_csv(report: AuditReport) -> str:
    """The stored report flattened to CSV rows, one per fact, with a
    ``section`` column: notice (first, when grant data is unavailable or stale),
    critical_holder (``detail`` says when the grant is not current),
    change, external_change, failed_attempt, grants_unavailable (``time`` is
    the last read, ``detail`` the reason and Okta's answer),
    uncatalogued_scope, foreign_issuer_grant, api_service_integration (one
    row per scope it holds: ``app_okta_id``/``app_label`` are the
    integration's id and name, the actor columns who authorized it, ``detail``
    says it is one and its secrets' dates;
    a critical_holder row of an integration says so in ``detail`` too),
    org_setting (the public-client admin setting, when on), least_privilege
    (one row per risk with its unused and reducible counts, then one per app
    listed, ``detail`` its risk removed and steps). Reports stored before
    ``grants_unavailable`` existed give unreadable_app rows instead.
    ``actor_login`` holds a login (or "worker"), never an id: the Okta user
    id is in ``actor_id`` and the display name in ``actor_name``, both from
    the people directory as it is when exported (one query)."""
    rows: list[list[Any]] = [list(CSV_COLUMNS)]
    directory = report_people(report.data)

    def row(**values: Any) -> None:
        rows.append([values.get(c, "") for c in CSV_COLUMNS])

    data = report.data
    if data.get("notice"):
        row(section="notice", detail=data["notice"])
    for holder in data.get("critical_holders", []):
        for app in holder["apps"]:
            row(
                section="critical_holder",
                scope_id=holder["scope_id"],
                app_okta_id=app["okta_id"],
                app_label=app["label"],
                time=app["since"],
                **_actor_columns(
                    directory.resolve(app["granted_by"], app.get("granted_by_id", "")),
                    app.get("granted_by_id", ""),
                ),
                detail=""
                if app.get("current", True)
                else f"not current: last known as of {app['as_of'] or 'never'}",
                effective_privilege=app.get("effective", ""),
            )
        for item in holder.get("integrations", []):
            row(
                section="critical_holder",
                scope_id=holder["scope_id"],
                app_okta_id=item["okta_id"],
                app_label=item["name"],
                detail="API service integration",
                effective_privilege=item.get("effective", ""),
            )
    for section, key in (
        ("change", "changes"),
        ("external_change", "external_changes"),
        ("failed_attempt", "failed_attempts"),
    ):
        for event in data.get(key, []):
            named = directory.resolve(event["actor_login"], event["actor_id"])
            row(
                section=section, **{**event, **_actor_columns(named, event["actor_id"])}
            )
    for app in data.get("grants_unavailable", []):
        row(
            section="grants_unavailable",
            app_okta_id=app["okta_id"],
            app_label=app["label"],
            time=app["as_of"],
            detail=app["reason"] + (f": {app['error']}" if app["error"] else ""),
        )
    for app in data.get("unreadable_apps", []):
        row(
            section="unreadable_app",
            app_okta_id=app["okta_id"],
            app_label=app["label"],
            time=app["last_synced_at"],
            detail=app["error"],
        )
    for item in data.get("uncatalogued_scopes", []):
        for okta_id in item["apps"]:
            row(
                section="uncatalogued_scope",
                scope_id=item["scope_id"],
                app_okta_id=okta_id,
            )
    for item in data.get("foreign_issuer_grants", []):
        row(
            section="foreign_issuer_grant",
            scope_id=item["scope_id"],
            app_okta_id=item["okta_id"],
            app_label=item["label"],
            detail=f"issuer {item['issuer']} is not the org",
        )
    held = data.get("api_service_integrations") or {}
    if held.get("error"):
        row(section="api_service_integration", detail=held["error"])
    for item in held.get("integrations", []):
        secrets = ", ".join(
            f"{s['status'].lower() or 'unknown'} since {s['created'] or '?'}"
            for s in item["secrets"]
        )
        for scope_id in item["scopes"] or [""]:
            row(
                section="api_service_integration",
                scope_id=scope_id,
                app_okta_id=item["okta_id"],
                app_label=item["name"],
                time=item["created"],
                **_actor_columns(
                    directory.resolve(item["created_by_id"]), item["created_by_id"]
                ),
                detail=f"API service integration ({item['type']}); secrets: "
                + (secrets or item["secrets_error"] or "none"),
                effective_privilege=item.get("effective", {}).get(scope_id, ""),
            )
    least = data.get("least_privilege") or {}
    for risk, counts in least.get("by_risk", {}).items():
        row(
            section="least_privilege",
            detail=f"{risk}: {counts['unused']} unused, "
            f"{counts['reducible']} reducible over {least['window_days']} days",
        )
    for app in least.get("top_apps", []):
        row(
            section="least_privilege",
            app_okta_id=app["okta_id"],
            app_label=app["label"],
            detail=f"risk removed {app['risk_removed']}: "
            + ", then ".join(app["steps"]),
        )
    setting = data.get("org_settings", {}).get("client_privileges_setting", {})
    if setting.get("flag"):
        row(section="org_setting", time=setting["changed_at"], detail=setting["flag"])
    return "".join(csv_lines(rows))
