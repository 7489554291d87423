"""models of the desktop."""

__all__: list[str] = []
