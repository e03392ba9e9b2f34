"""Shared fixtures. The simulator is the network: no test reaches the internet."""
