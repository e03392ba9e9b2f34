"""Governance state. Each part keeps its models in its own module and is
imported here so Django finds them."""

from grantsconsole.governance.owners_models import AppOwner
from grantsconsole.governance.policy_models import PolicyFinding, PolicyVersion

__all__ = ["AppOwner", "PolicyFinding", "PolicyVersion"]
