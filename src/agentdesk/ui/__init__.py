"""The Qt desktop: the only package (with ``agentdesk.app``) that imports PySide6 or pyqtgraph."""

__all__: list[str] = []
