"""Switching the UI language: gettext catalogue, Qt's own ``qtbase`` strings, and the locale."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from agentdesk import i18n

__all__ = ["LanguageSwitcher"]


class LanguageSwitcher:
    """Installs a language for gettext (our strings) and ``QTranslator`` (Qt's strings).

    Installing or removing the translator makes Qt send ``LanguageChange`` to every widget;
    views re-render their texts in ``retranslate()``.
    """

    def __init__(self) -> None:
        self._translator: QTranslator | None = None
        self.language = i18n.current_language()

    def install(self, language: str) -> str:
        """Switch to ``language`` (``zh_CN`` or ``en``); returns the language installed."""
        self.language = i18n.install(language)
        QLocale.setDefault(
            QLocale(QLocale.Language.Chinese, QLocale.Country.China)
            if self.language == "zh_CN"
            else QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom)
        )
        app = QCoreApplication.instance()
        if app is None:
            return self.language
        if self._translator is not None:
            app.removeTranslator(self._translator)
            self._translator = None
        qm = i18n.qt_translation_file(self.language)
        if qm is not None:
            translator = QTranslator(app)
            if translator.load(str(qm)):
                app.installTranslator(translator)
                self._translator = translator
        return self.language
