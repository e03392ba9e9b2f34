"""Signals the grants app sends, so that apps built on it (governance) can act
on grant changes while the arrows keep pointing one way."""

from django.dispatch import Signal

#: Sent after a console write, a "refresh this app" or a sync run changed (or
#: may have changed) the local grant state, in the writer's transaction.
#: ``app_ids``: the OktaApp pks concerned, or None after a sync (any app).
#: Receivers must not raise: the change has happened.
grant_state_changed = Signal()
