"""What an offer is about (data, plan, broadband, handset…), read from its code and title."""

from __future__ import annotations

from agentdesk.domain import Offer

__all__ = ["offer_theme"]

_KEYWORDS = (
    ("data", ("data", "流量", "gprs", "4g", "5g")),
    ("broadband", ("broadband", "宽带", "fiber", "光纤")),
    ("handset", ("handset", "phone", "手机", "终端")),
    ("plan", ("plan", "tariff", "套餐", "资费")),
    ("e_channel", ("app", "online", "网上", "e-channel")),
)


def offer_theme(offer: Offer) -> str:
    """The first theme whose keyword occurs in the offer's code or title; else ``other``."""
    text = f"{offer.product_code} {offer.title}".lower()
    for theme, words in _KEYWORDS:
        if any(w in text for w in words):
            return theme
    return "other"
