"""Signals the grants app sends, so the parts built on it (governance) can act
on grant changes while the arrows keep pointing one way (the grants app never
imports them)."""

from django.dispatch import Signal

#: One app's open grants changed: a sync applied a change Okta showed, or a
#: console grant or revoke went through. Keywords ``app``: the OktaApp;
#: ``baseline``: True when the sync only recorded the app as first found (the
#: baseline: grants imported, not changes), False otherwise. Sent
#: inside the transaction that made the change, so a receiver's writes commit
#: (or roll back) with it. Per app: for work that concerns that app alone
#: (its default owner).
grants_changed = Signal()

#: The grant state as a whole may have changed: sent once the change is saved
#: (a console write, a "refresh this app") or at the end of a sync run.
#: ``app_ids``: the OktaApp pks concerned, or None after a sync (any app). Once
#: per run rather than per app: for work that looks at the whole org (the
#: policy's evaluation). Receivers must not raise: the change has happened.
grant_state_changed = Signal()

#: The System Log said an Okta user was deactivated (``user.lifecycle.deactivate``).
#: Keywords ``okta_user_id``, ``login`` (the target's ``alternateId``, may be
#: ""), ``at`` (the event's ``published``, aware UTC) and ``event_uuid``. Sent
#: inside the transaction that moves the log cursor past the event; may be sent
#: again for the same event after a crash (receivers are idempotent).
user_deactivated = Signal()

#: A grant or revoke made outside the console was recorded: ``event`` is its
#: ``external_grant`` / ``external_revoke`` AuditEvent and ``actor`` the System
#: Log actor behind it (``Actor.ip_address`` included). Sent inside the
#: transaction that recorded it (governance alerts on it once per row).
external_change = Signal()

#: An audit verification failed: ``verification`` is its AuditVerification row
#: (``problem``, ``problem_kind``, where and which row or checkpoint).
verification_failed = Signal()
