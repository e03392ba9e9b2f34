"""Usage intelligence: which ``okta.*`` grants each app really uses.

Evidence comes from the System Log (token issuance by the Org Authorization
Server, denied token requests, and writes made with an app's token), kept here
longer than Okta's 90 days as daily roll-ups. See ``mapping`` (event type →
scope), ``verdicts`` (in use / unused / reducible / missing / no data yet).
"""
