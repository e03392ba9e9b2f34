"""The console a Super Admin uses: pages, forms and the read-side selectors they need.

Pages read only the local database (``grantsconsole.grants`` models); only grant,
revoke and "refresh from Okta" call Okta, through ``grantsconsole.grants.services``
with the signed-in admin's own token.
"""
