"""How fast the grants policy evaluates: 5,000 apps against 20 rules (not a test).

Usage: ``.venv/bin/python bench/policy_eval.py [--apps 5000] [--grants-per-app 10]
[--repeat 3]``. A scratch SQLite database (``migrate`` in a temp dir) is filled
with ``--apps`` OIDC apps of the four types, ``--grants-per-app`` open read
grants each plus 0-2 manage grants (one app in four holds one, one in four
two; a fifth of all grants have an end time), the auth
method of each app (``AppControls``) and an owner for a third of them. The
policy has 20 rules (16 ``forbid_scopes``, 3 ``require_auth_method``, 1
``require_owner_and_end``) and 50 per-app ``allowed_scopes`` entries.

Timed, each the median of ``--repeat`` runs:

- ``violations``: judging every app against every rule (the reads and the
  rules, no writes);
- ``evaluate (first)``: the first evaluation, which opens every finding;
- ``evaluate (steady)``: an evaluation with nothing changed (what runs after
  each sync);
- ``plan``: the drift plan (``plans.make_plan``).

Target: an evaluation ≤ 2 s. Prints a table and writes
``bench/results/policy_eval-*.json``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

READS = [
    "okta.users.read",
    "okta.groups.read",
    "okta.apps.read",
    "okta.logs.read",
    "okta.roles.read",
    "okta.devices.read",
    "okta.policies.read",
    "okta.authorizationServers.read",
]
MANAGES = [
    "okta.users.manage",
    "okta.groups.manage",
    "okta.apps.manage",
    "okta.appGrants.manage",
    "okta.roles.manage",
    "okta.policies.manage",
    "okta.authorizationServers.manage",
    "okta.apiTokens.manage",
    "okta.domains.manage",
    "okta.brands.manage",
]
TYPES = ("web", "browser", "native", "service")
METHODS = ("client_secret_basic", "private_key_jwt", "none", "client_secret_post")


def policy_text(n_apps: int) -> str:
    lines = ["version: 1", "apps:"]
    for i in range(0, n_apps, max(n_apps // 50, 1))[:50]:
        lines += [
            f"  0oaP{i:06d}:",
            f"    allowed_scopes: [{', '.join(READS[:4])}, okta.users.manage]",
        ]
    lines.append("rules:")
    for i, scope in enumerate(MANAGES):
        lines.append(
            f"  - {{id: forbid-{i}, kind: forbid_scopes, scopes: [{scope}], "
            "unless_allowlisted: true}"
        )
    lines += [
        "  - {id: public-no-manage, kind: forbid_scopes, app_types: [browser, native],"
        " scopes: [manage]}",
        "  - {id: web-no-glob, kind: forbid_scopes, app_types: [web],"
        " scopes: ['okta.*.manage'], unless_allowlisted: true}",
        "  - {id: no-logs-on-native, kind: forbid_scopes, app_types: [native],"
        " scopes: [okta.logs.read]}",
        "  - {id: no-tokens, kind: forbid_scopes, scopes: [okta.apiTokens.manage],"
        " risk: critical}",
        "  - {id: keys, kind: require_auth_method, app_types: [service],"
        " when_holding: [manage], method: private_key_jwt}",
        "  - {id: keys-web, kind: require_auth_method, app_types: [web],"
        " when_holding: [okta.users.manage], method: client_secret_jwt}",
        "  - {id: keys-any, kind: require_auth_method, app_types: [native],"
        " method: none}",
        "  - {id: owned-critical, kind: require_owner_and_end, min_risk: critical}",
        "  - {id: no-devices-on-web, kind: forbid_scopes, app_types: [web],"
        " scopes: [okta.devices.read]}",
        "  - {id: no-policies-on-spa, kind: forbid_scopes, app_types: [browser],"
        " scopes: ['okta.policies.*']}",
    ]
    return "\n".join(lines) + "\n"


def seed(n_apps: int, per_app: int) -> None:
    from django.utils import timezone

    from grantsconsole.governance.models import AppOwner
    from grantsconsole.grants.models import AppControls, OktaApp, ScopeGrant

    rng = random.Random(42)
    now = timezone.now()
    apps = OktaApp.objects.bulk_create(
        OktaApp(
            okta_id=f"0oaP{i:06d}",
            label=f"Policy app {i:05d}",
            client_id=f"0oaP{i:06d}",
            application_type=TYPES[i % 4],
            status="ACTIVE",
            sign_on_mode="OPENID_CONNECT",
            grants_state="ok",
            last_synced_at=now,
        )
        for i in range(n_apps)
    )
    grants = []
    for app in apps:
        # Mostly reads, as in real orgs: a third of the apps hold a manage scope.
        reads = rng.sample(READS, min(per_app, len(READS)))
        manages = rng.sample(MANAGES, rng.choice((0, 0, 1, 2)))
        for scope in (reads + manages)[: per_app + len(manages)]:
            grants.append(
                ScopeGrant(
                    app=app,
                    scope_id=scope,
                    okta_grant_id=f"oag{app.pk}{scope[-12:]}",
                    first_seen_at=now,
                    last_seen_at=now,
                    ends_at=now if rng.random() < 0.2 else None,
                )
            )
    ScopeGrant.objects.bulk_create(grants, batch_size=2000)
    AppControls.objects.bulk_create(
        AppControls(app=a, auth_method=METHODS[i % 4]) for i, a in enumerate(apps)
    )
    AppOwner.objects.bulk_create(
        AppOwner(app=a, login="owner@example.com", source="default", assigned_at=now)
        for a in apps[::3]
    )


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=5000)
    parser.add_argument("--grants-per-app", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = common.workdir("policy-eval")
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{work / 'policy.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "grantsconsole.settings",
            "LOG_LEVEL": "WARNING",
            "GOVERNANCE_POLICY_FILE": "off",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    from grantsconsole.governance import plans, policies
    from grantsconsole.governance.models import PolicyFinding
    from grantsconsole.grants.audit import Actor
    from grantsconsole.grants.models import ScopeGrant

    call_command("migrate", "--noinput", verbosity=0)
    seed(args.apps, args.grants_per_app)
    text = policy_text(args.apps)
    # Storing the version evaluates it once: the first evaluation.
    started = time.perf_counter()
    policies.save_from_console(text, actor=Actor(login="bench"))
    first = time.perf_counter() - started
    _, policy = policies.in_force()
    assert policy is not None
    assert len(policy.rules) == 20
    grants = ScopeGrant.objects.count()
    cpu = time.process_time()
    violations_s, found = timed(lambda: policies.violations(policy), args.repeat)
    steady_s, _ = timed(policies.evaluate, args.repeat)
    plan_s, plan = timed(plans.make_plan, args.repeat)
    cpu_per_run = (time.process_time() - cpu) / (3 * args.repeat)
    rows = [
        {"step": "violations", "seconds": f"{violations_s:.2f}"},
        {"step": "evaluate (first, incl. storing)", "seconds": f"{first:.2f}"},
        {"step": "evaluate (steady)", "seconds": f"{steady_s:.2f}"},
        {"step": "plan", "seconds": f"{plan_s:.2f}"},
        {"step": "CPU per timed run (mean)", "seconds": f"{cpu_per_run:.2f}"},
    ]
    print(
        f"{args.apps} apps, {grants} grants, "
        f"{len(policy.rules)} rules, {len(policy.apps)} app entries: "
        f"{len(found)} violations, {PolicyFinding.objects.count()} findings, "
        f"{len(plan.steps)} plan steps"
    )
    print(common.table(rows, ["step", "seconds"]))
    out = {
        "apps": args.apps,
        "grants": grants,
        "rules": len(policy.rules),
        "violations": len(found),
        "plan_steps": len(plan.steps),
        "violations_s": violations_s,
        "evaluate_first_s": first,
        "evaluate_steady_s": steady_s,
        "plan_s": plan_s,
        "cpu_per_run_s": cpu_per_run,
        "target_s": 2.0,
    }
    print(f"wrote {common.save('policy_eval', out)}")


if __name__ == "__main__":
    main()
