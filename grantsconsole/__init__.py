"""grantsconsole: a web admin console for Okta Super Admins."""

from grantsconsole.celery import app as celery_app

__all__ = ("celery_app",)
