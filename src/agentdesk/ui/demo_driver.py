"""Drives the real window for ``agentdesk demo --smoke`` and ``--screenshot``.

Every step waits for a signal of the real widgets (first sync done, search results, customer
opened, outcome saved, sync done), so the smoke run exercises the same path a user does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from agentdesk.domain import Reaction, ResultCode
from agentdesk.services.dto import CustomerScreen, OutcomeSaved, SearchPage
from agentdesk.sync import ApiClient
from agentdesk.sync.report import SyncReport
from agentdesk.ui.views.outcome_form import RESULT_KEYS

__all__ = ["DemoDriver"]


class DemoDriver(QObject):
    """Runs one scripted session on a started desktop, then quits the application.

    Args:
        desktop: the running :class:`agentdesk.app.Desktop`.
        service_url: where to verify the outcome arrived.
        smoke: record an outcome, sync it and verify it through the API.
        screenshot: save the main window there.
        show: what to show before the screenshot (customer, attention, field, supervisor,
            counter).
    """

    def __init__(
        self,
        desktop: object,
        service_url: str,
        *,
        smoke: bool,
        screenshot: Path | None,
        show: str = "customer",
        timeout_ms: int = 600_000,
    ) -> None:
        super().__init__()
        self.d = desktop
        self.url = service_url
        self.smoke = smoke
        self.screenshot = screenshot
        self.show = show
        self.screen: CustomerScreen | None = None
        self.saved: OutcomeSaved | None = None
        self._next: Callable[[SyncReport], None] | None = None
        self.exit_code = 1
        self._watchdog = QTimer(self)
        self._watchdog.setSingleShot(True)
        self._watchdog.timeout.connect(lambda: self.fail("The demo run timed out."))
        self._watchdog.start(timeout_ms)

    @property
    def window(self) -> Any:  # the MainWindow; kept loose to avoid an import cycle
        return self.d.window  # type: ignore[attr-defined]

    def start(self) -> None:
        """Wait for the first complete sync, then run the script (``first-sync``: search and
        open at once, while the first sync that the window started runs)."""
        if self.show == "first-sync":
            self.window.search.sig_results.connect(self._on_first_sync_results)
            self.window.focus_search("王")
            return
        self.d.sync.sig_cycle_done.connect(self._on_cycle_done)  # type: ignore[attr-defined]
        self._next = self._after_first_sync
        self.d.sync.sync_now()  # type: ignore[attr-defined]

    # -- steps ---------------------------------------------------------------------------------
    def _on_cycle_done(self, report: SyncReport) -> None:
        step, self._next = self._next, None
        if step is not None:
            step(report)

    def _after_first_sync(self, report: SyncReport) -> None:
        if report.error is not None:
            self.fail(f"The first sync failed: {report.error}.")
            return
        if self.show in ("supervisor", "field"):
            self.window.home.sig_loaded.connect(self._on_home_loaded)
            self.window.refresh_home()
            return
        self.window.refresh_home()
        self.window.search.sig_results.connect(self._on_results)
        self.window.focus_search("13")

    def _on_first_sync_results(self, page: SearchPage) -> None:
        self.window.search.sig_results.disconnect(self._on_first_sync_results)
        if not page.first:
            self.fail("The service found no customer named 王….")
            return
        if not page.from_service:
            print("first-sync: the first sync was done before the search.")  # noqa: T201
        self.window.customer.sig_opened.connect(self._on_first_sync_opened)
        self.window.open_customer(page.first[0].customer_id)

    def _on_first_sync_opened(self, _screen: CustomerScreen) -> None:
        self.window.customer.sig_opened.disconnect(self._on_first_sync_opened)
        self._shoot_while_syncing()

    def _shoot_while_syncing(self, waited_ms: int = 0) -> None:
        """The shot shows the first sync's progress once its first page is in (3 s at most),
        taken soon after the panels' deferred layout: the demo's first sync takes seconds."""
        if self.window.sync_bar.progress.isVisible() or waited_ms >= 3000:
            QTimer.singleShot(120, self._finish_screenshot)
            return
        QTimer.singleShot(100, lambda: self._shoot_while_syncing(waited_ms + 100))

    def _on_home_loaded(self) -> None:
        self.window.home.sig_loaded.disconnect(self._on_home_loaded)
        if self.show == "field":
            home = self.window.home
            if home.plan_model.rowCount():
                home.sig_claimed.connect(self._on_field_claimed)
                home.sig_claim_failed.connect(self._on_field_claimed)
                home.claim_visits()  # Ctrl+Shift+K: pre-claim the plan before going out
                return
        QTimer.singleShot(800, self._finish_screenshot)

    def _on_field_claimed(self, _summary: object) -> None:
        home = self.window.home
        home.sig_claimed.disconnect(self._on_field_claimed)
        home.sig_claim_failed.disconnect(self._on_field_claimed)
        first = home.today.rows_model.row_object(0)
        if first is None:
            QTimer.singleShot(800, self._finish_screenshot)
            return
        self.window.customer.sig_opened.connect(self._on_field_opened)
        home.today.selectRow(0)
        self.window._on_home_open(first.customer_id)

    def _on_field_opened(self, _screen: CustomerScreen) -> None:
        self.window.customer.sig_opened.disconnect(self._on_field_opened)
        QTimer.singleShot(800, self._finish_screenshot)

    def _on_results(self, page: SearchPage) -> None:
        self.window.search.sig_results.disconnect(self._on_results)
        if not page.first:
            self.fail("The synced cache has no customer to open.")
            return
        self._candidates = [h.customer_id for h in sorted(page.first, key=lambda h: not h.vip)][:8]
        self.window.customer.sig_opened.connect(self._on_opened)
        self.window.open_customer(self._candidates.pop(0))

    def _on_opened(self, screen: CustomerScreen) -> None:
        if not screen.offers and self._candidates:  # show one with offers to pitch
            self.window.open_customer(self._candidates.pop(0))
            return
        self.window.customer.sig_opened.disconnect(self._on_opened)
        self.screen = screen
        self.window.customer.offers.toggle_suppressed.setChecked(True)
        panel = self.window.customer
        panel.react(Reaction.ACCEPT)
        code = ResultCode.REACHED_ACCEPTED if screen.offers else ResultCode.REACHED_NO_OFFER
        panel.select_result(RESULT_KEYS.index(code))
        panel.outcome.note.setPlainText("演示：客户有兴趣 demo note")
        if not self.smoke and self.show not in ("attention", "counter"):
            if self.show == "usage":  # the usage charts (pyqtgraph, built on first show)
                panel.tabs.setCurrentWidget(panel.tabs.usage)
            QTimer.singleShot(300, self._finish_screenshot)
            return
        panel.sig_saved.connect(self._on_saved)
        panel.save()

    def _on_saved(self, saved: OutcomeSaved) -> None:
        self.window.customer.sig_saved.disconnect(self._on_saved)
        self.saved = saved
        if self.show == "attention" and not self.smoke:
            self.window.customer.sig_saved.connect(self._on_saved_second)
            self.window.customer.outcome.show_screen(self.screen)
            self.window.customer.select_result(RESULT_KEYS.index(ResultCode.REACHED_DECLINED))
            self.window.customer.react(Reaction.DECLINE)
            self.window.customer.save()
            return
        self._next = self._after_outcome_sync
        self.d.sync.sync_now()  # type: ignore[attr-defined]

    def _on_saved_second(self, _saved: OutcomeSaved) -> None:
        self.window.customer.sig_saved.disconnect(self._on_saved_second)
        self._next = self._after_outcome_sync
        self.d.sync.sync_now()  # type: ignore[attr-defined]

    def _after_outcome_sync(self, report: SyncReport) -> None:
        if report.error is not None:
            self.fail(f"Syncing the outcome failed: {report.error}.")
            return
        if self.smoke and not self._verify():
            return
        if self.show == "attention":
            self.window.show_attention()
            QTimer.singleShot(800, self._finish_screenshot)
            return
        if self.show == "counter":  # the customer just served is in today's walk-ins
            self.window.work.setCurrentIndex(0)
            QTimer.singleShot(800, self._finish_screenshot)
            return
        self._finish_screenshot()

    def _verify(self) -> bool:
        assert self.saved is not None
        token = self.d.services.sync.engine.api.token  # type: ignore[attr-defined]
        api = ApiClient(self.url, token=token)
        try:
            view = api.customer(self.saved.customer_id)
        finally:
            api.close()
        ids = {c.get("contact_id") for c in view.get("recent_contacts", [])}
        if self.saved.contact_id not in ids:
            self.fail("The outcome was saved locally but the service does not show it.")
            return False
        print(f"smoke: outcome {self.saved.contact_id} reached the service.")  # noqa: T201
        return True

    def _finish_screenshot(self) -> None:
        if self.screenshot is not None:
            target: QWidget = self.window
            dialog = getattr(self.window, "attention_dialog", None)
            if self.show == "attention" and dialog is not None and dialog.isVisible():
                self._grab_with_dialog(dialog)
            elif not target.grab().save(str(self.screenshot)):
                self.fail(f"Could not write the screenshot {self.screenshot}.")
                return
        self.exit_code = 0
        QApplication.instance().exit(0)  # type: ignore[union-attr]

    def _grab_with_dialog(self, dialog: QWidget) -> None:
        from PySide6.QtGui import QPainter

        image = self.window.grab()
        painter = QPainter(image)
        offset = dialog.geometry().topLeft() - self.window.geometry().topLeft()
        painter.drawPixmap(offset, dialog.grab())
        painter.end()
        image.save(str(self.screenshot))

    def fail(self, sentence: str) -> None:
        """Print one sentence and quit with exit code 1."""
        print(sentence, file=sys.stderr)  # noqa: T201
        self.exit_code = 1
        QApplication.instance().exit(1)  # type: ignore[union-attr]
