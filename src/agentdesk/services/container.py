"""All services of one logged-in session, built once by the composition root (``app.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentdesk.services.auth import LoginResult
from agentdesk.services.counter import CounterService
from agentdesk.services.customer import CustomerService
from agentdesk.services.live_view import LiveService
from agentdesk.services.outcome import FeedbackService, OutcomeService
from agentdesk.services.queues import CallListService, SupervisorService, VisitPlanService
from agentdesk.services.search import SearchService
from agentdesk.services.sync import SyncService
from agentdesk.store import CacheDB
from agentdesk.sync import ClaimManager, SyncEngine, SyncStatus
from agentdesk.sync.cachestore import CacheSyncStore

__all__ = ["Services", "build_services"]


def _ignore(**_changes: Any) -> None:
    return None


@dataclass
class Services:
    """The services a view may call (all Qt-free; the UI runs them on workers)."""

    db: CacheDB
    search: SearchService
    customers: CustomerService
    outcomes: OutcomeService
    feedback: FeedbackService
    call_list: CallListService
    visits: VisitPlanService
    supervisor: SupervisorService
    sync: SyncService
    counter: CounterService
    settings_changed: Callable[..., None] = field(default=_ignore)

    def close(self) -> None:
        """Close the API client and the cache."""
        engine = self.sync.engine
        if engine is not None:
            engine.api.close()
        self.db.close()


def build_services(login: LoginResult, *, status: SyncStatus | None = None) -> Services:
    """Wire every service for the session of ``login``."""
    session, db, api = login.session, login.db, login.api
    engine = None
    if api is not None:
        store = CacheSyncStore(db)
        engine = SyncEngine(store, api, session.device_id, status=status)
    claims = ClaimManager(api) if api is not None else None
    live = LiveService(api) if api is not None else None
    return Services(
        db=db,
        search=SearchService(db, session.role, live=live),
        customers=CustomerService(db, session, claims, live=live),
        outcomes=OutcomeService(db, session),
        feedback=FeedbackService(db),
        call_list=CallListService(db, session),
        visits=VisitPlanService(db, session, claims),
        supervisor=SupervisorService(db, session),
        sync=SyncService(db, engine, status),
        counter=CounterService(db, session),
    )
