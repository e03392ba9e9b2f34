"""Governance state. Each part keeps its models in its own module and is
imported here so Django finds them."""

from grantsconsole.governance.alerts_models import (
    Alert,
    AlertDelivery,
    AlertDestination,
)
from grantsconsole.governance.approvals_models import GrantRequest
from grantsconsole.governance.attestation_models import (
    AttestationItem,
    AttestationReminder,
    Campaign,
)
from grantsconsole.governance.owners_models import AppOwner
from grantsconsole.governance.policy_models import PolicyFinding, PolicyVersion

__all__ = [
    "Alert",
    "AlertDelivery",
    "AlertDestination",
    "AppOwner",
    "AttestationItem",
    "AttestationReminder",
    "Campaign",
    "GrantRequest",
    "PolicyFinding",
    "PolicyVersion",
]
