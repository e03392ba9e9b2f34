"""grantsconsole: a web admin console for Okta Super Admins."""
