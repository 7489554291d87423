"""The agentdesk benchmark: ``python -m bench`` measures P1–P12 beside their raw floors."""

__all__: list[str] = []
