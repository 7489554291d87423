"""Pure maths behind the charts (the UI only turns these numbers into pyqtgraph items)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agentdesk.domain import UsageMonth
from agentdesk.services.dto import CampaignProgress

__all__ = ["UsageSeries", "acceptance_rate", "control_lift", "usage_series"]


@dataclass(frozen=True, slots=True)
class UsageSeries:
    """Monthly usage, oldest first, at most ``months`` long."""

    months: tuple[str, ...]
    voice_min: tuple[float, ...]
    data_gb: tuple[float, ...]
    arpu: tuple[float, ...]


def usage_series(usage: Sequence[UsageMonth], months: int = 12) -> UsageSeries:
    """The last ``months`` months of usage, oldest first (data in GB)."""
    rows = sorted(usage, key=lambda u: u.month)[-months:]
    return UsageSeries(
        months=tuple(u.month for u in rows),
        voice_min=tuple(float(u.voice_min) for u in rows),
        data_gb=tuple(round(u.data_mb / 1024, 2) for u in rows),
        arpu=tuple(float(u.arpu) for u in rows),
    )


def acceptance_rate(accepted: int, base: int) -> float:
    """``accepted / base`` as a fraction, 0 when the base is empty."""
    return accepted / base if base else 0.0


def control_lift(progress: CampaignProgress) -> float | None:
    """Acceptance-rate lift of the targets over the control group (None without a control group).

    Both rates count customers who took one of the campaign's products by any route (the
    target rate falls back to accepted contacts when that figure is unknown), over the group size.
    """
    if progress.control_size == 0:
        return None
    took = progress.accepted if progress.treatment_took is None else progress.treatment_took
    target = acceptance_rate(took, progress.targets)
    control = acceptance_rate(progress.control_accepted, progress.control_size)
    return target - control
