"""Drift plan and apply: the grants and revokes that would make the org match
the policy in force, like ``terraform plan``, and running them through the
console's normal write path (``scope_writes.write_scopes``: intent and final
audit rows, and whatever gate that path applies).

Order: apps by label (then Okta id); within an app its grants first, then its
revokes, each by scopeId. Grants first is Terraform's create-before-destroy:
an app moving to a narrower scope (``okta.users.manage`` to
``okta.users.read``) never goes without both, and since ``manage`` implies
``read`` a revoke first would cut its reads too. When a grant of an app does
not succeed (Okta refused it, or it waits for approval), that app's revokes
are not attempted: the apply stops short rather than leave the app without
what the policy gives it.

What the plan leaves out: findings whose risk is accepted (until their
acceptance expires), and violations no grant or revoke fixes (an auth
method, a missing owner or end date), listed as ``unplanned``. A scope the
policy requires of an app while a rule forbids it there is a conflict: the
grant is not planned (it would open the other finding) and the plan lists it.

Nothing here runs by itself: the console's Apply (confirmed, stepped up) and
``manage.py policy plan`` call it. :func:`auto_remediations` names the revokes
whose rule says ``auto_remediate: true``, for an enforcer to apply.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from grantsconsole import okta_clients
from grantsconsole.governance import approvals, expiry, policies
from grantsconsole.governance.policies import RISK_RANK, Violation
from grantsconsole.governance.policy_models import PolicyFinding, PolicyVersion
from grantsconsole.grants import audit
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import OktaApp
from grantsconsole.grants.services.scope_writes import (
    ApprovalRequired,
    ScopeResult,
    write_scopes,
)
from grantsconsole.okta import OktaClient


@dataclass(frozen=True, slots=True)
class Step:
    """One planned write: ``verb`` "grant" or "revoke" ``scope_id`` on the
    app (its pk, Okta id and label), asked for by ``rules`` (their ids), at
    ``risk`` (the riskiest of them); ``auto_remediate`` when one of those
    rules says so."""

    verb: str
    app_pk: int
    okta_id: str
    app_label: str
    scope_id: str
    rules: tuple[str, ...]
    risk: str
    auto_remediate: bool = False

    @property
    def line(self) -> str:
        sign = "+" if self.verb == "grant" else "-"
        return f"{sign} {self.verb} {self.scope_id}"


@dataclass(frozen=True, slots=True)
class Conflict:
    app_label: str
    okta_id: str
    scope_id: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """``version``: the policy version planned against (None: no policy in
    force, nothing planned); ``steps`` in the order they would run;
    ``unplanned``: violations no grant or revoke fixes; ``conflicts``;
    ``accepted``: violations left out because their risk is accepted."""

    version: PolicyVersion | None
    steps: tuple[Step, ...] = ()
    unplanned: tuple[Violation, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    accepted: int = 0

    @property
    def grants(self) -> int:
        return sum(s.verb == "grant" for s in self.steps)

    @property
    def revokes(self) -> int:
        return sum(s.verb == "revoke" for s in self.steps)

    @property
    def fingerprint(self) -> str:
        """sha256 (hex) of the steps in order: what a confirmation names, so
        an apply runs only the plan the admin saw."""
        text = "\n".join(f"{s.verb} {s.okta_id} {s.scope_id}" for s in self.steps)
        return hashlib.sha256(text.encode()).hexdigest()


def make_plan(*, store: bool = True) -> Plan:
    """The plan against the policy in force and the local grant state (no
    Okta call; reads the policy file first when one is set, and stores a
    changed one unless ``store`` is False: pages write nothing on GET)."""
    version, policy = policies.in_force(store=store)
    if policy is None:
        return Plan(None)
    found = policies.violations(policy)
    accepted = set(
        PolicyFinding.objects.filter(
            state=PolicyFinding.State.ACCEPTED, accepted_until__gt=timezone.now()
        ).values_list("rule_id", "app_id", "scope_id")
    )
    wanted: dict[tuple[int, str, str], list[Violation]] = defaultdict(list)
    unplanned: list[Violation] = []
    left_out = 0
    for key, v in found.items():
        if key in accepted:
            left_out += 1
        elif v.remedy:
            wanted[(v.app_pk, v.remedy, v.scope_id)].append(v)
        else:
            unplanned.append(v)
    apps = {
        pk: (okta_id, label, kind)
        for pk, okta_id, label, kind in OktaApp.objects.filter(
            pk__in={k[0] for k in wanted} | {v.app_pk for v in unplanned}
        ).values_list("pk", "okta_id", "label", "application_type")
    }
    steps: list[Step] = []
    conflicts: list[Conflict] = []
    for (app_pk, verb, scope_id), vs in wanted.items():
        okta_id, label, kind = apps[app_pk]
        forbidden_by = [
            r.id
            for r in policy.rules
            if verb == "grant"
            and r.kind == "forbid_scopes"
            and r.applies_to(kind)
            and r.scopes.matches(scope_id)
            and not (r.unless_allowlisted and policy.allowlisted(okta_id, scope_id))
        ]
        if forbidden_by:
            # Granting it would open a finding of the rule that forbids it.
            rules = sorted({v.rule_id for v in vs} | set(forbidden_by))
            conflicts.append(Conflict(label, okta_id, scope_id, tuple(rules)))
            continue
        steps.append(
            Step(
                verb=verb,
                app_pk=app_pk,
                okta_id=okta_id,
                app_label=label,
                scope_id=scope_id,
                rules=tuple(sorted({v.rule_id for v in vs})),
                risk=max((v.risk for v in vs), key=RISK_RANK.__getitem__),
                auto_remediate=any(v.auto_remediate for v in vs),
            )
        )
    steps.sort(key=_order)
    unplanned.sort(key=lambda v: (apps[v.app_pk][1].lower(), v.rule_id, v.scope_id))
    return Plan(
        version,
        tuple(steps),
        tuple(unplanned),
        tuple(sorted(conflicts, key=lambda c: (c.app_label.lower(), c.scope_id))),
        left_out,
    )


def _order(step: Step) -> tuple[str, str, int, str]:
    return (step.app_label.lower(), step.okta_id, step.verb != "grant", step.scope_id)


def render(plan: Plan) -> str:
    """The plan as text, like ``terraform plan``: one block per app, ``+``
    for a grant and ``-`` for a revoke, then the summary line."""
    if plan.version is None:
        return "No policy in force: nothing to plan.\n"
    v = plan.version
    where = v.path if v.source == PolicyVersion.Source.FILE else f"console, {v.author}"
    out = [f"Policy v{v.pk} ({where}, {v.created_at:%Y-%m-%d %H:%M} UTC)", ""]
    current = None
    for step in plan.steps:
        if step.okta_id != current:
            if current is not None:
                out.append("")
            out.append(f"  # {step.app_label} ({step.okta_id})")
            current = step.okta_id
        auto = ", auto-remediate" if step.auto_remediate else ""
        out.append(f"  {step.line:<48} # {', '.join(step.rules)} ({step.risk}{auto})")
    if plan.steps:
        out.append("")
    for c in plan.conflicts:
        out.append(
            f"  ! {c.app_label} ({c.okta_id}): {c.scope_id} is both required and "
            f"forbidden ({', '.join(c.rules)}); not planned."
        )
    if not plan.steps:
        out.append("No changes. The org's grants match the policy.")
    else:
        out.append(f"Plan: {plan.grants} to grant, {plan.revokes} to revoke.")
    if plan.unplanned:
        out.append(
            f"{len(plan.unplanned)} finding(s) need a change that no grant or revoke "
            "makes (auth method, owner, end date): see the policy page."
        )
    if plan.accepted:
        out.append(f"{plan.accepted} finding(s) left out: their risk is accepted.")
    return "\n".join(out) + "\n"


@dataclass(frozen=True, slots=True)
class StepResult:
    """What applying one step did: ``result`` is the write path's
    :class:`ScopeResult` when the step was sent, else None and ``message``
    says why it was not attempted."""

    step: Step
    result: ScopeResult | None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.ok


def apply(
    steps: Iterable[Step], *, client: OktaClient, actor: Actor
) -> list[StepResult]:
    """Run ``steps`` (a plan's, in its order) through the normal write path
    with ``client`` acting as ``actor``: per app, its grants in one
    ``write_scopes("grant", ...)``, then, only when every grant succeeded,
    its revokes in one ``write_scopes("revoke", ...)``. A grant that needs a
    second Super Admin (``ApprovalRequired``) opens a request instead and holds
    back the app's revokes. An app that is no
    longer present is not written to. Okta errors never raise (they are
    failed results, each audited by the write path)."""
    by_app: dict[int, list[Step]] = defaultdict(list)
    for step in steps:
        by_app[step.app_pk].append(step)
    apps = OktaApp.objects.in_bulk(list(by_app))
    results: list[StepResult] = []
    for app_pk, app_steps in by_app.items():
        app = apps.get(app_pk)
        if app is None or app.removed_at is not None:
            results += [
                StepResult(s, None, "Not attempted: the app is no longer in Okta.")
                for s in app_steps
            ]
            continue
        blocked = False
        for verb in ("grant", "revoke"):
            batch = [s for s in app_steps if s.verb == verb]
            if not batch:
                continue
            if blocked:
                results += [
                    StepResult(
                        s,
                        None,
                        "Not attempted: a grant to this app before it did not "
                        "succeed, and the plan grants before it revokes.",
                    )
                    for s in batch
                ]
                continue
            try:
                done = write_scopes(
                    verb,
                    client=client,
                    app=app,
                    scope_ids=[s.scope_id for s in batch],
                    actor=actor,
                )
            except ApprovalRequired as gated:
                # Nothing was written: the grant waits for a second Super
                # Admin, and the app's revokes wait for the grant.
                opened = approvals.request_for_plan(
                    app, gated.scope_ids, actor, "the policy's drift plan"
                )
                waiting = ", ".join(f"#{r.pk}" for r in opened)
                results += [
                    StepResult(
                        s,
                        None,
                        f"Waiting for approval: request {waiting} opened for a "
                        "second Super Admin; nothing was sent to Okta.",
                    )
                    for s in batch
                ]
                blocked = True
                continue
            by_scope = {r.scope_id: r for r in done}
            for s in batch:
                results.append(StepResult(s, by_scope.get(s.scope_id)))
            blocked = not all(r.ok for r in done)
    return results


def enforce_auto_remediations() -> list[StepResult]:
    """Apply :func:`auto_remediations` with the optional enforcer (the beat
    task's body): its own token, so Okta's System Log names it, and one
    ``policy_enforced`` audit row per step naming the rules that asked for
    it. Returns [] when the enforcer is off (the findings' alerts stand).
    Raises EnforcerUnavailable outside a worker process."""
    if not okta_clients.enforcer_configured():
        return []
    steps = auto_remediations()
    if not steps:
        return []
    actor = expiry.enforcer_actor()
    results = apply(steps, client=okta_clients.enforcer_client(), actor=actor)
    for done in results:
        audit.record(
            "policy_enforced",
            **actor.fields,
            app=OktaApp.objects.filter(pk=done.step.app_pk).first(),
            scope_id=done.step.scope_id,
            outcome="success" if done.ok else "failure",
            okta_request_id=done.result.okta_request_id if done.result else "",
            detail={
                "rules": list(done.step.rules),
                **({} if done.ok else {"error": done.message or done.result.message}),
            },
        )
    return results


def auto_remediations() -> list[Step]:
    """The planned revokes that a rule marked ``auto_remediate: true`` asks
    for: what an enforcer (a credential that may manage grants, off by
    default) may apply with :func:`apply` without a person. Grants are never
    automatic."""
    return [s for s in make_plan().steps if s.verb == "revoke" and s.auto_remediate]
