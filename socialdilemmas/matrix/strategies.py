"""Scripted strategies of the iterated 2x2 games, read off the memory-one observation.

The observation is the own-perspective one-hot of the last joint action, entry ``2 * own +
other`` (action 0 is cooperate), or entry :data:`~socialdilemmas.matrix.kernels.START` before
the first round; so the other player defected last round exactly where the entry is odd.

>>> import numpy as np
>>> TitForTat().act(np.eye(5, dtype=np.float32), np.zeros(5, bool))  # CC, CD, DC, DD, start
array([0, 1, 0, 1, 0])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from socialdilemmas.core.strategy import Strategy
from socialdilemmas.matrix.kernels import START

COOPERATE, DEFECT = 0, 1


class AlwaysCooperate(Strategy):
    """Plays action 0 (cooperate) in every round."""

    name = "always_cooperate"

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Cooperate everywhere."""
        return np.full(observations.shape[0], COOPERATE, dtype=np.int64)


class AlwaysDefect(Strategy):
    """Plays action 1 (defect) in every round."""

    name = "always_defect"

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Defect everywhere."""
        return np.full(observations.shape[0], DEFECT, dtype=np.int64)


class TitForTat(Strategy):
    """Cooperates in the first round, then copies the other player's previous action."""

    name = "tit_for_tat"

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Defect exactly where the other player defected last round (never at the start)."""
        entry = np.asarray(observations).argmax(-1)
        return ((entry != START) & (entry % 2 == 1)).astype(np.int64)


#: strategy name -> factory
STRATEGIES: dict[str, Callable[[], Strategy]] = {
    "always_cooperate": AlwaysCooperate,
    "always_defect": AlwaysDefect,
    "tit_for_tat": TitForTat,
}

__all__ = ["STRATEGIES", "AlwaysCooperate", "AlwaysDefect", "TitForTat"]
