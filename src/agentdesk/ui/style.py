"""The QSS theme: one template with ``{{ token }}`` placeholders, filled from a token file.

Only this module calls ``setStyleSheet`` (on the application). Widgets pick rules by object
name and dynamic properties (``badge``, ``tone``, ``verdict``); after changing a property at
run time call :func:`repolish`.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from agentdesk.paths import resource_path

__all__ = ["apply_theme", "render_qss", "repolish", "resource_dir", "set_style_property"]

_TOKEN = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def resource_dir() -> Path:
    """The ``resources`` folder (installed wheel or source checkout)."""
    return resource_path()


def _read_tokens(text: str) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        tokens[name.strip()] = value.strip()
    return tokens


def render_qss(theme: str = "light") -> str:
    """The theme's stylesheet with every token replaced.

    Raises:
        KeyError: a token used in the template is missing from the token file.
    """
    folder = resource_dir() / "qss"
    template = (folder / f"{theme}.qss").read_text(encoding="utf-8")
    tokens = _read_tokens((folder / f"{theme}.tokens").read_text(encoding="utf-8"))
    return _TOKEN.sub(lambda m: tokens[m.group(1)], template)


def apply_theme(app: QApplication, theme: str = "light") -> None:
    """Install the theme on the whole application."""
    app.setStyleSheet(render_qss(theme))


def repolish(widget: QWidget) -> None:
    """Re-apply style rules after a dynamic property changed.

    A widget not polished yet (not shown so far) needs nothing: its first polish reads the
    property as it is then. Skipping it keeps window construction from touching the style
    from Python (PySide6 builds the Python types of QStyle's enums on that first touch).
    """
    if not widget.testAttribute(Qt.WidgetAttribute.WA_WState_Polished):
        return
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


def set_style_property(widget: QWidget, name: str, value: str) -> None:
    """Set a dynamic property the theme's rules select on; re-apply them only if it changed."""
    if widget.property(name) == value:
        return
    widget.setProperty(name, value)
    repolish(widget)
