"""Governance state. Each part keeps its models in its own module and is
imported here so Django finds them."""

from grantsconsole.governance.alerts_models import (
    Alert,
    AlertDelivery,
    AlertDestination,
)
from grantsconsole.governance.owners_models import AppOwner

__all__ = ["Alert", "AlertDelivery", "AlertDestination", "AppOwner"]
