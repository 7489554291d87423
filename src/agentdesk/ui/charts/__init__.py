"""charts of the desktop."""

__all__: list[str] = []
