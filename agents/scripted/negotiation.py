"""Scripted strategies for the Negotiation Game, as batched policies.

The claims come from :mod:`socialdilemmas.negotiation.strategies` (AA's agents, ENVIRONMENTS.md
3.1): **always cooperate** claims 5 of every item it values strictly more than the other player,
0 of those it values less, and 5 or 0 by a fair coin flip on a tie; **always defect** claims 5 of
everything; **tit-for-tat** cooperates in the first round and afterwards cooperates exactly when
the other player's last proposal left it the items it values more (defined there). Coin flips
come from the seed given to :meth:`~agents.policy.Policy.reset`; the integer claims are valid
actions of both the discrete and the continuous game.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from agents.policy import Policy
from socialdilemmas.negotiation import strategies


class _NegotiationPolicy(Policy):
    """Shared coin-flip stream, restarted by :meth:`reset`."""

    def __init__(self, game: Any = None) -> None:
        self._rng = np.random.default_rng()

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Restart the coin-flip stream from ``seed``."""
        self._rng = np.random.default_rng(seed)


class AlwaysCooperate(_NegotiationPolicy):
    """Claims the items it values more (AA's ``AlwaysCooperateAgent``)."""

    name = "always_cooperate"

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """AC's claims in every game."""
        return strategies.always_cooperate(observations, self._rng)


class AlwaysDefect(_NegotiationPolicy):
    """Claims 5 of every item (AA's ``AlwaysDefectAgent``)."""

    name = "always_defect"

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """AD's claims in every game."""
        return strategies.always_defect(observations, self._rng)


class TitForTat(_NegotiationPolicy):
    """Cooperates first, then answers the other player's last proposal in kind.

    Keeps each game's previous observation (the values the last proposals were made under).
    """

    name = "tit_for_tat"

    def __init__(self, game: Any = None) -> None:
        super().__init__(game)
        self._previous: np.ndarray | None = None

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Forget the previous round of every game."""
        super().reset(num_envs, seed)
        self._previous = None

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """TFT's claims; an episode's first observation shows no claims, so it cooperates."""
        previous = self._previous
        if previous is not None and previous.shape != observations.shape:
            previous = None
        claims = strategies.tit_for_tat(observations, previous, self._rng)
        self._previous = np.array(observations, copy=True)
        return claims


#: strategy name -> constructor from the game ("random" is generic: agents.scripted.generic)
STRATEGIES: dict[str, Callable[[Any], Policy]] = {
    "always_cooperate": AlwaysCooperate,
    "always_defect": AlwaysDefect,
    "tit_for_tat": TitForTat,
}

__all__ = ["STRATEGIES", "AlwaysCooperate", "AlwaysDefect", "TitForTat"]
