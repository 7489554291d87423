"""views of the desktop."""

__all__: list[str] = []
