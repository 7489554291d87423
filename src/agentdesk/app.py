"""Composition root of the desktop: settings, language, login, services, window. No globals.

:func:`run_gui` is what ``agentdesk`` runs; ``agentdesk demo`` calls it with credentials so the
window opens already logged in, and with ``smoke``/``screenshot`` for the headless paths.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from agentdesk.paths import Paths
from agentdesk.services import Services, build_services, compute
from agentdesk.services.auth import AuthService, LoginResult
from agentdesk.settings import Settings, load_settings, save_settings
from agentdesk.ui.context import UiContext
from agentdesk.ui.language import LanguageSwitcher
from agentdesk.ui.mainwindow import MainWindow
from agentdesk.ui.screenpop import ScreenPopServer
from agentdesk.ui.style import apply_theme
from agentdesk.ui.sync_controller import SyncController
from agentdesk.ui.tasks import TaskManager
from agentdesk.ui.views.login import LoginDialog

__all__ = ["AppOptions", "Desktop", "ensure_app", "run_gui"]


@dataclass
class AppOptions:
    """How to start the window.

    Attributes:
        username / password: log in without the dialog (demo).
        open_msisdn: a screen-pop to run once logged in.
        service_url: overrides the settings' service URL.
        on_ready: called with the desktop once the window is up and the first sync finished.
    """

    username: str | None = None
    password: str | None = None
    open_msisdn: str | None = None
    service_url: str | None = None
    language: str | None = None
    on_ready: Callable[[Desktop], None] | None = None
    show: bool = True
    screen_pop_name: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


def _on_qt_message(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    """Qt's own log lines to stderr, without the offscreen plugin's harmless size-hint notice."""
    if "propagateSizeHints" in message:
        return
    if kind != QtMsgType.QtDebugMsg:
        sys.stderr.write(message + "\n")


def ensure_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), themed."""
    app = QApplication.instance()
    if app is None:
        qInstallMessageHandler(_on_qt_message)
        app = QApplication(argv or sys.argv[:1])
        app.setApplicationName("agentdesk")
        app.setOrganizationName("agentdesk")
    assert isinstance(app, QApplication)
    apply_theme(app)
    return app


class Desktop:
    """One running desktop session: tasks, services, sync, window, screen-pop server."""

    def __init__(
        self,
        login: LoginResult,
        settings: Settings,
        paths: Paths,
        language: LanguageSwitcher,
        screen_pop_name: str | None = None,
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.tasks = TaskManager()
        self.services: Services = build_services(login)
        self.services.settings_changed = self._on_settings_changed
        self.ctx = UiContext(tasks=self.tasks, services=self.services, session=login.session)
        self.sync = SyncController(self.tasks, self.services.sync)
        self.window = MainWindow(self.ctx, self.sync, language)
        self.screen_pop = ScreenPopServer(screen_pop_name)
        self.screen_pop.sig_msisdn.connect(self.window.open_msisdn)
        self.screen_pop.listen()
        recovery = login.recovery_sentence
        if recovery:
            self.window.show_message(recovery)

    def start(self, *, sync: bool = True) -> None:
        """Load the home list and start syncing."""
        self.tasks.compute(compute.warm_up, on_done=lambda _ok: None)
        self.services.sync.refresh_counts()
        self.window.refresh_home()
        if sync:
            self.sync.start()

    def close(self) -> None:
        """Stop sync, workers, the socket and the cache (idempotent)."""
        self.sync.stop()
        self.screen_pop.close()
        self.tasks.shutdown(wait=True)
        self.services.close()

    def _on_settings_changed(self, **changes: object) -> None:
        self.settings = self.settings.replace(**changes)
        save_settings(self.settings, self.paths)


def _login_interactive(auth: AuthService, tasks: TaskManager, username: str) -> LoginResult | None:
    holder: dict[str, LoginResult] = {}

    def login(user: str, password: str) -> object:
        holder["result"] = auth.login(user, password)
        return holder["result"].session

    dialog = LoginDialog(tasks, login, username)  # type: ignore[arg-type]
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return holder.get("result")


def run_gui(options: AppOptions | None = None) -> int:
    """Run the desktop until the window closes; returns the process exit code."""
    options = options or AppOptions()
    app = ensure_app()
    paths = Paths.from_env().ensure()
    settings = load_settings(paths)
    if not settings.device_id:
        import uuid

        settings = settings.replace(device_id=str(uuid.uuid4()))
        save_settings(settings, paths)
    language = LanguageSwitcher()
    language.install(options.language or settings.language)
    url = options.service_url or settings.service_url
    auth = AuthService(paths.user_cache_db, url, settings.device_id)
    login: LoginResult | None
    if options.username and options.password:
        login = auth.login(options.username, options.password)
    else:
        boot_tasks = TaskManager(use_processes=False)
        try:
            login = _login_interactive(auth, boot_tasks, settings.last_username)
        finally:
            boot_tasks.shutdown()
    if login is None:
        return 1
    settings = settings.replace(last_username=options.username or login.session.user.user_id)
    save_settings(settings, paths)
    desktop = Desktop(login, settings, paths, language, options.screen_pop_name)
    desktop.start()
    if options.show:
        desktop.window.show()
    if options.open_msisdn:
        QTimer.singleShot(0, lambda: desktop.window.open_msisdn(options.open_msisdn or ""))
    if options.on_ready is not None:
        callback = options.on_ready
        QTimer.singleShot(0, lambda: callback(desktop))
    try:
        return app.exec()
    finally:
        desktop.close()


def show_fatal(sentence: str) -> None:
    """A one-sentence error dialog (used before the window exists)."""
    QMessageBox.critical(None, "agentdesk", sentence)
