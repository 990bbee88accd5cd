"""Scripted strategies for the iterated 2x2 games, read off the memory-one observation.

The observation is the own-perspective one-hot [CC, CD, DC, DD, start] of the last joint action
(own action first), so the opponent defected last round exactly at indices 1 (CD) and 3 (DD).
Action 0 is cooperate.
"""

from __future__ import annotations

import numpy as np

from agents.policy import Policy

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


class RandomPolicy(Policy):
    """Uniformly random actions, reproducible from the seed given to :meth:`reset`.

    Args:
        action_space: the single-agent action space of the game (any gymnasium space).
    """

    name = "random"

    def __init__(self, action_space) -> None:
        self.action_space = action_space
        self._rng = np.random.default_rng()

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Restart the random stream from ``seed``."""
        self._rng = np.random.default_rng(seed)

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """One uniform draw per game."""
        n = observations.shape[0]
        space = self.action_space
        if hasattr(space, "n"):
            return self._rng.integers(0, int(space.n), size=n, dtype=np.int64)
        if hasattr(space, "nvec"):
            return self._rng.integers(0, space.nvec, size=(n, *space.shape), dtype=np.int64)
        return self._rng.uniform(space.low, space.high, size=(n, *space.shape))
