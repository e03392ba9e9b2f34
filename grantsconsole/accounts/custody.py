"""Token custody: store, refresh, revoke and purge the admins' Okta tokens.

The only module that writes :class:`~grantsconsole.accounts.models.OktaCredential`
rows. Tokens come from the sign-in (authorization code + PKCE at the Org
Authorization Server) and from refreshes made by
:class:`grantsconsole.okta.UserTokenSource` (whose ``on_refresh`` lands in
:func:`store_refresh`). Revocation is Okta's ``POST /oauth2/v1/revoke``
through :func:`grantsconsole.okta_clients.console_authorization_server`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from grantsconsole import okta_clients
from grantsconsole.accounts.crypto import TokenDecryptionError
from grantsconsole.accounts.models import OktaCredential
from grantsconsole.okta import OktaError, TokenSet

logger = logging.getLogger("grantsconsole.accounts")


@dataclass(frozen=True, slots=True)
class SignInTokens:
    """Tokens and verified claims of one successful code exchange (in memory only).

    ``expires_at`` is the access token's expiry (aware UTC); ``scope`` the
    token response's granted scopes, space-separated; ``claims`` the verified ID
    token claims; ``userinfo`` the ``/oauth2/v1/userinfo`` response.
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    id_token: str = field(repr=False)
    expires_at: datetime
    scope: str
    claims: dict[str, Any]
    userinfo: dict[str, Any]

    @property
    def okta_user_id(self) -> str:
        return str(self.claims["sub"])

    @property
    def login(self) -> str:
        return str(
            self.userinfo.get("preferred_username")
            or self.claims.get("preferred_username")
            or self.userinfo.get("email")
            or self.claims.get("email")
            or ""
        )

    @property
    def display_name(self) -> str:
        """The user's name as the ``profile`` scope releases it (``name``, else
        ``given_name family_name``); "" without it."""
        for source in (self.userinfo, self.claims):
            name = str(source.get("name") or "").strip()
            if not name:
                parts = (source.get("given_name"), source.get("family_name"))
                name = " ".join(str(p).strip() for p in parts if p)
            if name:
                return name
        return ""

    @property
    def groups(self) -> tuple[str, ...]:
        """Names in the ID token's ``groups`` claim (empty when Okta sent none)."""
        groups = self.claims.get("groups")
        return tuple(str(g) for g in groups) if isinstance(groups, list) else ()

    @property
    def auth_time(self) -> datetime:
        """When the admin authenticated at Okta (``auth_time``, else ``iat``)."""
        value = self.claims.get("auth_time") or self.claims.get("iat")
        return datetime.fromtimestamp(float(value), tz=UTC)


def create_credential(
    user: Any, tokens: SignInTokens, access: str = OktaCredential.SUPER_ADMIN
) -> OktaCredential:
    """Encrypt and store the tokens of a Super Admin or auditor (``access``, an
    :class:`OktaCredential` access level) who just signed in."""
    now = timezone.now()
    cred = OktaCredential(
        user=user,
        okta_user_id=tokens.okta_user_id,
        login=tokens.login,
        access_expires_at=tokens.expires_at,
        scopes=tokens.scope,
        auth_time=tokens.auth_time,
        amr=[str(a) for a in tokens.claims.get("amr") or []],
        groups=list(tokens.groups),
        access=access,
        role_checked_at=now,
        last_used_at=now,
    )
    cred.set_tokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        id_token=tokens.id_token,
    )
    cred.save()
    return cred


def store_refresh(credential_id: Any, tokens: TokenSet) -> None:
    """``on_refresh`` target of the admin's client: re-encrypt and save the
    refreshed tokens of credential ``credential_id``."""
    with transaction.atomic():
        cred = (
            OktaCredential.objects.select_for_update().filter(pk=credential_id).first()
        )
        if cred is None:  # signed out meanwhile; the new tokens die with the process
            return
        cred.set_tokens(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            id_token=tokens.id_token,
        )
        cred.access_expires_at = datetime.fromtimestamp(tokens.expires_at, tz=UTC)
        if tokens.scope:
            cred.scopes = tokens.scope
        cred.save(
            update_fields=[
                "access_token_enc",
                "refresh_token_enc",
                "id_token_enc",
                "access_expires_at",
                "scopes",
            ]
        )
    logger.info("refreshed the Okta tokens of %s", cred.okta_user_id)


def revoke_token(token: str, hint: str) -> bool:
    """Revoke one token at Okta (``POST /oauth2/v1/revoke``); True when Okta
    answered 200 (also for a token already ended). ``hint``: "access_token" or
    "refresh_token". Never raises: failures are logged by kind, without the
    token."""
    if not token:
        return True
    try:
        okta_clients.console_authorization_server().revoke(token, hint)
    except OktaError as exc:
        logger.warning(
            "could not revoke an Okta %s: %s (HTTP %s)",
            hint,
            type(exc).__name__,
            exc.status or "-",
        )
        return False
    return True


def end_credential(cred: OktaCredential) -> str:
    """Revoke ``cred``'s tokens at Okta, delete the row and return the ID token
    (for the RP-logout ``id_token_hint``; "" if unreadable)."""
    try:
        access, refresh, id_token = cred.access_token, cred.refresh_token, cred.id_token
    except TokenDecryptionError:
        access = refresh = id_token = ""
    OktaCredential.objects.filter(pk=cred.pk).delete()
    # Revoking the refresh token first also ends the access tokens minted from it.
    revoke_token(refresh, "refresh_token")
    revoke_token(access, "access_token")
    return id_token


def purge_stale(now: datetime | None = None) -> int:
    """End (revoke + delete) credentials idle longer than ``SESSION_COOKIE_AGE``
    or older than ``SESSION_ABSOLUTE_SECONDS``; returns how many. For a periodic
    job: sessions that simply expire never tell the server."""
    now = now or timezone.now()
    idle_cutoff = now - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    absolute_cutoff = now - timedelta(seconds=settings.SESSION_ABSOLUTE_SECONDS)
    stale = list(
        OktaCredential.objects.filter(last_used_at__lt=idle_cutoff)
        | OktaCredential.objects.filter(created_at__lt=absolute_cutoff)
    )
    for cred in stale:
        end_credential(cred)
    return len(stale)
