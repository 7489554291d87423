"""Run the central service: migrate the store, bind the port, serve API v1 with uvicorn.

``run(db_url, host, port)`` is what ``agentdesk-sync serve`` calls. Problems a user can fix (the
port is taken, the database cannot be reached) end the process with one clear sentence on
stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import errno
import gc
import importlib.util
import logging
import socket
import sys

import uvicorn

from agentdesk_sync.app import create_app
from agentdesk_sync.db.engine import migrate, resolve_db_url
from agentdesk_sync.db.errors import StoreError

__all__ = ["bind", "run", "tune_runtime"]

_LOG = logging.getLogger(__name__)
# The interpreter's knobs for a latency-bound server (see tune_runtime and docs/operations.md).
SWITCH_INTERVAL_S = 0.001
GC_THRESHOLDS = (20_000, 50, 100)


class PortUnavailable(OSError):
    """The listening address cannot be bound."""


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``.

    Raises:
        PortUnavailable: The port is in use or the address cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio turns Nagle off only on sockets whose proto says TCP;
    # with proto 0 every keep-alive response waited ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            msg = f"Port {port} on {host} is already in use; stop the other program or pick --port."
        else:
            msg = f"Cannot listen on {host}:{port}: {exc.strerror or exc}."
        raise PortUnavailable(msg) from None
    return sock


def _fail(message: str) -> None:
    sys.stderr.write(message.rstrip() + "\n")
    raise SystemExit(1)


def _fast_options() -> dict[str, str]:
    options = {}
    if importlib.util.find_spec("uvloop") is not None:
        options["loop"] = "uvloop"
    if importlib.util.find_spec("httptools") is not None:
        options["http"] = "httptools"
    return options


def tune_runtime() -> None:
    """Set the interpreter up for serving, once the application is built.

    * The GIL switch interval drops from 5 ms to :data:`SWITCH_INTERVAL_S`: the write group's
      worker thread gives the GIL up at every database round trip, and while the event loop
      is busy with requests it waited up to the full interval to get it back, for each of the
      round trips of a group.
    * Everything alive after start-up (modules, the app, the engines) is moved out of the
      collector's reach (``gc.freeze``), and young collections run after
      ``GC_THRESHOLDS[0]`` allocations instead of 700: the collector then looks at the objects
      of the requests in flight, not at the whole start-up heap, and far less often.
    """
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run(db_url: str | None, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Migrate the store at ``db_url`` and serve API v1 on ``host:port`` until interrupted.

    Args:
        db_url: The central store URL (None: ``AGENTDESK_SYNC_DB`` or the embedded default).
        host: Address to listen on.
        port: TCP port.

    Raises:
        SystemExit: 1 with one sentence on stderr when the store or the port cannot be used.
    """
    try:
        url = resolve_db_url(db_url)
        migrate(url)
        sock = bind(host, port)
    except (StoreError, PortUnavailable) as exc:
        _fail(str(exc))
        return
    config = uvicorn.Config(
        create_app(url),
        log_level="info",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        **_fast_options(),  # type: ignore[arg-type]
    )
    _LOG.info("agentdesk-sync listening on http://%s:%s", host, port)
    tune_runtime()
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
