"""Strategies that fit every game: uniformly random play."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from agents.policy import Policy


class RandomPolicy(Policy):
    """Uniformly random actions, reproducible from the seed given to :meth:`reset`.

    Args:
        action_space: the single-agent action space of the game (``Discrete``,
            ``MultiDiscrete`` or ``Box``).

    """

    name = "random"

    def __init__(self, action_space: spaces.Space) -> None:
        if not isinstance(action_space, (spaces.Discrete, spaces.MultiDiscrete, spaces.Box)):
            raise TypeError(f"cannot draw random actions from {action_space!r}")
        self.action_space = action_space
        self._rng = np.random.default_rng()

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Restart the random stream from ``seed``."""
        self._rng = np.random.default_rng(seed)

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """One uniform draw per game."""
        n = observations.shape[0]
        space = self.action_space
        if isinstance(space, spaces.Discrete):
            return int(space.start) + self._rng.integers(0, int(space.n), size=n, dtype=np.int64)
        if isinstance(space, spaces.MultiDiscrete):
            return self._rng.integers(0, space.nvec, size=(n, *space.shape), dtype=np.int64)
        return self._rng.uniform(space.low, space.high, size=(n, *space.shape))
