"""Claims (leases) from the client side (docs/sync.md, "Claims").

- Acquire before an outbound call or visit; the local deadline is
  ``monotonic_at_send + ttl − 10 %``: measured from the *send* so that round-trip time shortens
  the lease rather than extends it, and never compared with a wall clock.
- Renew every TTL/3 while the contact screen is open (:class:`ClaimRenewer`).
- Release with the outcome: the contact payload's ``release_claim`` (default True) releases it in
  the same server transaction as the ledger insert; :meth:`ClaimManager.release` is for cancel.
- Pre-claim a visit list (≤ 12 h, ≤ 200 customers) before going offline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from agentdesk.protocol import ClaimResponse
from agentdesk.sync.client import ApiClient
from agentdesk.sync.errors import LeaseLost, NotFound, Offline, ServerBusy, SyncError

__all__ = [
    "DEFAULT_TTL_S",
    "MAX_PRECLAIM_CUSTOMERS",
    "MAX_PRECLAIM_S",
    "ClaimManager",
    "ClaimRenewer",
    "HeldClaim",
    "PreclaimResult",
]

DEFAULT_TTL_S = 900
MAX_PRECLAIM_S = 12 * 3600
MAX_PRECLAIM_CUSTOMERS = 200
SAFETY_MARGIN = 0.10


@dataclass(frozen=True, slots=True)
class HeldClaim:
    """A claim this client holds.

    Attributes:
        claim_id: the server's claim id (sent with mutations made under it).
        customer_id: the claimed customer.
        channel: the channel of the contact.
        fence: the fencing token (sent with mutations made under it).
        ttl_s: the lease length asked for.
        lease_until: the server's expiry (display only).
        deadline: local monotonic time after which the claim must be treated as lost.
    """

    claim_id: str
    customer_id: str
    channel: str
    fence: int
    ttl_s: int
    lease_until: str
    deadline: float

    def valid_at(self, monotonic_now: float) -> bool:
        """Whether the lease is still safely ours at ``monotonic_now``."""
        return monotonic_now < self.deadline


@dataclass(slots=True)
class PreclaimResult:
    """Outcome of pre-claiming a visit list: claims held and customers refused, with why."""

    held: list[HeldClaim] = field(default_factory=list)
    refused: dict[str, SyncError] = field(default_factory=dict)


class ClaimManager:
    """Acquires, renews and releases claims through the API.

    Args:
        api: the API client.
        clock: monotonic clock (injectable in tests).
    """

    def __init__(self, api: ApiClient, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._api = api
        self._clock = clock

    def acquire(
        self,
        customer_id: str,
        channel: str,
        *,
        purpose: str = "contact",
        ttl_s: int = DEFAULT_TTL_S,
    ) -> HeldClaim:
        """Claim ``customer_id``.

        Raises:
            Claimed: someone else holds the customer.
            PolicyBlocked: the contact policy forbids contacting the customer now.
            Offline: the service cannot be reached (claims are online only).
        """
        sent = self._clock()
        answer = self._api.acquire_claim(customer_id, channel, purpose=purpose, ttl_s=ttl_s)
        return self._held(answer, customer_id, channel, ttl_s, sent)

    def renew(self, claim: HeldClaim) -> HeldClaim:
        """Extend ``claim`` by its TTL (the fence stays).

        Raises:
            LeaseLost: the claim expired or was superseded.
        """
        sent = self._clock()
        answer = self._api.renew_claim(claim.claim_id, ttl_s=claim.ttl_s)
        return self._held(answer, claim.customer_id, claim.channel, claim.ttl_s, sent)

    def release(self, claim: HeldClaim) -> None:
        """Give the claim back (cancel); an already expired or unknown claim is fine."""
        try:
            self._api.release_claim(claim.claim_id)
        except (LeaseLost, NotFound):
            return

    def preclaim_visits(
        self, customer_ids: Sequence[str], channel: str, *, hours: float
    ) -> PreclaimResult:
        """Claim a visit list before going offline (purpose ``visit_plan``).

        Args:
            customer_ids: the customers to visit (≤ 200).
            channel: the channel of the visits (``field_visit``).
            hours: lease length (≤ 12 h).

        Raises:
            ValueError: too many customers or too long a lease.
            Offline: the service cannot be reached.
        """
        if len(customer_ids) > MAX_PRECLAIM_CUSTOMERS:
            raise ValueError(f"at most {MAX_PRECLAIM_CUSTOMERS} customers may be pre-claimed")
        ttl_s = round(hours * 3600)
        if not 0 < ttl_s <= MAX_PRECLAIM_S:
            raise ValueError("a visit-list lease lasts more than 0 and at most 12 hours")
        result = PreclaimResult()
        for customer_id in customer_ids:
            try:
                result.held.append(
                    self.acquire(customer_id, channel, purpose="visit_plan", ttl_s=ttl_s)
                )
            except (Offline, ServerBusy):
                raise
            except SyncError as exc:
                result.refused[customer_id] = exc
        return result

    def _held(
        self, answer: ClaimResponse, customer_id: str, channel: str, ttl_s: int, sent: float
    ) -> HeldClaim:
        return HeldClaim(
            claim_id=answer.claim_id,
            customer_id=customer_id,
            channel=channel,
            fence=answer.fence,
            ttl_s=ttl_s,
            lease_until=answer.lease_until,
            deadline=sent + _granted_s(answer, ttl_s) * (1.0 - SAFETY_MARGIN),
        )


def _granted_s(answer: ClaimResponse, asked_s: int) -> float:
    """The lease length the server granted: ``lease_until − server_now``, both server clock.

    The service may cap a TTL; the difference of its two timestamps never involves our clock.
    """
    try:
        until = datetime.fromisoformat(answer.lease_until.replace("Z", "+00:00"))
        now = datetime.fromisoformat(answer.server_now.replace("Z", "+00:00"))
    except ValueError:
        return float(asked_s)
    return max(0.0, min(float(asked_s), (until - now).total_seconds()))


class ClaimRenewer:
    """Keeps one claim alive (renew every TTL/3) while the contact screen is open.

    Args:
        manager: the claim manager.
        claim: the claim to keep alive.
        on_lost: called once (on the renewer thread) when the lease is lost or its local
            deadline passed without a successful renewal.
        clock: monotonic clock.
    """

    def __init__(
        self,
        manager: ClaimManager,
        claim: HeldClaim,
        *,
        on_lost: Callable[[HeldClaim], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._manager = manager
        self._claim = claim
        self._on_lost = on_lost
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="claim-renewer", daemon=True)

    @property
    def claim(self) -> HeldClaim:
        """The latest renewed claim."""
        return self._claim

    def start(self) -> ClaimRenewer:
        """Start renewing; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop renewing (the screen closed) and join the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._claim.ttl_s / 3):
            try:
                self._claim = self._manager.renew(self._claim)
            except (Offline, ServerBusy):
                if self._claim.valid_at(self._clock()):
                    continue
                self._lost()
                return
            except SyncError:
                self._lost()
                return

    def _lost(self) -> None:
        if self._on_lost is not None:
            self._on_lost(self._claim)
