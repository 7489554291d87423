"""All background work of the client goes through this module (docs/architecture.md).

Three executors:

* ``writer``: one thread. Every SQLite write (outcome, feedback, claim bookkeeping) runs here,
  so there is exactly one writer at a time.
* ``reader``: a small pool for read queries and HTTP look-ups.
* ``counter``: one thread for long reads nobody waits for (the exact count of a broad search),
  so that they never hold up the reader pool's searches and pages of rows.
* ``sync``: one thread for the pure sync engine, so a long pull never delays a search.
* ``compute``: one worker PROCESS for CPU-heavy pure-Python reads (opening a customer, ranking
  a call list): on a thread they would hold the GIL and make the window stutter.

Results come back to the GUI thread through one queued Qt signal. Callbacks therefore always
run on the GUI thread and may touch widgets.

Hazards:
    * A task function must not touch widgets: it runs on a worker.
    * Workers run CPU-bound Python (ranking, policy, decoding). With the default 5 ms GIL switch
      interval two busy workers starve the GUI thread for 100-300 ms on a 2-core machine;
      :class:`TaskManager` lowers the interval to 1 ms (process-wide) so the GUI thread gets the
      interpreter back within a frame.
    * ``key=`` makes "latest request wins": starting a task with the same key requests
      interruption of the previous one, and the previous result is dropped even if it finishes.
    * A task belongs to the QObject its callbacks belong to (its *receiver*): the object of a
      bound method, or the ``self`` that a lambda or nested function written in a QObject's
      method captured (``receiver=`` names it when neither applies). When that object is
      deleted (a panel closed) before the task ends, the task is interrupted and its result,
      error and progress are dropped instead of reaching a deleted widget. A task whose
      callbacks belong to no QObject (``lambda _r: None``) is always delivered.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QMetaObject, QObject, Qt, Signal

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

__all__ = ["TaskManager", "TaskState", "receiver_of"]

T = TypeVar("T")
log = logging.getLogger(__name__)
GIL_SWITCH_S = 0.001


def receiver_of(*callbacks: Callable[..., Any] | None) -> QObject | None:
    """The QObject the first of ``callbacks`` that has one belongs to, or ``None``.

    That is a bound method's object, or the ``self`` a lambda or nested function captured (one
    written in a QObject's method, e.g. ``lambda found: self._on_count_done(generation, found)``).
    """
    for callback in callbacks:
        owner = getattr(callback, "__self__", None)
        if isinstance(owner, QObject):
            return owner
        code = getattr(callback, "__code__", None)
        cells = getattr(callback, "__closure__", None)
        if code is None or not cells:
            continue
        for name, cell in zip(code.co_freevars, cells, strict=True):
            if name == "self":
                try:
                    captured = cell.cell_contents
                except ValueError:  # the cell is still empty
                    continue
                if isinstance(captured, QObject):
                    return captured
    return None


class TaskState(Generic[T]):
    """Handle of one task: interruption flag, progress, and whether it is still wanted.

    A worker function that accepts a ``TaskState`` polls :meth:`is_interruption_requested`
    and reports progress with :meth:`set_progress` (delivered on the GUI thread).
    """

    def __init__(self, manager: TaskManager, on_progress: Callable[[float], None] | None) -> None:
        self._manager = manager
        self._cancel = threading.Event()
        self._on_progress = on_progress
        self._watch: QMetaObject.Connection | None = None
        self.future: Future[Any] | None = None

    def request_interruption(self) -> None:
        """Ask the worker to stop; its result will be dropped (any thread)."""
        self._cancel.set()

    def is_interruption_requested(self) -> bool:
        """True once a newer task with the same key started, its receiver was deleted, or on
        shutdown."""
        return self._cancel.is_set()

    @property
    def cancel_event(self) -> threading.Event:
        """The underlying event, for pure code that takes a ``threading.Event``."""
        return self._cancel

    def set_progress(self, fraction: float) -> None:
        """Report progress 0..1; the callback runs on the GUI thread."""
        if self._on_progress is not None and not self._cancel.is_set():
            self._manager.run_on_main(lambda: self._show_progress(fraction))

    def _show_progress(self, fraction: float) -> None:
        # GUI thread: the receiver may have been deleted since the worker reported
        if self._on_progress is not None and not self._cancel.is_set():
            self._on_progress(fraction)

    def _watch_receiver(self, receiver: QObject) -> None:
        """Interrupt this task when ``receiver`` is deleted (until :meth:`_unwatch`)."""
        cancel = self._cancel
        self._watch = receiver.destroyed.connect(lambda: cancel.set())

    def _unwatch(self) -> None:
        if self._watch is not None:
            QObject.disconnect(self._watch)  # False, harmlessly, when the receiver is gone
            self._watch = None


class TaskManager(QObject):
    """Owns the executors and hands results back to the GUI thread.

    Signals:
        sig_closure: internal; carries a callable to run on the GUI thread.
        sig_error: (str) a task failed and had no ``on_error`` callback.
        sig_busy_changed: (int) number of tasks in flight changed.
    """

    sig_closure = Signal(object)
    sig_error = Signal(str)
    sig_busy_changed = Signal(int)

    def __init__(
        self, read_workers: int = 1, parent: QObject | None = None, *, use_processes: bool = True
    ) -> None:
        super().__init__(parent)
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_S))
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="ad-writer")
        self._reader = ThreadPoolExecutor(read_workers, thread_name_prefix="ad-reader")
        self._counter = ThreadPoolExecutor(1, thread_name_prefix="ad-count")
        self._sync = ThreadPoolExecutor(1, thread_name_prefix="ad-sync")
        self._procs: ProcessPoolExecutor | None = None
        self._use_processes = use_processes
        self._latest: dict[str, TaskState[Any]] = {}
        self._in_flight = 0
        self._closed = False
        self.sig_closure.connect(self._on_closure, Qt.ConnectionType.QueuedConnection)

    # -- public API ----------------------------------------------------------------------------
    def run_on_main(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the GUI thread (safe to call from any thread)."""
        if not self._closed:
            self.sig_closure.emit(fn)

    def read(self, fn: Callable[..., T], on_done: Callable[[T], None], **kw: Any) -> TaskState[T]:
        """Run a read query or network look-up on the reader pool (not at all when a newer
        task of its key came first: an abandoned search must not make the next one wait)."""
        return self._submit(self._reader, fn, on_done, skip_superseded=True, **kw)

    def count(self, fn: Callable[..., T], on_done: Callable[[T], None], **kw: Any) -> TaskState[T]:
        """Run a long read that the screen does not wait for (a match count) on its own thread.

        Pass ``with_state=True`` and poll (or hand down) the state's ``cancel_event``: a count
        that is no longer wanted should stop, not just be dropped, so the next one starts.
        """
        return self._submit(self._counter, fn, on_done, skip_superseded=True, **kw)

    def write(self, fn: Callable[..., T], on_done: Callable[[T], None], **kw: Any) -> TaskState[T]:
        """Run a database write on the single writer thread."""
        return self._submit(self._writer, fn, on_done, **kw)

    def sync(self, fn: Callable[..., T], on_done: Callable[[T], None], **kw: Any) -> TaskState[T]:
        """Run one sync cycle (or login/first sync) on the sync thread."""
        return self._submit(self._sync, fn, on_done, **kw)

    def compute(
        self,
        fn: Callable[..., T],
        *args: Any,
        on_done: Callable[[T], None],
        on_error: Callable[[BaseException], None] | None = None,
        key: str | None = None,
        receiver: QObject | None = None,
    ) -> TaskState[T]:
        """Run a top-level function with picklable ``args`` in the worker process.

        With ``use_processes=False`` (tests) the same function runs on the reader thread.
        """
        state: TaskState[T] = TaskState(self, None)
        if receiver is None:
            receiver = receiver_of(on_done, on_error)
        self._track(state, key, receiver)
        pool = self._process_pool() if self._use_processes else self._reader
        future = pool.submit(fn, *args)
        state.future = future
        future.add_done_callback(lambda f: self._on_process_done(state, f, on_done, on_error, key))
        return state

    def _process_pool(self) -> ProcessPoolExecutor:
        if self._procs is None:
            # multiprocessing's pool machinery loads with the first process task, after the
            # window's first paint, not with this module.
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._procs = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return self._procs

    def _on_process_done(
        self,
        state: TaskState[T],
        future: Future[T],
        on_done: Callable[[T], None],
        on_error: Callable[[BaseException], None] | None,
        key: str | None,
    ) -> None:
        if future.cancelled():
            self.run_on_main(lambda: self._finish(state, key))
            return
        error = future.exception()
        if error is not None:
            from concurrent.futures.process import BrokenProcessPool

            if isinstance(error, BrokenProcessPool):
                self._procs = None  # a crashed worker process is replaced on the next call
            self.run_on_main(lambda: self._deliver_error(state, error, on_error, key))
            return
        result = future.result()
        self.run_on_main(lambda: self._deliver(state, result, on_done, key))

    @property
    def in_flight(self) -> int:
        """Tasks started and not yet delivered."""
        return self._in_flight

    def shutdown(self, wait: bool = True) -> None:
        """Interrupt keyed tasks and stop the executors."""
        self._closed = True
        for state in self._latest.values():
            state.request_interruption()
        for pool in (self._reader, self._counter, self._sync, self._writer):
            pool.shutdown(wait=wait, cancel_futures=True)
        if self._procs is not None:
            self._procs.shutdown(wait=wait, cancel_futures=True)
            self._procs = None

    # -- internals -----------------------------------------------------------------------------
    def _submit(
        self,
        pool: ThreadPoolExecutor,
        fn: Callable[..., T],
        on_done: Callable[[T], None],
        *,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[float], None] | None = None,
        key: str | None = None,
        with_state: bool = False,
        receiver: QObject | None = None,
        skip_superseded: bool = False,
    ) -> TaskState[T]:
        state: TaskState[T] = TaskState(self, on_progress)
        if receiver is None:
            receiver = receiver_of(on_done, on_error, on_progress)
        self._track(state, key, receiver)
        args = (state,) if with_state else ()
        state.future = pool.submit(
            self._run, state, fn, args, on_done, on_error, key, skip_superseded
        )
        return state

    def _track(self, state: TaskState[Any], key: str | None, receiver: QObject | None) -> None:
        if receiver is not None:
            state._watch_receiver(receiver)
        if key is not None:
            previous = self._latest.get(key)
            if previous is not None:
                previous.request_interruption()
            self._latest[key] = state
        self._set_in_flight(+1)

    def _run(
        self,
        state: TaskState[T],
        fn: Callable[..., T],
        args: tuple[Any, ...],
        on_done: Callable[[T], None],
        on_error: Callable[[BaseException], None] | None,
        key: str | None,
        skip_superseded: bool = False,
    ) -> None:
        if skip_superseded and state.is_interruption_requested():  # nobody waits for it now
            self.run_on_main(lambda: self._finish(state, key))
            return
        try:
            result = fn(*args)
        except BaseException as exc:
            log.debug("task failed", exc_info=True)
            error = exc
            self.run_on_main(lambda: self._deliver_error(state, error, on_error, key))
            return
        self.run_on_main(lambda: self._deliver(state, result, on_done, key))

    def _wanted(self, state: TaskState[Any], key: str | None) -> bool:
        if state.is_interruption_requested():
            return False
        return key is None or self._latest.get(key) is state

    def _finish(self, state: TaskState[Any], key: str | None) -> None:
        state._unwatch()
        self._set_in_flight(-1)
        if key is not None and self._latest.get(key) is state:
            del self._latest[key]

    def _deliver(
        self, state: TaskState[T], result: T, on_done: Callable[[T], None], key: str | None
    ) -> None:
        wanted = self._wanted(state, key)
        self._finish(state, key)
        if wanted:
            on_done(result)

    def _deliver_error(
        self,
        state: TaskState[Any],
        exc: BaseException,
        on_error: Callable[[BaseException], None] | None,
        key: str | None,
    ) -> None:
        wanted = self._wanted(state, key)
        self._finish(state, key)
        if not wanted:  # superseded or its widget deleted: nobody to show it to; the log keeps it
            log.info("task error dropped (its widget is gone or a newer task replaced it): %s",
                     str(exc) or type(exc).__name__)  # fmt: skip
            return
        if on_error is not None:
            on_error(exc)
        else:
            self.sig_error.emit(str(exc) or type(exc).__name__)

    def _set_in_flight(self, delta: int) -> None:
        self._in_flight += delta
        self.sig_busy_changed.emit(self._in_flight)

    def _on_closure(self, fn: Callable[[], None]) -> None:
        fn()
