"""One way to build the real desktop in UI tests: services → a shown, active ``MainWindow``.

``show_desktop`` wires a window over services already built (an offline session over the seeded
cache, or a real login); ``logged_in_desktop`` logs a user in through the real ``AuthService``
first and, when asked, runs the first sync. Both give a :class:`Desktop` whose ``close`` stops
the sync controller and the workers, switches back to English (and closes the cache).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentdesk.services import Services, build_services
from agentdesk.services.auth import AuthService, LoginResult
from agentdesk.services.dto import UserSession
from agentdesk.sync import ApiClient
from agentdesk.ui.context import UiContext
from agentdesk.ui.language import LanguageSwitcher
from agentdesk.ui.mainwindow import MainWindow
from agentdesk.ui.sync_controller import SyncController
from agentdesk.ui.tasks import TaskManager

__all__ = ["Desktop", "desktop_auth", "logged_in_desktop", "show_desktop"]


@dataclass
class Desktop:
    """A real main window and what runs behind it."""

    window: MainWindow
    tasks: TaskManager
    sync: SyncController
    services: Services
    language: LanguageSwitcher
    login: LoginResult | None = None

    def close(self, *, close_db: bool = True) -> None:
        """Stop syncing and the workers, back to English; close the cache unless told not to."""
        self.sync.stop()
        self.tasks.shutdown(wait=True)
        self.language.install("en")  # Qt's own translator is application-wide
        if close_db:
            self.services.db.close()


def show_desktop(
    qtbot: Any,
    services: Services,
    session: UserSession,
    *,
    language: str = "en",
    processes: bool = False,
    login: LoginResult | None = None,
) -> Desktop:
    """The main window over ``services``, shown and active (keys reach it)."""
    tasks = TaskManager(use_processes=processes)
    sync = SyncController(tasks, services.sync)
    switcher = LanguageSwitcher()
    switcher.install(language)
    window = MainWindow(UiContext(tasks, services, session), sync, switcher)
    qtbot.addWidget(window)
    window.show()
    window.windowHandle().requestActivate()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    return Desktop(window, tasks, sync, services, switcher, login)


def desktop_auth(
    tmp_path: Path,
    device_id: str,
    *,
    base_url: str = "http://testserver",
    api: Callable[[], ApiClient] | None = None,
) -> AuthService:
    """The desktop's login service, one cache per user under ``tmp_path/users``.

    ``api`` makes the API client (the in-process service's); None connects to ``base_url``.
    """
    return AuthService(
        lambda user: tmp_path / "users" / user / "cache.db",
        base_url,
        device_id,
        api_factory=None if api is None else (lambda _url: api()),
    )


@contextmanager
def logged_in_desktop(
    qtbot: Any, auth: AuthService, user: str, password: str, *, first_sync: bool = False
) -> Iterator[Desktop]:
    """Log ``user`` in, show the desktop (first sync done when asked), close it afterwards."""
    login = auth.login(user, password)
    desktop = show_desktop(qtbot, build_services(login), login.session, login=login)
    try:
        if first_sync:
            with qtbot.waitSignal(desktop.sync.sig_cycle_done, timeout=20000):
                desktop.sync.sync_now()
        yield desktop
    finally:
        desktop.close()
