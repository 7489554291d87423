"""Customer header: name, masked phone and ID, segment, value, VIP, churn risk, badges, claim."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from agentdesk.domain import VipLevel
from agentdesk.i18n import _
from agentdesk.services.dto import CustomerScreen
from agentdesk.ui import texts
from agentdesk.ui.style import set_style_property
from agentdesk.ui.widgets.badge import Badge

__all__ = ["CustomerHeader"]


class CustomerHeader(QWidget):
    """The top strip of the customer view. Call :meth:`show_screen` with a new screen."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._screen: CustomerScreen | None = None
        self.name = QLabel()
        self.name.setObjectName("customerName")
        self.ids = QLabel()
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        self.badges = QHBoxLayout()
        self.badges.setSpacing(4)
        self.claim = QLabel()
        self.claim.setObjectName("claimBanner")
        self.claim.setWordWrap(True)
        self.claim.hide()
        self.verdict = QLabel()
        self.verdict.setObjectName("verdict")
        self.verdict.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.name)
        top.addSpacing(12)
        top.addWidget(self.ids)
        top.addStretch(1)
        top.addLayout(self.badges)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addWidget(self.facts)
        layout.addWidget(self.claim)
        layout.addWidget(self.verdict)

    def show_screen(self, screen: CustomerScreen | None) -> None:
        """Render ``screen`` (None clears)."""
        self._screen = screen
        self.retranslate()

    def retranslate(self) -> None:
        """Re-render in the current language."""
        screen = self._screen
        self._clear_badges()
        if screen is None:
            self.name.setText(_("No customer open"))
            self.ids.clear()
            self.facts.clear()
            self.claim.hide()
            self.verdict.clear()
            return
        attrs = screen.view.attributes
        self.name.setText(attrs.name)
        self.ids.setText(f"{screen.phone}   {screen.id_number}   {attrs.customer_id}")
        self.facts.setText(self._facts(screen))
        for text, tone in self._badge_specs(screen):
            self.badges.addWidget(Badge(text, tone))
        self._show_claim(screen)
        self._show_verdict(screen)

    def _facts(self, screen: CustomerScreen) -> str:
        view = screen.view
        parts = [
            texts.segment_label(view.attributes.segment_id),
            _("Value tier {tier}").format(tier=view.value.value_tier),
            _("ARPU {amount}").format(amount=texts.fmt_money(view.value.arpu_3m)),
            _("Churn risk {level} ({score:.0%})").format(
                level=_risk_label(view.churn.risk_level), score=view.churn.risk_score
            ),
        ]
        if screen.tenure_days is not None:
            parts.append(_("Tenure {years:.1f} years").format(years=screen.tenure_days / 365.25))
        if view.attributes.bundle_expiry:
            days = (view.attributes.bundle_expiry - date.today()).days
            parts.append(
                _("Bundle ends {date} ({days} d)").format(
                    date=texts.fmt_date(view.attributes.bundle_expiry), days=days
                )
            )
        return "  ·  ".join(parts)

    def _badge_specs(self, screen: CustomerScreen) -> list[tuple[str, str]]:
        attrs, view = screen.view.attributes, screen.view
        specs: list[tuple[str, str]] = []
        if attrs.vip_level != VipLevel.NONE:
            specs.append(
                (_("VIP {level}").format(level=texts.vip_label(attrs.vip_level.value)), "info")
            )
        if view.churn.risk_level == "high":
            specs.append((_("Churn risk"), "danger"))
        if attrs.do_not_contact:
            specs.append((_("Do not contact"), "danger"))
        if attrs.is_sensitive or attrs.sensitive_channels:
            channels = ", ".join(texts.channel_label(c) for c in attrs.sensitive_channels)
            specs.append((_("Sensitive: {channels}").format(channels=channels or "-"), "warning"))
        if view.value.fee_alert:
            specs.append((_("Fee alert"), "warning"))
        if view.value.bill_anomaly:
            specs.append((_("Bill anomaly"), "warning"))
        return specs

    def _show_claim(self, screen: CustomerScreen) -> None:
        claim = screen.other_claim
        if claim is None:
            self.claim.hide()
            return
        who = claim.holder_name or claim.holder_id
        values = {
            "who": who,
            "channel": texts.channel_label(claim.channel),
            "until": texts.fmt_when(claim.lease_until),
            "since": texts.fmt_when(claim.acquired_at),
        }
        if claim.acquired_at is None:
            text = _("Being worked by {who} ({channel}) until {until}").format(**values)
        else:
            text = _("Being worked by {who} ({channel}) since {since}, until {until}").format(
                **values
            )
        self.claim.setText(text)
        self.claim.show()

    def _show_verdict(self, screen: CustomerScreen) -> None:
        verdict = screen.verdict
        line = texts.verdict_label(verdict.outcome)
        if verdict.outcome == "deferred" and verdict.deferred_until:
            line = _("Deferred until {when}").format(
                when=texts.fmt_datetime(verdict.deferred_until)
            )
        reasons = "; ".join(texts.explain(r) for r in verdict.reasons)
        channel = texts.channel_label(screen.channel)
        self.verdict.setText(f"{channel}: {line}" + (f" — {reasons}" if reasons else ""))
        set_style_property(self.verdict, "verdict", verdict.outcome)

    def _clear_badges(self) -> None:
        while self.badges.count():
            item = self.badges.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()


def _risk_label(level: str) -> str:
    return {"low": _("low"), "medium": _("medium"), "high": _("high")}.get(level, level)
