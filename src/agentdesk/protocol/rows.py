"""Domain rows on the wire: dataclass <-> JSON-ready dict, and the push payload shapes."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

__all__ = [
    "CallbackPayload",
    "ContactPayload",
    "FeedbackPayload",
    "ReactionPayload",
    "VisitPlanPayload",
    "from_row",
    "to_row",
    "usage_row",
]

T = TypeVar("T")


def to_row(obj: object) -> dict[str, Any]:
    """A domain dataclass as a JSON-ready dict (dates as ISO strings, enums as values)."""
    row = msgspec.to_builtins(obj)
    assert isinstance(row, dict)
    return row


def from_row(row: dict[str, Any], cls: type[T]) -> T:
    """A JSON dict back into the domain dataclass ``cls``, validating types."""
    return msgspec.convert(row, cls, strict=False)


def usage_row(customer_id: str, months: list[dict[str, Any]]) -> dict[str, Any]:
    """The row of a ``usage_months`` change (its id is the customer id): all of the customer's
    usage months, oldest first. A ``put`` replaces the customer's months as a whole."""
    return {"customer_id": customer_id, "months": months}


class ReactionPayload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A reaction to one offer (kind ``reaction``, or embedded in a contact)."""

    offer_id: str
    reaction: str
    campaign_id: str | None = None
    customer_id: str | None = None
    contact_id: str | None = None


class ContactPayload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Payload of kind ``contact`` (seed-000 contact fields). ``staff_id`` comes from the token."""

    contact_id: str
    customer_id: str
    channel: str
    started_at: str
    ended_at: str
    result_code: str
    campaign_id: str | None = None
    opportunity_id: str | None = None
    next_appointment_at: str | None = None
    note: str = ""
    reactions: list[ReactionPayload] = msgspec.field(default_factory=list)
    staff_id: str | None = None  # ignored: the server takes it from the token
    release_claim: bool = True


class CallbackPayload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Payload of kind ``callback``: an intent to call the customer back."""

    customer_id: str
    due_at: str
    channel: str = "outbound_call"
    campaign_id: str | None = None
    note: str = ""


class VisitPlanPayload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Payload of kind ``visit_plan``: an intent to visit customers on a day."""

    day: str
    customer_ids: list[str]
    note: str = ""


class FeedbackPayload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Payload of kind ``feedback``: frontline report of wrong customer data (seed 001)."""

    customer_id: str
    panel: str
    field: str = ""
    reported_value: str = ""
    correct_value: str = ""
    note: str = ""
