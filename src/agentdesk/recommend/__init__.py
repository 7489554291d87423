"""Next-best-offer ranking with reasons and scripts; outbound call-list scoring (no I/O)."""

from agentdesk.recommend.call_list import (
    CallListEntry,
    CallListScore,
    RankedCallList,
    call_list_score,
    rank_call_list,
)
from agentdesk.recommend.engine import MAX_ITEMS, recommend
from agentdesk.recommend.factors import Factors, score_factors
from agentdesk.recommend.result import RankedOffer, RecommendationResult
from agentdesk.recommend.themes import offer_theme

__all__ = [
    "MAX_ITEMS",
    "CallListEntry",
    "CallListScore",
    "Factors",
    "RankedCallList",
    "RankedOffer",
    "RecommendationResult",
    "call_list_score",
    "offer_theme",
    "rank_call_list",
    "recommend",
    "score_factors",
]
