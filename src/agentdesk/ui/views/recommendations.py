"""Recommendations panel: top offers with reasons and the talk script, one key per reaction.

Keys (window-wide, see ``shortcuts.py``): F6 accept, F7 decline, F8 later on the *current*
offer; Ctrl+Up / Ctrl+Down move the current offer. Reactions are collected here and read by
the outcome form when it saves.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from agentdesk.domain import OfferReaction, Reaction
from agentdesk.i18n import _
from agentdesk.services.dto import CustomerScreen, OfferCard
from agentdesk.ui import texts
from agentdesk.ui.style import set_style_property

__all__ = ["OfferCardWidget", "RecommendationsPanel"]


class OfferCardWidget(QFrame):
    """One offer: title, reasons, script, three reaction buttons."""

    sig_reaction = Signal(str, str)  # offer_id, reaction

    def __init__(self, offer: OfferCard, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.offer = offer
        self.index = index
        self.reaction: Reaction | None = None
        self.setObjectName("offerCard")
        self.title = QLabel()
        self.title.setObjectName("offerTitle")
        self.title.setWordWrap(True)
        self.reasons = QLabel()
        self.reasons.setWordWrap(True)
        self.script = QLabel()
        self.script.setObjectName("script")
        self.script.setWordWrap(True)
        self.buttons: dict[Reaction, QPushButton] = {}
        row = QHBoxLayout()
        for reaction in (Reaction.ACCEPT, Reaction.DECLINE, Reaction.LATER):
            button = QPushButton()
            button.setCheckable(True)
            button.clicked.connect(lambda _c=False, r=reaction: self.set_reaction(r))
            self.buttons[reaction] = button
            row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.reasons)
        layout.addWidget(self.script)
        layout.addLayout(row)
        self.retranslate()

    def set_current(self, current: bool) -> None:
        """Mark the card the reaction keys act on."""
        self.setProperty("current", current)
        self.title.setText(("▶ " if current else "") + self._title_text())

    def set_reaction(self, reaction: Reaction | None) -> None:
        """Record (or clear) the customer's reaction to this offer."""
        self.reaction = None if reaction == self.reaction else reaction
        for r, button in self.buttons.items():
            button.setChecked(r == self.reaction)
        set_style_property(self, "reaction", self.reaction.value if self.reaction else "")
        self.sig_reaction.emit(self.offer.offer_id, self.reaction.value if self.reaction else "")

    def retranslate(self) -> None:
        """Re-render in the current language."""
        current = bool(self.property("current"))
        self.title.setText(("▶ " if current else "") + self._title_text())
        self.reasons.setText("\n".join(f"• {texts.explain(r)}" for r in self.offer.reasons))
        self.script.setText(self.offer.script or _("(no script for this channel)"))
        self.buttons[Reaction.ACCEPT].setText(_("Accept (F6)"))
        self.buttons[Reaction.DECLINE].setText(_("Decline (F7)"))
        self.buttons[Reaction.LATER].setText(_("Later (F8)"))

    def _title_text(self) -> str:
        fee = texts.fmt_money(self.offer.monthly_fee)
        return f"{self.index + 1}. {self.offer.title}  " + _("({fee}/month)").format(fee=fee)


class RecommendationsPanel(QWidget):
    """Offers for the open customer.

    Signals:
        sig_reactions_changed: the set of reactions changed.
    """

    sig_reactions_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards: list[OfferCardWidget] = []
        self._current = 0
        self._screen: CustomerScreen | None = None
        self.heading = QLabel()
        self.heading.setObjectName("offerTitle")
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        self.cards_box = QVBoxLayout()
        self.cards_box.setSpacing(4)
        self.toggle_suppressed = QToolButton()
        self.toggle_suppressed.setCheckable(True)
        self.toggle_suppressed.toggled.connect(self._on_toggle_suppressed_toggled)
        self.suppressed = QLabel()
        self.suppressed.setWordWrap(True)
        self.suppressed.hide()
        inner = QWidget()
        box = QVBoxLayout(inner)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(self.cards_box)
        box.addWidget(self.empty)
        box.addWidget(self.toggle_suppressed)
        box.addWidget(self.suppressed)
        box.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(scroll, 1)
        self.retranslate()

    # -- data ----------------------------------------------------------------------------------
    def show_screen(self, screen: CustomerScreen | None) -> None:
        """Show the offers of ``screen``; reactions start empty."""
        self._screen = screen
        for card in self.cards:
            card.deleteLater()
        self.cards = []
        offers = screen.offers if screen else ()
        for i, offer in enumerate(offers):
            card = OfferCardWidget(offer, i)
            card.sig_reaction.connect(self._on_card_reaction)
            self.cards_box.addWidget(card)
            self.cards.append(card)
        self._current = 0
        self._mark_current()
        self.retranslate()

    def reactions(self) -> tuple[OfferReaction, ...]:
        """The reactions captured so far, for the outcome."""
        return tuple(
            OfferReaction(
                offer_id=c.offer.offer_id, reaction=c.reaction, campaign_id=c.offer.campaign_id
            )
            for c in self.cards
            if c.reaction is not None
        )

    # -- keyboard ------------------------------------------------------------------------------
    def react_current(self, reaction: Reaction) -> bool:
        """Apply ``reaction`` to the current offer; False when there is none."""
        if not self.cards:
            return False
        self.cards[self._current].set_reaction(reaction)
        return True

    def move_current(self, step: int) -> None:
        """Move the current offer up or down."""
        if self.cards:
            self._current = (self._current + step) % len(self.cards)
            self._mark_current()

    # -- internals -----------------------------------------------------------------------------
    def _mark_current(self) -> None:
        for i, card in enumerate(self.cards):
            card.set_current(i == self._current)

    def _on_card_reaction(self, _offer_id: str, _reaction: str) -> None:
        self.sig_reactions_changed.emit()

    def _on_toggle_suppressed_toggled(self, checked: bool) -> None:
        self.suppressed.setVisible(checked)

    def retranslate(self) -> None:
        """Re-render in the current language."""
        self.heading.setText(_("Recommended offers"))
        screen = self._screen
        suppressed = screen.suppressed if screen else ()
        self.empty.setText(
            _("No offer for this customer on this channel.") if not self.cards else ""
        )
        self.empty.setVisible(not self.cards)
        self.toggle_suppressed.setText(_("Held back ({n})").format(n=len(suppressed)))
        self.toggle_suppressed.setVisible(bool(suppressed))
        lines = [
            f"• {s.title}: " + "; ".join(texts.explain(r) for r in s.reasons) for s in suppressed
        ]
        self.suppressed.setText("\n".join(lines))
        for card in self.cards:
            card.retranslate()
