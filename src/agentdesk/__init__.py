"""agentdesk: the frontline desktop for telecom customer contact."""

__all__ = ["__version__"]

__version__ = "0.1.0"
