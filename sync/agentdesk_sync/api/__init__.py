"""HTTP routes of API v1 and the helpers they share (wire encoding, OpenAPI, loaders)."""

__all__: list[str] = []
