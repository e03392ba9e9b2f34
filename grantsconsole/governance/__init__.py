"""Governance of ``okta.*`` grants: owners, policy, approvals, expiring grants,
alerts and attestation. Arrows point one way: console → governance → usage and
grants → ``okta/``."""
