"""Next-best-offer ranking with reasons and scripts; outbound call-list scoring (no I/O)."""

from agentdesk.recommend.call_list import call_list_score
from agentdesk.recommend.engine import recommend
from agentdesk.recommend.result import RankedOffer, RecommendationResult

__all__ = ["RankedOffer", "RecommendationResult", "call_list_score", "recommend"]
