"""Scripted strategies for the iterated 2x2 games, read off the memory-one observation.

The observation is the own-perspective one-hot [CC, CD, DC, DD, start] of the last joint action
(own action first), so the opponent defected last round exactly at indices 1 (CD) and 3 (DD).
Action 0 is cooperate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from agents.policy import Policy
from agents.scripted.generic import RandomPolicy

COOPERATE, DEFECT = 0, 1
_OPPONENT_DEFECTED = np.array([0, 1, 0, 1, 0], dtype=np.float32)


class AlwaysCooperate(Policy):
    """Plays action 0 (cooperate) in every round."""

    name = "always_cooperate"

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Cooperate everywhere."""
        return np.full(observations.shape[0], COOPERATE, dtype=np.int64)


class AlwaysDefect(Policy):
    """Plays action 1 (defect) in every round."""

    name = "always_defect"

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Defect everywhere."""
        return np.full(observations.shape[0], DEFECT, dtype=np.int64)


class TitForTat(Policy):
    """Cooperates in the first round, then copies the opponent's previous action."""

    name = "tit_for_tat"

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Defect exactly where the opponent defected last round (never at the start)."""
        return (observations @ _OPPONENT_DEFECTED > 0.5).astype(np.int64)


#: strategy name -> constructor from the game ("random" is generic: agents.scripted.generic)
STRATEGIES: dict[str, Callable[[Any], Policy]] = {
    "always_cooperate": lambda game: AlwaysCooperate(),
    "always_defect": lambda game: AlwaysDefect(),
    "tit_for_tat": lambda game: TitForTat(),
}

__all__ = ["STRATEGIES", "AlwaysCooperate", "AlwaysDefect", "RandomPolicy", "TitForTat"]
