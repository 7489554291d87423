"""A fault-injecting TCP relay for sync tests (an asyncio stand-in for toxiproxy).

The proxy runs its own event loop on a background thread; the test process changes the faults at
any time by calling methods on the :class:`FaultProxy` object. Faults (toxics):

- ``latency(mean_ms, jitter_ms)``: delay every chunk, both ways, by ``mean ± jitter``.
- ``bandwidth(bytes_per_s)``: throttle both directions.
- ``slicer(min_bytes, max_bytes, delay_ms)``: cut chunks into small slices with gaps.
- ``reset_peer()``: reset (TCP RST) every open connection and every new one until cleared.
- ``blackhole()``: accept connections and swallow all data, answer nothing.
- ``down()``: refuse new connections (the listener closes) and drop open ones.
- ``cut_responses(probability, path_prefix)``: HTTP-aware: forward the request, read the whole
  response from upstream (so the server has committed), then reset the client connection
  instead of sending it. The client never learns that its request succeeded.

Usage::

    proxy = FaultProxy("127.0.0.1", service_port).start()
    client = ApiClient(proxy.url)
    proxy.cut_responses(1.0, "POST /v1/sync/push")
    ...
    proxy.clear(); proxy.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FaultProxy", "Toxics"]

_CHUNK = 65536


@dataclass
class Toxics:
    """The faults currently active (read by the relay on every chunk)."""

    latency: tuple[float, float] = (0.0, 0.0)
    bandwidth: float | None = None
    slicer: tuple[int, int, float] | None = None
    reset: bool = False
    blackhole: bool = False
    down: bool = False
    cut_probability: float = 0.0
    cut_prefix: bytes = b"POST /v1/sync/push"


@dataclass
class ProxyStats:
    """Counters for reports: connections accepted, responses cut, resets sent."""

    connections: int = 0
    cuts: int = 0
    resets: int = 0
    cut_requests: list[bytes] = field(default_factory=list)


class FaultProxy:
    """A TCP relay from ``listen_port`` to ``upstream_host:upstream_port`` with toxics.

    Args:
        upstream_host: where the real service listens.
        upstream_port: its port.
        listen_host: where the proxy listens.
        listen_port: its port (0: pick a free one; read :attr:`port` after :meth:`start`).
        seed: seed of the proxy's random choices (jitter, slices, cuts).
    """

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        seed: int = 0,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listen_host = listen_host
        self.port = listen_port
        self.toxics = Toxics()
        self.stats = ProxyStats()
        self._rng = random.Random(seed)
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="faultproxy", daemon=True
        )

    @property
    def url(self) -> str:
        """``http://host:port`` of the proxy."""
        return f"http://{self.listen_host}:{self.port}"

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Start the loop thread and listen; returns self."""
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        """Close everything and end the loop thread."""
        self._call(self._close_all(close_listener=True))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    # -- toxics -------------------------------------------------------------------------------

    def latency(self, mean_ms: float, jitter_ms: float = 0.0) -> None:
        """Delay every chunk by ``mean_ms ± jitter_ms`` (uniform)."""
        self.toxics.latency = (mean_ms / 1000, jitter_ms / 1000)

    def bandwidth(self, bytes_per_s: float | None) -> None:
        """Throttle every direction to ``bytes_per_s`` (None: unlimited)."""
        self.toxics.bandwidth = bytes_per_s

    def slicer(self, min_bytes: int = 1, max_bytes: int = 64, delay_ms: float = 0.0) -> None:
        """Cut every chunk into slices of ``min_bytes..max_bytes`` with ``delay_ms`` gaps."""
        self.toxics.slicer = (min_bytes, max_bytes, delay_ms / 1000)

    def reset_peer(self, on: bool = True) -> None:
        """Reset open connections now and new ones while ``on``."""
        self.toxics.reset = on
        if on:
            self._call(self._close_all(close_listener=False, rst=True))

    def blackhole(self, on: bool = True) -> None:
        """Swallow all data in both directions while ``on`` (connections stay open)."""
        self.toxics.blackhole = on

    def down(self, on: bool = True) -> None:
        """Refuse connections (close the listener, drop open ones) while ``on``."""
        self.toxics.down = on
        if on:
            self._call(self._close_all(close_listener=True, rst=True))
        else:
            self._call(self._listen())

    def cut_responses(self, probability: float = 1.0, prefix: str = "POST /v1/sync/push") -> None:
        """Cut the answer to requests starting with ``prefix`` after the server answered it."""
        self.toxics.cut_prefix = prefix.encode()
        self.toxics.cut_probability = probability

    def clear(self) -> None:
        """Remove every toxic (and listen again if the proxy was down)."""
        was_down = self.toxics.down
        self.toxics = Toxics()
        if was_down:
            self._call(self._listen())

    # -- loop side ----------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._handle, self.listen_host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close_all(self, *, close_listener: bool, rst: bool = False) -> None:
        if close_listener and self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._conns):
            _abort(writer, rst=rst)
            self.stats.resets += int(rst)
        self._conns.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        if self.toxics.reset or self.toxics.down:
            _abort(writer, rst=True)
            self.stats.resets += 1
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            _abort(writer, rst=True)
            return
        self._conns.update((writer, up_writer))
        last_request = _Exchange()
        await asyncio.gather(
            self._pump(reader, up_writer, last_request, upstream=True),
            self._pump(up_reader, writer, last_request, upstream=False),
            return_exceptions=True,
        )
        for w in (writer, up_writer):
            self._conns.discard(w)
            _abort(w, rst=False)

    async def _pump(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        last_request: _Exchange,
        *,
        upstream: bool,
    ) -> None:
        try:
            while True:
                data = await src.read(_CHUNK)
                if not data:
                    break
                if upstream and _looks_like_request(data):
                    last_request.request, last_request.answered = data[:200], False
                elif not upstream and self._cut_now(last_request):
                    await _drain_response(src, data)
                    self.stats.cuts += 1
                    self.stats.cut_requests.append(last_request.request)
                    _abort(dst, rst=True)
                    return
                if self.toxics.blackhole:
                    continue
                await self._send(dst, data)
        finally:
            _abort(dst, rst=False)

    def _cut_now(self, exchange: _Exchange) -> bool:
        """Decide once per response, on its first chunk, whether to cut it."""
        if exchange.answered:
            return False
        exchange.answered = True
        toxics = self.toxics
        if toxics.cut_probability <= 0 or not exchange.request.startswith(toxics.cut_prefix):
            return False
        return self._rng.random() < toxics.cut_probability

    async def _send(self, dst: asyncio.StreamWriter, data: bytes) -> None:
        toxics = self.toxics
        mean, jitter = toxics.latency
        if mean or jitter:
            await asyncio.sleep(max(0.0, mean + self._rng.uniform(-jitter, jitter)))
        for piece, gap in self._slices(data, toxics.slicer):
            dst.write(piece)
            await dst.drain()
            if toxics.bandwidth:
                await asyncio.sleep(len(piece) / toxics.bandwidth)
            if gap:
                await asyncio.sleep(gap)

    def _slices(
        self, data: bytes, slicer: tuple[int, int, float] | None
    ) -> list[tuple[bytes, float]]:
        if slicer is None:
            return [(data, 0.0)]
        low, high, gap = slicer
        out, pos = [], 0
        while pos < len(data):
            size = self._rng.randint(low, high)
            out.append((data[pos : pos + size], gap))
            pos += size
        return out


@dataclass
class _Exchange:
    """The request being answered on one connection."""

    request: bytes = b""
    answered: bool = True


_METHODS = (b"GET ", b"POST ", b"PUT ", b"DELETE ", b"PATCH ", b"HEAD ", b"OPTIONS ")


def _looks_like_request(data: bytes) -> bool:
    return data.startswith(_METHODS)


async def _drain_response(src: asyncio.StreamReader, first: bytes) -> None:
    """Read one whole HTTP response (Content-Length or chunked) from upstream and drop it."""
    buf = first
    while b"\r\n\r\n" not in buf:
        more = await src.read(_CHUNK)
        if not more:
            return
        buf += more
    head, _, body = buf.partition(b"\r\n\r\n")
    length = _content_length(head)
    if length is not None:
        while len(body) < length:
            more = await src.read(_CHUNK)
            if not more:
                return
            body += more
        return
    while b"0\r\n\r\n" not in body[-16:] and not body.endswith(b"0\r\n\r\n"):
        more = await src.read(_CHUNK)
        if not more:
            return
        body += more


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return None


def _abort(writer: asyncio.StreamWriter, *, rst: bool) -> None:
    if writer.is_closing():
        return
    sock = writer.get_extra_info("socket")
    if rst and sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
