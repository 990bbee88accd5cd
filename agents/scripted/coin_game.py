"""Scripted strategies for the Coin Game (single-coin rules), as batched policies.

The moves come from :mod:`socialdilemmas.coin_game.strategies` (LOQA's definitions, ENVIRONMENTS.md
2.2): **always defect** moves toward the coin whoever owns it; **always cooperate** moves toward
its own coin and away from the other's. Ties between equally good moves are broken uniformly at
random from the seed given to :meth:`~agents.policy.Policy.reset`; every policy here draws one
``(n, 4)`` block of uniforms per step, whatever it plays, so its random stream does not depend on
the game's course.

**Tit-for-tat** is POLA's coin-game TFT: it plays always-cooperate's move until a step in which
its reward was negative (the other player took its coin), then always-defect's until a step in
which its reward was positive, and so on; a step with zero reward changes nothing. It starts
every episode cooperating. The reward of the last step is not in the observation, so the policy
derives it from two consecutive observations: the coin of the previous observation was collected
by whoever now stands on its cell (coins never appear under a player in these rules), and the
game's ``payoffs`` (own coin, other's coin, penalty) give the reward. That needs the absolute
board, so tit-for-tat is defined for ``egocentric=False`` (the default).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from agents.policy import Policy
from socialdilemmas.coin_game import strategies
from socialdilemmas.coin_game.kernels import ME, MY_COIN, OTHER, OTHER_COIN


def _check_single_coin(game: Any) -> None:
    if game.rules.num_coins != 1:
        raise ValueError(
            "the Coin Game's scripted strategies are defined for the single-coin rules "
            f"(rules='loqa'), not rules={game.rules.name!r}"
        )


class _CoinPolicy(Policy):
    """Shared tie-break stream: one ``(n, 4)`` block of uniforms per step."""

    def __init__(self, game: Any) -> None:
        _check_single_coin(game)
        self._rng = np.random.default_rng()

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Restart the tie-break stream from ``seed``."""
        self._rng = np.random.default_rng(seed)

    def _uniforms(self, n: int) -> np.ndarray:
        return self._rng.random((n, strategies.NUM_MOVES))


class AlwaysCooperate(_CoinPolicy):
    """Moves toward its own coin and away from the other player's (LOQA's AC)."""

    name = "always_cooperate"

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """AC's move in every game."""
        return strategies.always_cooperate(observations, self._uniforms(len(observations)))


class AlwaysDefect(_CoinPolicy):
    """Moves toward the coin whoever owns it (LOQA's AD)."""

    name = "always_defect"

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """AD's move in every game."""
        return strategies.always_defect(observations, self._uniforms(len(observations)))


class TitForTat(_CoinPolicy):
    """POLA's coin-game tit-for-tat (see the module docstring).

    Args:
        game: the :class:`~socialdilemmas.coin_game.CoinGame` it plays (rules and payoffs).

    """

    name = "tit_for_tat"

    def __init__(self, game: Any) -> None:
        super().__init__(game)
        if game.egocentric:
            raise ValueError("the Coin Game's tit_for_tat needs egocentric=False observations")
        self.payoffs = np.asarray(game.payoffs, dtype=np.float64)
        self._previous: np.ndarray | None = None
        self.defecting = np.zeros(0, dtype=bool)

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Forget every game; all start cooperating."""
        super().reset(num_envs, seed)
        self._previous = None
        self.defecting = np.zeros(num_envs, dtype=bool)

    def last_rewards(self, previous: np.ndarray, observations: np.ndarray) -> np.ndarray:
        """Return each game's reward of the step between two consecutive observations."""
        n = len(observations)
        flat_prev = previous.reshape(n, 4, -1)
        flat_now = observations.reshape(n, 4, -1)
        mine_taken = (flat_now[:, OTHER] * flat_prev[:, MY_COIN]).sum(1) > 0
        got_mine = (flat_now[:, ME] * flat_prev[:, MY_COIN]).sum(1) > 0
        got_theirs = (flat_now[:, ME] * flat_prev[:, OTHER_COIN]).sum(1) > 0
        own, other, penalty = self.payoffs
        return own * got_mine + other * got_theirs + penalty * mine_taken

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """AD's move where the mode is defect, AC's elsewhere, after updating the mode."""
        n = len(observations)
        if self._previous is not None and len(self._previous) == n:
            reward = self.last_rewards(self._previous, observations)
            self.defecting = np.where(reward < 0, True, np.where(reward > 0, False, self.defecting))
        if len(self.defecting) != n:
            self.defecting = np.zeros(n, dtype=bool)
        self.defecting[np.asarray(episode_starts, dtype=bool)] = False
        self._previous = np.array(observations, copy=True)
        uniforms = self._uniforms(n)
        defect = strategies.always_defect(observations, uniforms)
        cooperate = strategies.always_cooperate(observations, uniforms)
        return np.where(self.defecting, defect, cooperate)


#: strategy name -> constructor from the game ("random" is generic: agents.scripted.generic)
STRATEGIES: dict[str, Callable[[Any], Policy]] = {
    "always_cooperate": AlwaysCooperate,
    "always_defect": AlwaysDefect,
    "tit_for_tat": TitForTat,
}

__all__ = ["STRATEGIES", "AlwaysCooperate", "AlwaysDefect", "TitForTat"]
