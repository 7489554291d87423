"""Small shared widgets: a coloured badge and a freshness label."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from agentdesk.ui.style import set_style_property

__all__ = ["Badge", "FreshnessLabel"]


class Badge(QLabel):
    """A rounded label whose colour comes from the ``tone`` property (QSS)."""

    def __init__(self, text: str = "", tone: str = "info", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setProperty("badge", True)
        self.set_tone(tone)

    def set_tone(self, tone: str) -> None:
        """``danger``, ``warning``, ``ok`` or ``info``."""
        set_style_property(self, "tone", tone)


class FreshnessLabel(QLabel):
    """ "synced 14:32": how fresh a panel's data is."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("freshness")
