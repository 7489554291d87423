"""What an offer is about (data, plan, broadband, handset…), read from its code and title."""

from __future__ import annotations

from functools import lru_cache

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
    return _theme(offer.product_code, offer.title)


@lru_cache(maxsize=4096)
def _theme(product_code: str, title: str) -> str:
    """The theme of a code and title (cached: the catalogue is small and read on every pitch)."""
    text = f"{product_code} {title}".lower()
    for theme, words in _KEYWORDS:
        if any(w in text for w in words):
            return theme
    return "other"
