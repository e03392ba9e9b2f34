"""The role check: ``GET /api/v1/users/{userId}/roles`` with the admin's token.

Okta's Org Authorization Server puts every requested scope the console app holds
into the token whatever the user's role (silent downscoping), so a token that
carries ``okta.appGrants.manage`` proves nothing. An ACTIVE ``SUPER_ADMIN``
role assignment (direct or through a group) lets a user use the whole console.
An auditor (an ACTIVE role in ``ACCOUNTS_AUDITOR_ROLES``, default
``READ_ONLY_ADMIN``, or membership of the Okta group ``ACCOUNTS_AUDITOR_GROUP``
as the ID token's ``groups`` claim reported it at sign-in) may read the audit,
reports, exports and Console health, and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from grantsconsole.okta import (
    OktaClient,
    OktaError,
    OktaInsufficientScope,
    OktaNotFound,
    OktaPermissionDenied,
    OktaUnauthorized,
)

SUPER_ADMIN = "SUPER_ADMIN"

#: Why a user is (not) let in; stable codes used by pages, audit rows and tests.
REASONS = {
    "super_admin": "You are a Super Admin.",
    "auditor": (
        "You are an auditor: you may read the audit, reports, exports and Console "
        "health. Only Okta Super Admins may see apps and scopes, sync, or grant and "
        "revoke Okta API scopes."
    ),
    "no_admin_role": (
        "Your Okta account has no admin role. This console is for Okta Super "
        "Admins, because only a Super Admin can grant or revoke Okta API scopes, "
        "and for auditors."
    ),
    "not_super_admin": (
        "Your Okta account is an admin, but not a Super Admin. Only Super Admins may "
        "grant or revoke Okta API scopes, and your role does not make you an auditor "
        "either. Having "
        "okta.appGrants.manage in your token does not change that: Okta issues the "
        "scope to anyone who signs in and checks the role only when it is used."
    ),
    "missing_scope": (
        "The console could not check your admin role because its token lacks a "
        "scope. The console app's grant collection in Okta must include that scope "
        "(Applications > the console app > Okta API Scopes > Grant); then sign in "
        "again."
    ),
    "token_rejected": (
        "Okta did not accept the console's token for your account. Sign in again."
    ),
    "okta_unavailable": (
        "Okta could not be asked about your admin role right now (timeout, rate "
        "limit or server error). The console does not let anyone in without that "
        "check. Try again in a minute."
    ),
}


@dataclass(frozen=True, slots=True)
class RoleDecision:
    """Outcome of one roles lookup.

    ``allowed``: the user may sign in (a Super Admin or an auditor; see
    :attr:`super_admin`). ``reason`` is a key of :data:`REASONS`; ``roles`` the ACTIVE role types Okta
    returned; ``missing_scope`` the scope Okta said the token lacks (for
    ``missing_scope``); ``okta_request_id`` Okta's X-Okta-Request-Id if known.
    """

    allowed: bool
    reason: str
    roles: tuple[str, ...] = ()
    missing_scope: str = ""
    okta_request_id: str = ""

    @property
    def message(self) -> str:
        text = REASONS[self.reason]
        if self.reason == "missing_scope" and self.missing_scope:
            text = text.replace("lacks a scope", f"lacks {self.missing_scope}")
        return text

    @property
    def super_admin(self) -> bool:
        """True when the user may use the whole console and write."""
        return self.reason == "super_admin"

    @property
    def transient(self) -> bool:
        """True when the check could not be made (not a verdict on the user)."""
        return self.reason == "okta_unavailable"

    def audit_detail(self) -> dict[str, object]:
        return {
            "reason": self.reason,
            "roles": list(self.roles),
            "missing_scope": self.missing_scope,
        }


def auditor_roles() -> frozenset[str]:
    """The admin role types that make an auditor (``ACCOUNTS_AUDITOR_ROLES``)."""
    return frozenset(getattr(settings, "ACCOUNTS_AUDITOR_ROLES", ()) or ())


def check_access(
    client: OktaClient, okta_user_id: str, groups: Iterable[str] = ()
) -> RoleDecision:
    """Ask Okta for ``okta_user_id``'s role assignments with ``client``'s token.

    ``groups`` are the names of the user's Okta groups from the ID token's
    ``groups`` claim (empty when the claim is not configured). Never raises for
    Okta errors: they become a refusing decision (fail closed). A 403 without
    an insufficient-scope challenge means Okta refused a non-admin the roles
    read (E0000006), i.e. no admin role; such a user may still be an auditor
    through ``ACCOUNTS_AUDITOR_GROUP``.
    """
    group = str(getattr(settings, "ACCOUNTS_AUDITOR_GROUP", "") or "")
    in_group = bool(group) and group in set(groups)
    try:
        roles = client.list_user_roles(okta_user_id)
    except OktaInsufficientScope as exc:
        return RoleDecision(
            False,
            "missing_scope",
            missing_scope=exc.scope or "okta.roles.read",
            okta_request_id=exc.request_id,
        )
    except (OktaPermissionDenied, OktaNotFound) as exc:
        if in_group:
            return RoleDecision(True, "auditor", okta_request_id=exc.request_id)
        return RoleDecision(False, "no_admin_role", okta_request_id=exc.request_id)
    except OktaUnauthorized as exc:
        return RoleDecision(False, "token_rejected", okta_request_id=exc.request_id)
    except OktaError as exc:
        return RoleDecision(False, "okta_unavailable", okta_request_id=exc.request_id)
    active = tuple(
        sorted({r.type for r in roles if (r.status or "ACTIVE").upper() == "ACTIVE"})
    )
    if SUPER_ADMIN in active:
        return RoleDecision(True, "super_admin", roles=active)
    if in_group or auditor_roles() & set(active):
        return RoleDecision(True, "auditor", roles=active)
    if active:
        return RoleDecision(False, "not_super_admin", roles=active)
    return RoleDecision(False, "no_admin_role")
