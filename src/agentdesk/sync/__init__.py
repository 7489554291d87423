"""The client side of sync: API client, push-then-pull engine, scheduler, claims, backoff."""

from agentdesk.sync.backoff import Backoff, full_jitter
from agentdesk.sync.claims import ClaimManager, ClaimRenewer, HeldClaim, PreclaimResult
from agentdesk.sync.client import ApiClient
from agentdesk.sync.engine import SyncEngine
from agentdesk.sync.errors import (
    AuthExpired,
    Claimed,
    Forbidden,
    LeaseLost,
    NotFound,
    Offline,
    PolicyBlocked,
    ProtocolError,
    ResetRequired,
    ServerBusy,
    SyncError,
)
from agentdesk.sync.report import SyncReport
from agentdesk.sync.scheduler import SyncScheduler
from agentdesk.sync.status import StatusSnapshot, SyncStatus

__all__ = [
    "ApiClient",
    "AuthExpired",
    "Backoff",
    "ClaimManager",
    "ClaimRenewer",
    "Claimed",
    "Forbidden",
    "HeldClaim",
    "LeaseLost",
    "NotFound",
    "Offline",
    "PolicyBlocked",
    "PreclaimResult",
    "ProtocolError",
    "ResetRequired",
    "ServerBusy",
    "StatusSnapshot",
    "SyncEngine",
    "SyncError",
    "SyncReport",
    "SyncScheduler",
    "SyncStatus",
    "full_jitter",
]
