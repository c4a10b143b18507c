"""Reaching a Docker engine: local socket, tcp:// or ssh://, shared by the collector and the remediation layer."""
