"""Enumerations of the business vocabulary (docs/domain.md).

All enums are ``StrEnum`` so their values are the wire and storage names.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Channel",
    "ChannelGroup",
    "Gender",
    "IdType",
    "LifecycleStage",
    "LineUseType",
    "NumberStatus",
    "OrderStatus",
    "Reaction",
    "ResultCode",
    "Role",
    "Segment",
    "ValueClass",
    "VipLevel",
]


class Channel(StrEnum):
    """A way of reaching a customer. The first five are the desktop's own channels."""

    OUTBOUND_CALL = "outbound_call"
    INBOUND_CALL = "inbound_call"
    STORE = "store"
    FIELD_VISIT = "field_visit"
    PHONE = "phone"
    ONLINE_STORE = "online_store"
    WAP = "wap"
    SMS = "sms"
    MMS = "mms"
    USSD = "ussd"
    IVR = "ivr"
    SELF_SERVICE_TERMINAL = "self_service_terminal"
    EMAIL = "email"
    DIRECT_MAIL = "direct_mail"
    FAX = "fax"
    DEALER = "dealer"
    PARTNER = "partner"

    @property
    def customer_initiated(self) -> bool:
        """True where the customer comes to us (docs/contact-policy.md)."""
        return self in _CUSTOMER_INITIATED

    @property
    def automated(self) -> bool:
        """True for channels a machine sends on, without a person at our end."""
        return self in _AUTOMATED

    @property
    def group(self) -> ChannelGroup:
        """The channel group of seed 003."""
        return _GROUPS[self]


class ChannelGroup(StrEnum):
    """Channel groups of seed 003."""

    PHYSICAL = "physical"
    ELECTRONIC = "electronic"
    THIRD_PARTY = "third_party"
    DIRECT = "direct"


_CUSTOMER_INITIATED = frozenset(
    {
        Channel.INBOUND_CALL,
        Channel.STORE,
        Channel.ONLINE_STORE,
        Channel.WAP,
        Channel.SELF_SERVICE_TERMINAL,
    }
)
_AUTOMATED = frozenset(
    {
        Channel.SMS,
        Channel.MMS,
        Channel.USSD,
        Channel.IVR,
        Channel.EMAIL,
        Channel.DIRECT_MAIL,
        Channel.FAX,
    }
)
_GROUPS = {
    Channel.OUTBOUND_CALL: ChannelGroup.DIRECT,
    Channel.INBOUND_CALL: ChannelGroup.DIRECT,
    Channel.STORE: ChannelGroup.PHYSICAL,
    Channel.FIELD_VISIT: ChannelGroup.DIRECT,
    Channel.PHONE: ChannelGroup.DIRECT,
    Channel.ONLINE_STORE: ChannelGroup.ELECTRONIC,
    Channel.WAP: ChannelGroup.ELECTRONIC,
    Channel.SMS: ChannelGroup.ELECTRONIC,
    Channel.MMS: ChannelGroup.ELECTRONIC,
    Channel.USSD: ChannelGroup.ELECTRONIC,
    Channel.IVR: ChannelGroup.ELECTRONIC,
    Channel.SELF_SERVICE_TERMINAL: ChannelGroup.PHYSICAL,
    Channel.EMAIL: ChannelGroup.ELECTRONIC,
    Channel.DIRECT_MAIL: ChannelGroup.DIRECT,
    Channel.FAX: ChannelGroup.ELECTRONIC,
    Channel.DEALER: ChannelGroup.THIRD_PARTY,
    Channel.PARTNER: ChannelGroup.THIRD_PARTY,
}


class Segment(StrEnum):
    """Strategic segments SS1–SS9 of seed 003."""

    SS1 = "SS1"  # 高值商务 high value, business
    SS2 = "SS2"  # 高值时尚 high value, trendy
    SS3 = "SS3"  # 中值实用 mid value, practical
    SS4 = "SS4"  # 本地温饱 local, basic needs
    SS5 = "SS5"  # 低值休眠 low value, dormant
    SS6 = "SS6"  # 高值高危 high value, at risk
    SS7 = "SS7"  # 高值外流 high value, outflow
    SS8 = "SS8"  # 本地小康 local, well-off
    SS9 = "SS9"  # 传统节俭 traditional, frugal

    @property
    def code_name(self) -> str:
        """The English code name of docs/domain.md."""
        return _SEGMENT_NAMES[self]

    @property
    def high_value(self) -> bool:
        """Segments whose name says 'high value'."""
        return self in (Segment.SS1, Segment.SS2, Segment.SS6, Segment.SS7)


_SEGMENT_NAMES = {
    Segment.SS1: "high_value_business",
    Segment.SS2: "high_value_trendy",
    Segment.SS3: "mid_value_practical",
    Segment.SS4: "local_basic",
    Segment.SS5: "low_value_dormant",
    Segment.SS6: "high_value_at_risk",
    Segment.SS7: "high_value_outflow",
    Segment.SS8: "local_well_off",
    Segment.SS9: "traditional_frugal",
}


class ResultCode(StrEnum):
    """Contact result codes (docs/domain.md, result codes)."""

    REACHED_ACCEPTED = "reached_accepted"
    REACHED_CALLBACK = "reached_callback"
    REACHED_NO_OFFER = "reached_no_offer"
    REACHED_DECLINED = "reached_declined"
    NOT_REACHED_NO_ANSWER = "not_reached_no_answer"
    NOT_REACHED_BUSY = "not_reached_busy"
    NOT_REACHED_OFF = "not_reached_off"
    WRONG_NUMBER = "wrong_number"
    DO_NOT_CONTACT_REQUESTED = "do_not_contact_requested"
    CHURN_INTENT = "churn_intent"

    @property
    def reached(self) -> bool:
        """Whether the customer was actually reached."""
        return self not in (
            ResultCode.NOT_REACHED_NO_ANSWER,
            ResultCode.NOT_REACHED_BUSY,
            ResultCode.NOT_REACHED_OFF,
            ResultCode.WRONG_NUMBER,
        )

    @property
    def score(self) -> int | None:
        """The call-list score of seed 004 (None: excluded from scoring)."""
        return _RESULT_SCORES.get(self)

    @property
    def needs_appointment(self) -> bool:
        """A call-back result must carry ``next_appointment_at``."""
        return self is ResultCode.REACHED_CALLBACK


_RESULT_SCORES = {
    ResultCode.REACHED_ACCEPTED: 5,
    ResultCode.REACHED_CALLBACK: 4,
    ResultCode.REACHED_NO_OFFER: 3,
    ResultCode.REACHED_DECLINED: 2,
    ResultCode.NOT_REACHED_NO_ANSWER: 1,
    ResultCode.NOT_REACHED_BUSY: 1,
    ResultCode.NOT_REACHED_OFF: 1,
    ResultCode.CHURN_INTENT: 3,
}


class Reaction(StrEnum):
    """A customer's reaction to one offer shown during a contact."""

    ACCEPT = "accept"
    DECLINE = "decline"
    LATER = "later"


class Role(StrEnum):
    """User roles (docs/domain.md, roles)."""

    CALL_CENTRE = "call_centre"
    STORE = "store"
    FIELD = "field"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def channels(self) -> tuple[Channel, ...]:
        """Channels a user of this role contacts customers on by default."""
        return _ROLE_CHANNELS[self]

    @property
    def contacts_customers(self) -> bool:
        """Supervisors and admins read but never contact."""
        return bool(_ROLE_CHANNELS[self])

    @property
    def sees_full_pii(self) -> bool:
        """Roles allowed to see unmasked phone and ID numbers."""
        return self in (Role.FIELD, Role.ADMIN)


_ROLE_CHANNELS: dict[Role, tuple[Channel, ...]] = {
    Role.CALL_CENTRE: (Channel.INBOUND_CALL, Channel.OUTBOUND_CALL),
    Role.STORE: (Channel.STORE,),
    Role.FIELD: (Channel.FIELD_VISIT, Channel.PHONE),
    Role.SUPERVISOR: (),
    Role.ADMIN: (),
}


class Gender(StrEnum):
    """Customer gender as the target list carries it."""

    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class IdType(StrEnum):
    """证件类型."""

    NATIONAL_ID = "national_id"
    PASSPORT = "passport"
    OFFICER_ID = "officer_id"
    OTHER = "other"


class ValueClass(StrEnum):
    """客户类别."""

    HIGH_VALUE = "high_value"
    MID_END = "mid_end"
    ORDINARY = "ordinary"


class VipLevel(StrEnum):
    """客户等级 (postpaid only)."""

    DIAMOND = "diamond"
    PLATINUM = "platinum"
    GOLD = "gold"
    SILVER = "silver"
    NONE = "none"


class NumberStatus(StrEnum):
    """号码状态, postpaid and prepaid values together."""

    IN_USE = "in_use"
    SUSPENDED = "suspended"
    CLOSED_ARREARS = "closed_arrears"
    CLOSED_FORCED = "closed_forced"
    CLOSURE_BOOKED = "closure_booked"
    CLOSED = "closed"
    TRANSFERRED = "transferred"
    RECYCLED = "recycled"
    VALID = "valid"
    RETENTION_PERIOD = "retention_period"
    FROZEN_PERIOD = "frozen_period"


class LineUseType(StrEnum):
    """机类型: 公务机 / 劳务机 / 普通机."""

    OFFICIAL = "official"
    STAFF = "staff"
    ORDINARY = "ordinary"


class LifecycleStage(StrEnum):
    """Customer lifecycle of seed 003."""

    PROSPECT = "prospect"
    INQUIRING = "inquiring"
    LEARNING = "learning"
    BUYING = "buying"
    USING = "using"
    LEAVING = "leaving"
    CHURNED = "churned"


class OrderStatus(StrEnum):
    """Status of a marketing order (营销单)."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"
