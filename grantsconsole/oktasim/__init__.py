"""The Okta org simulator: a separate HTTP server that stands in for an Okta org.

It shares no code with ``grantsconsole.okta`` (a simulator that reused the client's
parsing could not catch the client's bugs) and no console code imports it.
"""
