"""Learners on exact values of iterated 2x2 games: the value, the interface, naive learning.

- :mod:`~agents.algorithms.exact.value`: :class:`ExactGame`, the closed-form, differentiable
  return of memory-one policies, and the one table of state orderings (env, exact.py, MeVa).
- :mod:`~agents.algorithms.exact.interface`: :class:`ExactLearner`, what a learner on exact
  values implements (parameters in, updated parameters out).
- :mod:`~agents.algorithms.exact.naive`: naive gradient ascent.

Exact LOLA lives in :mod:`agents.algorithms.lola`, M-MAML in :mod:`agents.algorithms.mmaml`;
:mod:`agents.algorithms.exact.registry` names them all for the tournament.
"""

from agents.algorithms.exact.interface import ExactLearner, ExactLearnerConfig
from agents.algorithms.exact.naive import NaiveConfig, NaiveLearner
from agents.algorithms.exact.value import (
    ExactGame,
    SeatView,
    from_meva_layout,
    to_meva_layout,
)

__all__ = [
    "ExactGame",
    "ExactLearner",
    "ExactLearnerConfig",
    "NaiveConfig",
    "NaiveLearner",
    "SeatView",
    "from_meva_layout",
    "to_meva_layout",
]
