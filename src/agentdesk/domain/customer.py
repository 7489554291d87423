"""The unified customer view (客户统一视图, docs/domain.md).

A ``CustomerView`` is what every channel sees of one customer: the attribute block of the
IVOC (seed 003), holdings, usage and behaviour, value, interactions, churn information and
in-flight marketing orders (seed 000).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from agentdesk.domain.enums import (
    Channel,
    Gender,
    IdType,
    LifecycleStage,
    LineUseType,
    NumberStatus,
    Segment,
    ValueClass,
    VipLevel,
)

__all__ = [
    "ChurnInfo",
    "CustomerAttributes",
    "CustomerView",
    "Holding",
    "UsageMonth",
    "ValueInfo",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerAttributes:
    """客户属性信息: the IVOC attribute block, keyed by the customer's main number."""

    customer_id: str
    msisdn: str
    name: str
    gender: Gender = Gender.UNKNOWN
    birth_date: date | None = None
    contact_address: str = ""
    postcode: str = ""
    home_address: str = ""
    id_type: IdType = IdType.NATIONAL_ID
    id_number: str = ""
    region_code: str = ""  # city-level GB/T 2260 code, e.g. 440100
    district_code: str = ""
    brand: str = ""
    sub_brand: str | None = None
    vip_level: VipLevel = VipLevel.NONE
    value_class: ValueClass = ValueClass.ORDINARY
    credit_level: str = ""
    join_date: date | None = None
    join_channel: str = ""
    region: str = ""
    permanent_region: str | None = None
    number_status: NumberStatus = NumberStatus.IN_USE
    bundle_expiry: date | None = None
    in_retention_period: bool | None = None
    retention_period_at: datetime | None = None
    frozen_period_at: datetime | None = None
    closure_booked_at: datetime | None = None
    suspension_type: str | None = None
    suspended_at: datetime | None = None
    line_use_type: LineUseType = LineUseType.ORDINARY
    vip_manager_name: str | None = None
    vip_manager_phone: str | None = None
    is_sensitive: bool = False
    sensitive_channels: tuple[Channel, ...] = ()
    do_not_contact: bool = False
    consent_opt_out: tuple[Channel, ...] = ()
    is_kpi_customer: bool = False
    is_comm_customer: bool = True
    music_club: bool = False
    music_club_senior: bool = False
    company_registered: bool = False
    imei: str = ""
    join_imei: str = ""
    join_imei_prev_msisdn: str | None = None
    join_imei_prev_brand: str | None = None
    supports_gprs: bool = True
    supports_mms: bool = True
    supports_java: bool = False
    supports_fetion: bool = False
    segment_id: Segment = Segment.SS3
    previous_segment_id: Segment | None = None
    industry: str = ""
    customer_class: str = "public"  # government_enterprise | business | public (seed 002)
    lifecycle_stage: LifecycleStage = LifecycleStage.USING
    channel_preference: tuple[Channel, ...] = ()
    account_manager_id: str | None = None
    user_name: str = ""
    account_holder: str = ""
    contact_phone: str = ""
    previous_numbers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    def age_on(self, day: date) -> int | None:
        """Age in whole years on ``day``, or None without a birth date."""
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def tenure_days_on(self, day: date) -> int | None:
        """在网时长: days since joining, or None without a join date."""
        return None if self.join_date is None else (day - self.join_date).days


@dataclass(frozen=True, slots=True, kw_only=True)
class Holding:
    """客户拥有信息: one product, plan or service the customer holds."""

    holding_id: str
    customer_id: str
    product_code: str
    product_name: str
    kind: str  # plan | data_pack | broadband | handset | value_added | contract
    monthly_fee: float = 0.0
    data_allowance_mb: int = 0
    voice_allowance_min: int = 0
    started_on: date | None = None
    ends_on: date | None = None
    status: str = "active"


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageMonth:
    """客户行为信息: one month of usage (voice, data, bill)."""

    customer_id: str
    month: str  # YYYY-MM
    voice_min: int
    data_mb: int
    sms_count: int
    arpu: float
    roaming_min: int = 0
    overage_fee: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ValueInfo:
    """客户价值信息."""

    arpu_3m: float = 0.0
    lifetime_value: float = 0.0
    value_tier: int = 3  # 1 best … 5
    credit_score: int = 0
    points: int = 0
    arrears: float = 0.0
    fee_alert: bool = False
    bill_anomaly: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ChurnInfo:
    """客户离网信息: churn risk and, for churned customers, the type and month."""

    risk_score: float = 0.0  # 0..1
    risk_level: str = "low"  # low | medium | high
    reason: str | None = None
    urgency: int = 0  # 0 none … 3 act now (seed 004 graded urgency)
    churn_type: str | None = None
    churn_month: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerView:
    """The whole unified view of one customer, as the desktop and the API show it."""

    attributes: CustomerAttributes
    holdings: tuple[Holding, ...] = ()
    usage: tuple[UsageMonth, ...] = ()
    value: ValueInfo = field(default_factory=ValueInfo)
    churn: ChurnInfo = field(default_factory=ChurnInfo)
    holding_stats: dict[str, float] = field(default_factory=dict)
    behaviour_stats: dict[str, float] = field(default_factory=dict)
    row_seq: int = 0

    @property
    def customer_id(self) -> str:
        """Shortcut for ``attributes.customer_id``."""
        return self.attributes.customer_id
