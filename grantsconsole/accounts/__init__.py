"""Super Admin sign-in through Okta's Org Authorization Server and token custody.

Public API for the console views lives in :mod:`grantsconsole.accounts.access`.
"""
