"""``python manage.py demo_governance``: once the demo org's first full sync has
filled the database, give the demo the governance state a new user should see:
a pending grant request (from the second Super Admin, for the first to approve)
and a grant ending in two days (its "grant expiring" alert goes to the demo's
webhook receiver). ``make run`` starts it beside the console; it does nothing
twice and never runs in production."""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from grantsconsole.governance import approvals, expiry
from grantsconsole.governance.approvals_models import GrantRequest
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import OktaApp, ScopeGrant, SyncRun

# Who asks (the demo's second Super Admin, so super.admin may approve), for
# which app and scope; and which grant ends soon. Demo org labels and scopes.
REQUESTER = Actor("", "security.admin@example.com")
REQUEST = ("Device Inventory", "okta.devices.manage")
JUSTIFICATION = (
    "Its token requests ask for okta.devices.manage and are denied "
    "(no_matching_scope): it needs to retire lost devices."
)
ENDING = ("Terraform Automation", "okta.appGrants.manage")
ENDS_IN = timedelta(days=2)


class Command(BaseCommand):
    help = "Seed the demo's pending request and expiring grant after the first sync."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            help="Seconds to wait for the first full sync (default: do not wait).",
        )

    def handle(self, *args, wait: float, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("The demo's governance state is for development only.")
        deadline = time.monotonic() + wait
        while not SyncRun.objects.filter(
            kind="full", status__in=("succeeded", "partial")
        ).exists():
            if time.monotonic() >= deadline:
                raise CommandError("No full sync has finished yet: nothing seeded.")
            time.sleep(1)
        self._request()
        self._ending()

    def _request(self) -> None:
        label, scope_id = REQUEST
        app = OktaApp.objects.filter(label=label, removed_at__isnull=True).first()
        if app is None or GrantRequest.objects.filter(app=app).exists():
            return
        request = approvals.open_request(app, scope_id, REQUESTER, JUSTIFICATION)
        self.stdout.write(f"Pending request #{request.pk}: {scope_id} for {label}")

    def _ending(self) -> None:
        label, scope_id = ENDING
        grant = ScopeGrant.objects.filter(
            app__label=label, scope_id=scope_id, revoked_at__isnull=True
        ).first()
        if grant is None or grant.ends_at is not None:
            return
        expiry.set_end_time(
            grant.app, scope_id, timezone.now() + ENDS_IN, Actor("", "make run")
        )
        self.stdout.write(f"{label}'s {scope_id} now ends in two days")
