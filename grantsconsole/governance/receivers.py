"""What governance does when the grants app signals a change (connected in
``GovernanceConfig.ready``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from grantsconsole.governance import owners
from grantsconsole.grants.models import OktaApp


def grants_changed(
    sender: Any, *, app: OktaApp, baseline: bool = False, **kwargs: Any
) -> None:
    """An app's grants changed: its default owner may have too. At the
    baseline the owner is recorded without an audit row of its own: the
    baseline's ``app_discovered`` row already names the app's grants."""
    owners.refresh_owner(app, audited=not baseline)


def user_deactivated(
    sender: Any,
    *,
    okta_user_id: str,
    login: str,
    at: datetime,
    event_uuid: str,
    **kwargs: Any,
) -> None:
    """An Okta user was deactivated: the apps they own are orphaned."""
    owners.orphan(okta_user_id, login, at=at, event_uuid=event_uuid)
