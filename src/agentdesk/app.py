"""Composition root of the desktop: settings, language, login, services, window. No globals.

:func:`run_gui` is what ``agentdesk`` runs; ``agentdesk demo`` calls it with credentials so the
window opens already logged in, and with ``smoke``/``screenshot`` for the headless paths.

Start-up shows the window first: what the first paint does not need (the home list, the worker
process, sync, the screen-pop socket and its QtNetwork) starts once that paint is done
(:meth:`Desktop.start`, posted behind it), and the command-line half of httpx is never imported.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

# httpx's package imports its command-line client (rich, click, pygments: about 0.2 s of a
# cold start) whenever those are installed, as they are next to the sync service's CLI. The
# desktop never runs it: with this entry the import fails at once and httpx keeps its stub
# ``httpx.main``. Only when httpx is not imported yet (a test process may have the real one).
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from PySide6.QtCore import QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox


def _stop_pyside_source_scan() -> None:
    """Stop PySide6 from reading the source of every module imported after it.

    PySide6's import hook (its opt-in ``from __feature__ import snake_case`` machinery) reads
    each newly imported module's whole source file (``inspect.getsource``) to see whether it
    mentions PySide6, and marks it "uses features: none" or "ignore". This app selects no
    feature anywhere, so both marks dispatch Qt calls alike; answering "uses PySide6" without
    reading saves the reading of some 300 files on the way to the first window (about 0.1 s
    of a cold start under load, a fifth of its import time). Only when that hook is there.
    """
    feature = sys.modules.get("shibokensupport.feature")
    if feature is not None and callable(getattr(feature, "_mod_uses_pyside", None)):
        vars(feature)["_mod_uses_pyside"] = lambda _module: True


_stop_pyside_source_scan()

from agentdesk import i18n  # noqa: E402  (after the scan is stopped: these import ~450 modules)
from agentdesk.paths import Paths  # noqa: E402
from agentdesk.services.auth import AuthService, LoginResult  # noqa: E402
from agentdesk.settings import Settings, load_settings, save_settings  # noqa: E402
from agentdesk.ui.language import LanguageSwitcher  # noqa: E402
from agentdesk.ui.style import apply_theme  # noqa: E402

if TYPE_CHECKING:
    from agentdesk.services import Services
    from agentdesk.ui.screenpop import ScreenPopServer
    from agentdesk.ui.tasks import TaskManager

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
        from agentdesk.services import build_services
        from agentdesk.ui.after_repaint import AfterRepaint
        from agentdesk.ui.context import UiContext
        from agentdesk.ui.mainwindow import MainWindow
        from agentdesk.ui.sync_controller import SyncController
        from agentdesk.ui.tasks import TaskManager

        self.paths = paths
        self.settings = settings
        self.tasks = TaskManager()
        self.services: Services = build_services(login)
        self.services.settings_changed = self._on_settings_changed
        self.ctx = UiContext(tasks=self.tasks, services=self.services, session=login.session)
        self.sync = SyncController(self.tasks, self.services.sync)
        self.window = MainWindow(self.ctx, self.sync, language)
        self.screen_pop: ScreenPopServer | None = None
        self._screen_pop_name = screen_pop_name
        self._start_later = AfterRepaint(self.start, self.window)
        recovery = login.recovery_sentence
        if recovery:
            self.window.show_message(recovery)

    def start_after_first_paint(self) -> None:
        """:meth:`start` once the window's pending repaints are done (call after ``show``)."""
        self._start_later.post()

    def start(self, *, sync: bool = True) -> None:
        """Load the home list, start the worker process and syncing, listen for screen-pops."""
        if self.screen_pop is not None:
            return  # started already
        from agentdesk.services import compute
        from agentdesk.ui.screenpop import ScreenPopServer  # QtNetwork: not for the first paint

        self.screen_pop = ScreenPopServer(self._screen_pop_name)
        self.screen_pop.sig_msisdn.connect(self.window.open_msisdn)
        self.screen_pop.listen()
        self.tasks.compute(compute.warm_up, on_done=lambda _ok: None)
        self.tasks.read(self.services.sync.refresh_counts, lambda _r: None)
        self.window.refresh_home()
        if sync:
            self.sync.start()

    def close(self) -> None:
        """Stop sync, workers, the socket and the cache (idempotent)."""
        self.sync.stop()
        if self.screen_pop is not None:
            self.screen_pop.close()
        self.tasks.shutdown(wait=True)
        self.services.close()

    def _on_settings_changed(self, **changes: object) -> None:
        self.settings = self.settings.replace(**changes)
        save_settings(self.settings, self.paths)


def _freeze_startup_heap() -> None:
    """Move every object alive after start-up out of the garbage collector's reach.

    Start-up leaves tens of thousands of long-lived objects (57 k in the demo: modules, Qt
    wrappers, the window, the services) that a full collection would walk each time it runs,
    on the GUI thread: 85-150 ms pauses were seen in the middle of searches. Frozen, they are never
    scanned again; objects made later are collected as before. No collection first: it would
    be one such pause right after the first paint; the little start-up garbage it would have
    freed stays.
    """
    import gc

    gc.freeze()


def _load_window_modules() -> None:
    """Import the window's modules and use cases (what :class:`Desktop` builds)."""
    import agentdesk.services.container
    import agentdesk.ui.after_repaint
    import agentdesk.ui.context
    import agentdesk.ui.mainwindow
    import agentdesk.ui.sync_controller
    import agentdesk.ui.tasks  # noqa: F401


def _start_login(auth: AuthService, username: str, password: str) -> Future[LoginResult]:
    """Log in on a thread while this one builds the application and imports the window.

    The login waits on the service (its password check) and hashes the local verifier
    (argon2): neither holds the GIL, so that time is no longer added to the start-up. It starts
    before the QApplication, its theme and translator, so the request is on its way while
    those are made. The two threads import different modules (the HTTP stack there, the
    window's views here). The API client is built here first: its HTTP transport's imports
    (about 0.1 s) would otherwise run on the login thread, interleaved with this thread's
    imports, and hold the request back until both were done.
    """
    from concurrent.futures import ThreadPoolExecutor

    api = auth.new_api()
    pool = ThreadPoolExecutor(1, thread_name_prefix="ad-login")
    try:
        return pool.submit(auth.login, username, password, api)
    finally:
        pool.shutdown(wait=False)  # the thread ends once the login is done


def _login_interactive(auth: AuthService, tasks: TaskManager, username: str) -> LoginResult | None:
    from agentdesk.ui.views.login import LoginDialog

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
    paths = Paths.from_env().ensure()
    settings = load_settings(paths)
    if not settings.device_id:
        import uuid

        settings = settings.replace(device_id=str(uuid.uuid4()))
        save_settings(settings, paths)
    # The login's error sentences are in the user's language even when they come at once.
    i18n.install(options.language or settings.language)
    url = options.service_url or settings.service_url
    auth = AuthService(paths.user_cache_db, url, settings.device_id)
    pending: Future[LoginResult] | None = None
    if options.username and options.password:
        pending = _start_login(auth, options.username, options.password)
    app = ensure_app()
    language = LanguageSwitcher()
    language.install(options.language or settings.language)
    login: LoginResult | None
    if pending is not None:
        _load_window_modules()
        login = pending.result()
    else:
        from agentdesk.ui.tasks import TaskManager

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
    if options.show:
        desktop.window.show()
    desktop.start_after_first_paint()
    from agentdesk.ui.after_repaint import AfterRepaint

    # posted behind the start above: the heap is frozen once start-up is done
    freeze_later = AfterRepaint(_freeze_startup_heap, desktop.window)
    freeze_later.post()
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
