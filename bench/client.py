"""Product clients for the benchmark: the service on loopback and logged-in client sessions.

A client session is what the desktop builds at login: ``AuthService.login`` (online against the
service, or offline against the cache's local verifier) and ``build_services``. The benchmark's
client cache is filled once by the product's first sync and copied for each run.

Bench processes may start side by side on one data set (a quick run beside another): building
or upgrading its pristine client cache takes the data set's ``client.lock`` (``flock``), and
what was done is looked at again once the lock is held, so the second process waits and then
finds the cache built and upgraded instead of doing it again over the first one's work.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.context import Ctx, NotReady, product
from bench.dataset import central_db, copy_db
from bench.service import PASSWORD, Service, serve

__all__ = [
    "Client",
    "app_dirs",
    "client_cache",
    "open_client",
    "remove_db",
    "service_for",
    "sqlite_service",
]

OFFLINE_URL = "http://127.0.0.1:9"  # discard port: nothing listens, the login goes offline
LOCK_NAME = "client.lock"
"""The lock file, in the data set's folder, held while its client cache is built or upgraded."""


@dataclass
class Client:
    """A logged-in client: its cache file and the services the UI would use."""

    path: Path
    services: Any
    session: Any
    login: Any

    def close(self) -> None:
        """Close the API client and the cache."""
        self.services.close()


def remove_db(path: Path) -> None:
    """Delete a SQLite file with its ``-wal`` and ``-shm``."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def sqlite_service(ctx: Ctx, size: int | None = None) -> Service:
    """The service of this run on a copy of the seeded central SQLite store of ``size``.

    The copy and the server belong to resource ``central-<size>``: both go when it is released.
    """
    size = size or ctx.customers
    key = f"svc-sqlite-{size}"
    if key not in ctx.cache:
        src = central_db(ctx, size)
        res = ctx.resource(f"central-{size}")
        ctx.status(f"copying the central store ({size:,})")
        dst = ctx.scratch / f"central-{size}.db"
        res.callback(remove_db, dst)
        copy_db(src, dst)
        log = ctx.scratch / f"serve-sqlite-{size}.log"
        ctx.keep(
            f"central-{size}", key, res.enter_context(serve(ctx.repo, f"sqlite:///{dst}", log))
        )
    return ctx.cache[key]  # type: ignore[no-any-return]


def service_for(ctx: Ctx, backend: str, size: int | None = None) -> Service:
    """The run's service on ``sqlite`` (embedded default) or ``postgresql``."""
    if backend == "sqlite":
        return sqlite_service(ctx, size)
    from bench.pgdata import pg_service

    return pg_service(ctx, size or ctx.customers)


def open_client(path: Path, username: str, device_id: str, url: str | None) -> Client:
    """Log in like the desktop does (online when ``url`` is given) and build the services.

    Raises:
        NotReady: the services or the login are not there yet.
    """
    with product("agentdesk.services.auth.AuthService / agentdesk.services.build_services"):
        from agentdesk.services.auth import AuthService
        from agentdesk.services.container import build_services
    auth = AuthService(lambda _user: path, url or OFFLINE_URL, device_id)
    login = auth.login(username, PASSWORD)
    services = build_services(login)
    return Client(path=path, services=services, session=login.session, login=login)


def _first_sync(client: Client) -> Any:
    report = client.services.sync.run_once()
    if report.error is not None or not report.ok:
        msg = f"first sync did not complete: {report.error!r} (pulled {report.pulled})"
        raise RuntimeError(msg)
    return report


def build_cache(ctx: Ctx, size: int, path: Path, username: str) -> dict[str, Any]:
    """Fill a fresh cache at ``path`` with the product's first sync; returns what it took."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    svc = sqlite_service(ctx, size)
    start = time.perf_counter()
    client = open_client(path, username, f"bench-{username}-{path.stem}", svc.base_url)
    try:
        report = _first_sync(client)
    finally:
        client.close()
    return {"seconds": round(time.perf_counter() - start, 2), "pulled": report.pulled,
            "pages": report.pages}  # fmt: skip


@contextlib.contextmanager
def _locked(ctx: Ctx, folder: Path, mode: int = fcntl.LOCK_EX) -> Iterator[None]:
    """Hold ``folder``'s :data:`LOCK_NAME` (``flock``: exclusive to build or upgrade the cache,
    ``fcntl.LOCK_SH`` to copy it; a process that must wait says so)."""
    with (folder / LOCK_NAME).open("a") as handle:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            ctx.status("waiting for another bench process to finish with the client cache")
            fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached_client_db(ctx: Ctx, size: int) -> tuple[Path, dict[str, Any]]:
    """The pristine synced cache of ``size`` (built once), and what building it took.

    Built and upgraded under the data set's lock; ``client.json`` and the cache's schema are
    read once it is held, so a process that waited sees the other one's work and repeats none.
    """
    data = ctx.data_dir(size)
    path = data / "client" / "bench_cc.db"
    info_path = data / "client.json"
    with _locked(ctx, data):
        info = json.loads(info_path.read_text()) if info_path.exists() else {}
        if not info.get("complete"):
            ctx.status(f"first sync of {size:,} customers into the client cache")
            info = {**build_cache(ctx, size, path, "bench_cc"), "complete": True}
            info_path.write_text(json.dumps(info, indent=1))
            seconds = info["seconds"]
            ctx.console.print(f"client cache of {size:,} built by first sync in {seconds} s")
        upgraded = _upgrade(ctx, path)
        if upgraded is not None:
            info.setdefault("upgrades", []).append(upgraded)
            info_path.write_text(json.dumps(info, indent=1))
    return path, info


def _upgrade(ctx: Ctx, path: Path) -> dict[str, Any] | None:
    """Bring the pristine cache to the product's newest schema, as the app does when it opens
    an older cache (once, in place: every run's copy then starts at the newest schema and does
    not pay the upgrade again); what it took, or ``None`` when the cache was already there.
    The caller holds the data set's lock (:func:`cached_client_db`)."""
    with product("agentdesk.store.migrate.upgrade"):
        from agentdesk.store.migrate import HEAD, current_revision, upgrade
    before = current_revision(path)
    if before == HEAD:
        return None
    ctx.status(f"upgrading the client cache from schema {before} to {HEAD}")
    start = time.perf_counter()
    result = upgrade(path)
    seconds = round(time.perf_counter() - start, 2)
    if result.backup is not None:  # the app keeps it for the user; the bench can rebuild
        result.backup.unlink(missing_ok=True)
    ctx.console.print(f"client cache upgraded from schema {before} in {seconds} s")
    return {"from": before, "to": result.to_revision, "seconds": seconds,
            "backup": result.backup is not None}  # fmt: skip


def app_dirs(ctx: Ctx, size: int) -> tuple[dict[str, str], Path]:
    """The desktop app's folders for this run's cache of ``size``, and where it keeps the cache.

    The run copies the synced cache there once: the offline and online sessions of the bench
    process and the app processes of P5 and P11 all use that one copy.
    """
    with product("agentdesk.paths.Paths"):
        from agentdesk.paths import Paths
    root = ctx.scratch / f"app-{size}"
    env = {f"AGENTDESK_{name.upper()}_DIR": str(root / name)
           for name in ("data", "config", "cache", "log", "state")}  # fmt: skip
    return env, Paths.from_env(env).user_cache_db("bench_cc")


def client_cache(ctx: Ctx, size: int | None = None) -> Client:
    """An offline client session on this run's copy of the synced cache.

    The copy belongs to resource ``client-<size>`` (with every session on it): it is deleted
    when that is released.
    """
    size = size or ctx.customers
    key = f"client-{size}"
    if key not in ctx.cache:
        src, _info = cached_client_db(ctx, size)
        _env, dst = app_dirs(ctx, size)
        dst.parent.mkdir(parents=True, exist_ok=True)
        res = ctx.resource(key)
        res.callback(remove_db, dst)
        ctx.status("copying the client cache")
        with _locked(ctx, src.parent.parent, fcntl.LOCK_SH):  # no upgrade in place meanwhile
            copy_db(src, dst)
        client = open_client(dst, "bench_cc", "bench-device-A", None)
        res.callback(client.close)
        ctx.keep(key, key, client)
    return ctx.cache[key]  # type: ignore[no-any-return]


def require_engine(client: Client) -> Any:
    """The client's sync engine (only online sessions have one)."""
    engine = client.services.sync.engine
    if engine is None:
        raise NotReady("online session without a sync engine")
    return engine
