"""LOLA, exact: learning with opponent-learning awareness on closed-form returns.

:class:`LolaLearner` implements the exact-game interface
(:class:`agents.algorithms.exact.ExactLearner`), in the Taylor form with the stop-gradient and
in the lookahead form (:mod:`agents.algorithms.lola.exact`).
"""

from agents.algorithms.lola.exact import FORMS, LolaConfig, LolaLearner

__all__ = ["FORMS", "LolaConfig", "LolaLearner"]
