"""The settings dialog (language persists to the settings file) and the F1 shortcut sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QDialog

from agentdesk.domain import Role
from agentdesk.paths import Paths
from agentdesk.services.auth import LoginResult
from agentdesk.settings import Settings, load_settings
from agentdesk.store import CacheDB
from agentdesk.ui.language import LanguageSwitcher
from agentdesk.ui.shortcuts import KEYMAP, shortcut_rows
from agentdesk.ui.views.dialogs import SettingsDialog, ShortcutSheet
from tests.ui.conftest import make_session


def _paths(root: Path) -> Paths:
    parts = {name: root / name for name in ("data", "config", "cache", "log", "state")}
    return Paths(**parts).ensure()


def test_language_chosen_in_settings_is_applied_and_saved(
    qtbot: Any, tmp_path: Path, seeded_db: CacheDB
) -> None:
    from agentdesk.app import Desktop

    paths = _paths(tmp_path / "home")
    language = LanguageSwitcher()
    language.install("en")
    login = LoginResult(session=make_session(seeded_db), db=seeded_db, api=None)
    desktop = Desktop(
        login,
        Settings(language="en", device_id="6f1c1c1e-5b7e-4c1a-9a52-2f0d8e4d6a11"),
        paths,
        language,
    )
    window = desktop.window
    qtbot.addWidget(window)
    window.show()
    seen: list[str] = []

    def choose_chinese() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, SettingsDialog)
        seen.append(dialog.chosen_language())
        dialog.language.setCurrentIndex(dialog.language.findData("zh_CN"))
        dialog.accept()

    try:
        QTimer.singleShot(0, choose_chinese)
        window.show_settings()  # modal: the timer answers it
        assert seen == ["en"]  # the dialog opened on the current language
        assert load_settings(paths).language == "zh_CN"
        assert language.language == "zh_CN"
        assert window.sync_bar.sync_button.text() == "立即同步"
    finally:
        language.install("en")
        desktop.sync.stop()
        desktop.tasks.shutdown(wait=True)
        assert desktop.screen_pop is None  # listens only once started, after the first paint


def test_settings_dialog_cancel_keeps_the_language(qtbot: Any) -> None:
    dialog = SettingsDialog("zh_CN")
    qtbot.addWidget(dialog)
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    dialog.reject()
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert SettingsDialog("zh_CN").chosen_language() == "zh_CN"


def _listed_keys() -> set[str]:
    keys: set[str] = set()
    for listed, _text in shortcut_rows():
        if listed == "Alt+1 … Alt+0":
            keys |= {f"Alt+{i}" for i in range(10)}
            continue
        keys |= {k.strip() for k in listed.split(" / ")}
    return keys


def test_f1_sheet_lists_every_binding_and_every_listed_key_is_bound(
    qtbot: Any, make_ui: Any
) -> None:
    ui = make_ui()
    window = ui.window
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: getattr(window, "help_sheet", None) is not None, timeout=3000)
    sheet = window.help_sheet
    assert isinstance(sheet, ShortcutSheet)
    qtbot.waitUntil(sheet.isVisible, timeout=3000)
    assert sheet.table.rowCount() == len(shortcut_rows())
    listed = _listed_keys()
    assert listed == {k for b in KEYMAP for k in b.keys}
    field_keys = {k for b in KEYMAP if b.scope == "field" for k in b.keys}
    missing = {k for k in listed - field_keys if QKeySequence(k).toString() not in _bound(window)}
    assert not missing, f"listed in F1 but not bound: {sorted(missing)}"
    sheet.close()
    # the visit-plan keys are bound in the account manager's window, on the plan's own tables
    field = make_ui(Role.FIELD).window
    missing = {k for k in field_keys if QKeySequence(k).toString() not in _bound(field)}
    assert not missing, f"listed in F1 but not bound for account managers: {sorted(missing)}"


def _bound(window: Any) -> set[str]:
    return {
        s.key().toString(QKeySequence.SequenceFormat.PortableText)
        for s in window.findChildren(QShortcut)
        if s.isEnabled() and s.receivers("2activated()") > 0
    }
