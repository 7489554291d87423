"""The fault proxy: each toxic does what the reliability scenarios rely on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from agentdesk.sync import ApiClient, Offline
from bench.faultproxy import FaultProxy

HEALTH = b'{"status": "ok", "db": "sqlite", "version": "t"}'


class _Upstream(ThreadingHTTPServer):
    handled: int = 0


class _Handler(BaseHTTPRequestHandler):
    server: _Upstream

    def do_GET(self) -> None:
        self.server.handled += 1
        body = HEALTH + b" " * 20_000
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream: _Upstream) -> Iterator[FaultProxy]:
    proxy = FaultProxy("127.0.0.1", upstream.server_address[1], seed=1).start()
    yield proxy
    proxy.stop()


def _api(proxy: FaultProxy, read: float = 5.0) -> ApiClient:
    return ApiClient(proxy.url, timeout=httpx.Timeout(read, connect=2.0))


def test_relays_unchanged_through_latency_slicer_and_bandwidth(proxy: FaultProxy) -> None:
    proxy.latency(2, 1)
    proxy.slicer(1, 64, 0)
    proxy.bandwidth(10_000_000)
    assert _api(proxy).health().status == "ok"


def test_cut_response_reaches_the_server_but_not_the_client(
    proxy: FaultProxy, upstream: _Upstream
) -> None:
    proxy.cut_responses(1.0, "GET /v1/health")
    with pytest.raises(Offline):
        _api(proxy).health()
    assert upstream.handled == 1
    assert proxy.stats.cuts == 1
    proxy.clear()
    assert _api(proxy).health().status == "ok"


def test_down_refuses_and_comes_back(proxy: FaultProxy) -> None:
    proxy.down()
    with pytest.raises(Offline):
        _api(proxy).health()
    proxy.clear()
    assert _api(proxy).health().status == "ok"


def test_blackhole_times_out(proxy: FaultProxy, upstream: _Upstream) -> None:
    proxy.blackhole()
    with pytest.raises(Offline):
        _api(proxy, read=0.3).health()
    proxy.clear()
    assert _api(proxy).health().status == "ok"


def test_reset_peer_breaks_connections(proxy: FaultProxy) -> None:
    proxy.reset_peer()
    with pytest.raises(Offline):
        _api(proxy).health()
    proxy.reset_peer(False)
    assert _api(proxy).health().status == "ok"
