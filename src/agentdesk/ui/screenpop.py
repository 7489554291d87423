"""Screen-pop: ``agentdesk open --msisdn N`` hands the number to the running instance.

The running window listens on a ``QLocalServer``; the command connects with a ``QLocalSocket``
and writes one line ``open <msisdn>``. The server name is per OS user (and can be set with
``AGENTDESK_SCREENPOP_NAME``, which tests use).
"""

from __future__ import annotations

import getpass
import hashlib
import os

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

__all__ = ["ScreenPopServer", "send_to_running", "server_name"]


def server_name() -> str:
    """The local-socket name of this OS user's instance."""
    override = os.environ.get("AGENTDESK_SCREENPOP_NAME")
    if override:
        return override
    digest = hashlib.sha256(getpass.getuser().encode()).hexdigest()[:12]
    return f"agentdesk-{digest}"


def send_to_running(msisdn: str, name: str | None = None, timeout_ms: int = 1000) -> bool:
    """Send ``msisdn`` to the running instance; False when none is listening."""
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(f"open {msisdn}\n".encode())
    ok = socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    return ok


class ScreenPopServer(QObject):
    """Listens for screen-pop requests.

    Signals:
        sig_msisdn: (str) a number to open.
    """

    sig_msisdn = Signal(str)

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QLocalServer(self)
        self._server.newConnection.connect(self._on_server_new_connection)

    def listen(self) -> bool:
        """Start listening (removing a stale socket left by a crashed instance)."""
        if self._server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)
        return self._server.listen(self.name)

    def close(self) -> None:
        """Stop listening."""
        self._server.close()

    def _on_server_new_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._on_socket_ready_read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _on_socket_ready_read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            line = bytes(socket.readLine().data()).decode(errors="replace").strip()
            command, _sep, arg = line.partition(" ")
            digits = "".join(ch for ch in arg if ch.isdigit())
            if command == "open" and digits:
                self.sig_msisdn.emit(digits)
