"""agentdesk-sync: the central shared-data service (HTTP API v1)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
