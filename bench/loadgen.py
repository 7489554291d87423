"""Open-loop load of concurrent agents against ``agentdesk-sync serve``, in its own process.

``python -m bench.loadgen`` reads a JSON spec on stdin and writes a JSON result on stdout. It
runs outside the benchmark process so that generating load does not compete with the bench's
own threads, and it is cheap: one asyncio loop, one keep-alive HTTP/1.1 connection per agent
(a plain stream writer, no HTTP library), request bodies encoded with the product's wire structs
(``agentdesk.protocol``, msgspec) before the clock starts.

Each agent has its own Poisson arrival process (``rate`` per second, exponential gaps with a
random start). An arrival is sent when its time comes; when the agent's previous request is still
being answered, the new one waits for the connection (an agent does one thing at a time).
Latency is measured from the *scheduled* arrival time to the answer, so a slow server cannot
hide its backlog by slowing the generator down (no coordinated omission). Requests scheduled in
the first ``warmup_s`` seconds are sent but not counted. With ``"trace": true`` in the spec the
result also holds every counted request as (scheduled offset from ``t0_wall``, latency, service
time, answer kind and for contacts inbound/outbound), to line slow requests up against
machine and database time series (see bench/README.md).

Modes:

* ``claims``: ``POST /v1/claims`` (``ClaimRequest``) for a drawn customer, then at once
  ``DELETE /v1/claims/{id}`` when granted (the release is timed separately);
* ``contacts``: ``POST /v1/sync/push`` with one contact (``PushRequest``/``PushItem``, the
  payload the desktop's outbox builds) per request and device: an outbound call (marketing,
  checked against the caps) with probability ``outbound_share`` (default 0), else an inbound one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from bench.measure import percentile

__all__ = ["HttpConn", "main", "run"]

_LOGIN_TRIES = 40


class HttpConn:
    """One keep-alive HTTP/1.1 connection (``Content-Length`` bodies only, as the service sends)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        """Connect (TCP_NODELAY is set by asyncio on TCP sockets)."""
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: str = ""
    ) -> tuple[int, bytes]:
        """Send one request and read its answer: (status, body).

        The service closes a connection idle for a few seconds (uvicorn's keep-alive timeout);
        like ``httpx``, a request that found its connection closed before any answer byte is
        sent again on a new connection (the reconnect counts in its latency).
        """
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        for attempt in range(2):
            if self._reader is None or self._writer is None or self._reader.at_eof():
                await self.close()
                await self.open()
            assert self._writer is not None
            assert self._reader is not None
            try:
                self._writer.write(head)
                raw = await self._reader.readuntil(b"\r\n\r\n")
                break
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                partial = getattr(exc, "partial", b"")
                await self.close()
                if attempt or partial:
                    raise
        assert self._reader is not None
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            low = name.strip().lower()
            if low == "content-length":
                length = int(value)
            elif low == "transfer-encoding":
                msg = "chunked answers are not supported by the load generator"
                raise RuntimeError(msg)
        data = await self._reader.readexactly(length) if length else b""
        return status, data

    async def close(self) -> None:
        """Close the connection."""
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._writer = self._reader = None


@dataclass
class _Agent:
    k: int
    username: str
    device_id: str
    conn: HttpConn
    auth: str = ""
    seq: int = 0
    samples: list[float] = field(default_factory=list)  # scheduled arrival -> answer
    service: list[float] = field(default_factory=list)  # sent -> answer
    releases: list[float] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)
    applied: int = 0
    late: int = 0
    trace: list[tuple[float, float, float, str]] | None = None  # (at, latency, service, kind)


async def _login(agent: _Agent, password: str) -> None:
    from agentdesk.protocol import LoginRequest, LoginResponse

    body = msgspec.json.encode(
        LoginRequest(username=agent.username, password=password, device_id=agent.device_id)
    )
    for _ in range(_LOGIN_TRIES):  # setup, not measured: the service may answer 503 while busy
        status, data = await agent.conn.request(
            "POST", "/v1/auth/login", body, "Content-Type: application/json\r\n"
        )
        if status == 200:
            token = msgspec.json.decode(data, type=LoginResponse).token
            agent.auth = f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            return
        if status != 503:
            msg = f"login of {agent.username} answered {status}: {data[:200]!r}"
            raise RuntimeError(msg)
        await asyncio.sleep(0.5)
    msg = f"login of {agent.username} kept answering 503"
    raise RuntimeError(msg)


def _error_code(data: bytes) -> str:
    try:
        return str(json.loads(data)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "error"


def _claim_body(customer_id: str, channel: str) -> bytes:
    from agentdesk.protocol import ClaimRequest

    return msgspec.json.encode(ClaimRequest(customer_id=customer_id, channel=channel))


def _push_body(
    device_id: str, seq: int, customer_id: str, staff: str, outbound: bool = False
) -> tuple[bytes, str]:
    """One contact pushed alone: an inbound call, or (``outbound``) an outbound call, which is
    marketing: the service checks it against the caps with the customer's attributes and its
    90-day history."""
    from agentdesk.domain import Channel, Contact, ResultCode
    from agentdesk.protocol import PushItem, PushRequest
    from agentdesk.store.outbox import contact_payload

    now = datetime.now(UTC)
    cid = str(uuid.uuid4())
    channel = Channel.OUTBOUND_CALL if outbound else Channel.INBOUND_CALL
    contact = Contact(contact_id=cid, customer_id=customer_id, channel=channel,
                      started_at=now - timedelta(minutes=2), ended_at=now,
                      result_code=ResultCode.REACHED_NO_OFFER, staff_id=staff)  # fmt: skip
    item = PushItem(id=cid, seq=seq, kind="contact", schema=1, payload=contact_payload(contact))
    return msgspec.json.encode(PushRequest(device_id=device_id, items=[item])), cid


def _schedule(rng: random.Random, rate: float, horizon: float) -> list[float]:
    """Poisson arrival offsets (seconds from the start) of one agent, up to ``horizon``."""
    out: list[float] = []
    t = rng.uniform(0.0, 1.0 / rate)
    while t < horizon:
        out.append(t)
        t += rng.expovariate(rate)
    return out


async def _arrival(agent: _Agent, due: float, stop: float) -> float | None:
    """Wait for the scheduled arrival ``due``; None (counted late) once the run has stopped."""
    delay = due - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)
    if time.perf_counter() > stop:
        agent.late += 1
        return None
    return due


def _book(
    agent: _Agent, kind: str, due: float, sent: float, done: float, at: float, tag: str = ""
) -> None:
    """Record one answer: latency from the scheduled arrival, service time, and its kind
    (with ``trace`` on, also each request's scheduled offset ``at`` from the start and ``tag``)."""
    agent.samples.append(done - due)
    agent.service.append(done - sent)
    agent.answers[kind] = agent.answers.get(kind, 0) + 1
    if agent.trace is not None:
        agent.trace.append((at, done - due, done - sent, f"{kind} {tag}".strip()))


async def _claims_agent(
    agent: _Agent, t0: float, times: list[float], bodies: list[bytes], warm: float, stop: float
) -> None:
    from agentdesk.protocol import ClaimResponse

    for at, body in zip(times, bodies, strict=True):
        due = await _arrival(agent, t0 + at, stop)
        if due is None:
            continue
        sent = time.perf_counter()
        status, data = await agent.conn.request("POST", "/v1/claims", body, agent.auth)
        done = time.perf_counter()
        kind = "granted" if status in (200, 201) else _error_code(data)
        if at >= warm:
            _book(agent, kind, due, sent, done, at)
        if kind == "granted":
            claim_id = msgspec.json.decode(data, type=ClaimResponse).claim_id
            start = time.perf_counter()
            status, data = await agent.conn.request(
                "DELETE", f"/v1/claims/{claim_id}", b"", agent.auth
            )
            if status != 204:
                msg = f"release answered {status}: {data[:200]!r}"
                raise RuntimeError(msg)
            if at >= warm:
                agent.releases.append(time.perf_counter() - start)


async def _contacts_agent(
    agent: _Agent,
    t0: float,
    times: list[float],
    bodies: list[bytes],
    warm: float,
    stop: float,
    outbounds: list[bool],
) -> None:
    from agentdesk.protocol import PushResponse

    for at, body, outbound in zip(times, bodies, outbounds, strict=True):
        due = await _arrival(agent, t0 + at, stop)
        if due is None:
            continue
        sent = time.perf_counter()
        key = uuid.uuid4().hex
        headers = f"{agent.auth}Idempotency-Key: {key}\r\n"
        status, data = await agent.conn.request("POST", "/v1/sync/push", body, headers)
        done = time.perf_counter()
        applied = 0
        kind = f"http {status}"
        if status == 200:
            answer = msgspec.json.decode(data, type=PushResponse)
            applied = sum(1 for r in answer.results if r.status.startswith("applied"))
            kind = "applied" if applied else str(answer.results[0].status)
        if at >= warm:
            _book(agent, kind, due, sent, done, at, "outbound" if outbound else "inbound")
            agent.applied += applied


def _pct(values: list[float], q: float) -> float | None:
    return percentile(values, q) if values else None


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one load described by ``spec`` and summarise it (see the module docstring)."""
    mode: str = spec["mode"]
    host, port = spec["host"], int(spec["port"])
    rate, seconds, warm = float(spec["rate"]), float(spec["seconds"]), float(spec["warmup_s"])
    customers: list[str] = spec["customers"]
    rng = random.Random(int(spec.get("seed", 1)))
    mix = random.Random(int(spec.get("seed", 1)) + 1)  # its own draws: the arrivals stay the same
    outbound_share = float(spec.get("outbound_share", 0.0))
    agents = [
        _Agent(k, name, f"bench-load-{name}", HttpConn(host, port))
        for k, name in enumerate(spec["usernames"])
    ]
    for agent in agents:  # one after the other: logins are setup, not load
        await _login(agent, spec["password"])
    horizon = warm + seconds
    trace = bool(spec.get("trace", False))
    plans: list[tuple[list[float], list[bytes], list[bool]]] = []
    for agent in agents:
        if trace:
            agent.trace = []
        times = _schedule(rng, rate, horizon)
        bodies = []
        outbounds: list[bool] = []
        for _ in times:
            cid = customers[rng.randrange(len(customers))]
            if mode == "claims":
                bodies.append(_claim_body(cid, spec.get("channel", "outbound_call")))
            else:
                agent.seq += 1
                outbound = mix.random() < outbound_share
                body, _cid = _push_body(agent.device_id, agent.seq, cid, agent.username, outbound)
                bodies.append(body)
                outbounds.append(outbound)
        plans.append((times, bodies, outbounds))
    sys.stderr.write("loadgen: start\n")  # tells a profiler attached to the service to begin
    sys.stderr.flush()
    cpu0, t0 = time.process_time(), time.perf_counter() + 0.2
    t0_wall = time.time() + (t0 - time.perf_counter())  # the start on the wall clock (for traces)
    stop = t0 + horizon + float(spec.get("drain_s", 30.0))  # arrivals not sent by then: late
    runs = [
        _claims_agent(agent, t0, times, bodies, warm, stop)
        if mode == "claims"
        else _contacts_agent(agent, t0, times, bodies, warm, stop, outbounds)
        for agent, (times, bodies, outbounds) in zip(agents, plans, strict=True)
    ]
    await asyncio.gather(*runs)
    end = time.perf_counter()
    cpu = time.process_time() - cpu0
    for agent in agents:
        await agent.conn.close()
    samples = [s for a in agents for s in a.samples]
    service = [s for a in agents for s in a.service]
    releases = [s for a in agents for s in a.releases]
    answers: dict[str, int] = {}
    for agent in agents:
        for kind, n in agent.answers.items():
            answers[kind] = answers.get(kind, 0) + n
    window = max(end - (t0 + warm), 1e-9)
    offered = sum(1 for times, _, _ in plans for t in times if t >= warm)
    extra: dict[str, Any] = {}
    if trace:  # each counted request: scheduled offset from t0_wall, latency, service, kind
        extra["t0_wall"] = t0_wall
        extra["trace"] = sorted(row for a in agents for row in (a.trace or []))
    return {
        "mode": mode,
        "agents": len(agents),
        "rate_per_agent": rate,
        "offered": offered,
        "offered_per_s": offered / seconds,
        "answered": len(samples),
        "answered_per_s": len(samples) / window,
        "applied": sum(a.applied for a in agents),
        "applied_per_s": sum(a.applied for a in agents) / window,
        "late": sum(a.late for a in agents),
        "window_s": window,
        "samples": samples,
        "service_p50": _pct(service, 50),
        "service_p95": _pct(service, 95),
        "release_p50": _pct(releases, 50),
        "release_p95": _pct(releases, 95),
        "answers": answers,
        "generator_cpu": cpu / max(end - t0, 1e-9),
        **extra,
    }


def main() -> None:
    """Read the spec from stdin, run, print the result as JSON."""
    spec = json.load(sys.stdin)
    result = asyncio.run(run(spec))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
