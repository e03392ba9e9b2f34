"""``manage.py purge_okta_tokens``: end the Okta tokens of expired sessions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from grantsconsole.accounts import custody


class Command(BaseCommand):
    help = (
        "Revoke at Okta and delete the stored tokens of admin sessions idle longer "
        "than SESSION_COOKIE_AGE or older than SESSION_ABSOLUTE_SECONDS."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        ended = custody.purge_stale()
        self.stdout.write(f"Ended {ended} stale Okta session(s).")
