"""The scripted-strategy interface: a game's reference opponents, batched, in NumPy.

A game package defines its scripted strategies (always-cooperate, always-defect, tit-for-tat:
the opponents the papers evaluate against) as :class:`Strategy` subclasses, because what they
do is a rule of the game; :meth:`socialdilemmas.core.game.BatchedGame.strategies` lists them.
A strategy sees own-perspective observations ``(n, *obs_shape)`` of ``n`` games and returns one
action per game; it keeps whatever per-game memory it needs and forgets it for the games whose
episode just started (``episode_starts``). The ``agents`` package plays them through its policy
interface (:func:`agents.scripted.scripted_policy`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Strategy(ABC):
    """A scripted player of one seat over a batch of games."""

    #: the strategy's name in tables and on the command line
    name: str = "strategy"

    def reset(self, num_envs: int, seed: int | None = None) -> None:  # noqa: B027
        """Forget every game and restart any random stream from ``seed`` (default: nothing)."""

    @abstractmethod
    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """One action per game, ``(n, *action_shape)``."""


class RandomTieBreaks(Strategy):
    """A strategy with a NumPy random stream restarted by :meth:`reset`."""

    def __init__(self) -> None:
        self._rng = np.random.default_rng()

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Restart the random stream from ``seed``."""
        self._rng = np.random.default_rng(seed)


__all__ = ["RandomTieBreaks", "Strategy"]
