"""The keyboard map: one table, used both to bind shortcuts and to draw the F1 sheet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from agentdesk.i18n import N_, _

__all__ = ["KEYMAP", "KeyBinding", "bind_shortcuts", "keys_of", "shortcut_rows"]


@dataclass(frozen=True)
class KeyBinding:
    """An action name, its keys, and the description (``N_`` marked, translated on display).

    ``scope`` is ``window`` (bound window-wide by :func:`bind_shortcuts`) or ``field`` (bound by
    the account manager's visit-plan view on its own tables, so Delete/Alt+Up keep working in
    text fields and combo boxes elsewhere).
    """

    action: str
    keys: tuple[str, ...]
    description: str
    scope: str = "window"


KEYMAP: tuple[KeyBinding, ...] = (
    KeyBinding("search", ("Ctrl+F", "F3"), N_("Search customers")),
    KeyBinding("next_customer", ("Ctrl+N", "F4"), N_("Next customer in the list")),
    KeyBinding("accept", ("F6",), N_("Accept the current offer")),
    KeyBinding("decline", ("F7",), N_("Decline the current offer")),
    KeyBinding("later", ("F8",), N_("Customer will think about it (later)")),
    KeyBinding("offer_up", ("Ctrl+Up",), N_("Previous offer")),
    KeyBinding("offer_down", ("Ctrl+Down",), N_("Next offer")),
    *(
        KeyBinding(f"result_{i}", (f"Alt+{(i + 1) % 10}",), N_("Choose result code"))
        for i in range(10)
    ),
    KeyBinding("note", ("Alt+N",), N_("Write a note")),
    KeyBinding("save", ("Ctrl+Return", "Ctrl+Enter"), N_("Save the outcome")),
    KeyBinding("claim", ("Ctrl+K",), N_("Claim / release the customer")),
    KeyBinding("report", ("Ctrl+R",), N_("Report wrong data")),
    KeyBinding("sync", ("F5",), N_("Sync now")),
    KeyBinding("attention", ("Ctrl+Shift+A",), N_("Needs attention list")),
    KeyBinding("work_list", ("Ctrl+1",), N_("Go to the work list")),
    KeyBinding(
        "claim_visits",
        ("Ctrl+Shift+K",),
        N_("Visits: claim my visits before going offline (up to 12 h, 200 customers)"),
    ),
    KeyBinding(
        "plan_add", ("Ins",), N_("Visits: add the portfolio customer to today's plan"), "field"
    ),
    KeyBinding("plan_remove", ("Del",), N_("Visits: remove the visit from today's plan"), "field"),
    KeyBinding("plan_up", ("Alt+Up",), N_("Visits: move the visit earlier"), "field"),
    KeyBinding("plan_down", ("Alt+Down",), N_("Visits: move the visit later"), "field"),
    KeyBinding("settings", ("Ctrl+,",), N_("Settings and language")),
    KeyBinding("help", ("F1",), N_("This shortcut sheet")),
)


def shortcut_rows() -> list[tuple[str, str]]:
    """(keys, description) rows for the F1 sheet, translated now."""
    rows: list[tuple[str, str]] = []
    results_done = False
    for binding in KEYMAP:
        if binding.action.startswith("result_"):
            if not results_done:
                rows.append(("Alt+1 … Alt+0", _(binding.description)))
                results_done = True
            continue
        rows.append((" / ".join(binding.keys), _(binding.description)))
    return rows


def keys_of(action: str) -> tuple[str, ...]:
    """The keys of ``action`` in the keymap (empty when unknown)."""
    return next((b.keys for b in KEYMAP if b.action == action), ())


def bind_shortcuts(window: QWidget, handlers: dict[str, Callable[[], object]]) -> list[QShortcut]:
    """Create window-wide shortcuts for every action that has a handler."""
    made: list[QShortcut] = []
    for binding in KEYMAP:
        handler = handlers.get(binding.action)
        if handler is None or binding.scope != "window":
            continue
        for keys in binding.keys:
            shortcut = QShortcut(QKeySequence(keys), window)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(handler)
            made.append(shortcut)
    return made
