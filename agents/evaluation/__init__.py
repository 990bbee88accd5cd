"""Evaluation: matches, round-robin leagues, the literature's metrics, plots, exploitability.

>>> from agents.evaluation import match
>>> from agents.scripted import scripted_policy
>>> result = match(scripted_policy("tit_for_tat", "ipd_v0"),
...                scripted_policy("always_defect", "ipd_v0"), "ipd_v0", episodes=4)
>>> [round(r, 2) for r in result.rewards]
[-2.02, -1.96]
"""

from agents import missing_extra

try:
    from agents.evaluation.exploit import ExploitConfig, ExploitResult, train_best_response
    from agents.evaluation.league import LeagueResult, league
    from agents.evaluation.match import MatchResult, match
    from agents.evaluation.metrics import seat_metrics
except ImportError as _error:
    if _error.name not in {"torch", "matplotlib"}:
        raise
    raise missing_extra(_error) from None

__all__ = [
    "ExploitConfig",
    "ExploitResult",
    "LeagueResult",
    "MatchResult",
    "league",
    "match",
    "seat_metrics",
    "train_best_response",
]
