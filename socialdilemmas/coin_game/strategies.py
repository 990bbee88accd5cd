"""The Coin Game's scripted reference moves (LOQA's "always cooperate" and "always defect").

Pure, batched functions from own-perspective observations ``(n, 4, g, g)`` (planes [me, other,
my coin, other's coin], plain or egocentric) to moves in the LOLA/POLA table (0 right, 1 left,
2 down, 3 up), and the scripted players built on them (:class:`AlwaysCooperate`,
:class:`AlwaysDefect`, :class:`TitForTat`), which :meth:`CoinGame.strategies` lists.

Following LOQA (``get_cooperative_action`` / ``get_defect_action``), each of the 4 moves is
scored by the wrapped (toroidal) Manhattan distance from where it leads to the coin:

* **always defect** (AD) takes a move that minimises the distance, whoever owns the coin;
* **always cooperate** (AC) takes a move that minimises it if the coin is its own, and one that
  maximises it (walks away) if the coin is the other player's.

Ties are broken uniformly at random from the caller's ``numpy.random.Generator`` (or from
pre-drawn uniforms), so a match is reproducible from its seed. The functions assume the
single-coin rules (``rules="loqa"``): an observation must show exactly one coin.

>>> import numpy as np
>>> from socialdilemmas.coin_game.strategies import always_cooperate, always_defect
>>> obs = np.zeros((1, 4, 3, 3), dtype=np.float32)
>>> obs[0, 0, 1, 1] = 1  # me in the centre
>>> obs[0, 1, 0, 0] = 1  # the other player in a corner
>>> obs[0, 3, 1, 2] = 1  # the other player's coin, right of me
>>> always_defect(obs, np.random.default_rng(0))  # step right onto it
array([0])
>>> always_cooperate(obs, np.random.default_rng(0))  # down or up (on a 3x3 torus left is 1 away)
array([2])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from socialdilemmas.coin_game.kernels import (
    ME,
    MOVES,
    MY_COIN,
    OTHER,
    OTHER_COIN,
    collector_reward,
)
from socialdilemmas.core.strategy import RandomTieBreaks, Strategy

if TYPE_CHECKING:
    from socialdilemmas.coin_game.game import CoinGame

#: Number of moves the strategies choose among (never "stay").
NUM_MOVES = 4


def move_distances(observations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score the 4 moves of each observer by the toroidal Manhattan distance to the coin.

    Args:
        observations: ``(n, 4, g, g)`` own-perspective observations, one coin each.

    Returns:
        ``(distances, own)``: ``distances[i, a]`` is the distance from the cell that move ``a``
        leads to, to the coin (int64, ``(n, 4)``); ``own[i]`` is True when the coin is the
        observer's (bool, ``(n,)``).

    Raises:
        ValueError: if the array does not have that shape, or an observation does not show
            exactly one "me" and exactly one coin.

    """
    obs = np.asarray(observations)
    if obs.ndim != 4 or obs.shape[1] != 4 or obs.shape[2] != obs.shape[3] or obs.shape[2] < 2:
        raise ValueError(f"observations must have shape (n, 4, g, g) with g >= 2, got {obs.shape}")
    n, _, g, _ = obs.shape
    flat = obs.reshape(n, 4, g * g)
    me_counts = np.count_nonzero(flat[:, ME], axis=1)
    coins = flat[:, MY_COIN] + flat[:, OTHER_COIN]
    coin_counts = np.count_nonzero(coins, axis=1)
    if np.any(me_counts != 1):
        raise ValueError(
            f"each observation must show exactly one 'me' (plane 0); observation "
            f"{int(np.argmax(me_counts != 1))} shows {int(me_counts[me_counts != 1][0])}"
        )
    if np.any(coin_counts != 1):
        raise ValueError(
            "each observation must show exactly one coin (planes 2 and 3 together): these "
            "strategies are defined for the single-coin rules (rules='loqa'); observation "
            f"{int(np.argmax(coin_counts != 1))} shows {int(coin_counts[coin_counts != 1][0])}"
        )
    me_r, me_c = np.divmod(np.argmax(flat[:, ME], axis=1), g)
    coin_r, coin_c = np.divmod(np.argmax(coins, axis=1), g)
    own = np.count_nonzero(flat[:, MY_COIN], axis=1) == 1
    new_r = (me_r[:, None] + MOVES[None, :NUM_MOVES, 0]) % g
    new_c = (me_c[:, None] + MOVES[None, :NUM_MOVES, 1]) % g
    dr = np.abs(new_r - coin_r[:, None])
    dc = np.abs(new_c - coin_c[:, None])
    distances = np.minimum(dr, g - dr) + np.minimum(dc, g - dc)
    return distances.astype(np.int64), own


def always_defect(
    observations: np.ndarray, tie_break: np.random.Generator | np.ndarray
) -> np.ndarray:
    """Return AD's moves: toward the coin whoever owns it (``(n,)`` int64).

    Args:
        observations: ``(n, 4, g, g)`` own-perspective observations, one coin each.
        tie_break: a ``numpy.random.Generator`` (draws ``(n, 4)`` uniforms) or pre-drawn
            uniforms in ``[0, 1)`` of shape ``(n, 4)``; among equally good moves the one with
            the largest uniform is taken.

    """
    distances, _ = move_distances(observations)
    target = distances.min(axis=1)
    return _pick(distances == target[:, None], tie_break)


def always_cooperate(
    observations: np.ndarray, tie_break: np.random.Generator | np.ndarray
) -> np.ndarray:
    """Return AC's moves: toward its own coin, away from the other's (``(n,)`` int64).

    Args:
        observations: ``(n, 4, g, g)`` own-perspective observations, one coin each.
        tie_break: a ``numpy.random.Generator`` or pre-drawn ``(n, 4)`` uniforms in ``[0, 1)``,
            as in :func:`always_defect`.

    """
    distances, own = move_distances(observations)
    target = np.where(own, distances.min(axis=1), distances.max(axis=1))
    return _pick(distances == target[:, None], tie_break)


def _pick(candidates: np.ndarray, tie_break: np.random.Generator | np.ndarray) -> np.ndarray:
    """Pick one candidate move per row, uniformly at random among the candidates."""
    n = candidates.shape[0]
    if isinstance(tie_break, np.random.Generator):
        uniforms = tie_break.random((n, NUM_MOVES))
    else:
        uniforms = np.asarray(tie_break)
        if uniforms.shape != (n, NUM_MOVES):
            raise ValueError(
                f"tie_break uniforms must have shape {(n, NUM_MOVES)}, got {uniforms.shape}"
            )
        if not np.issubdtype(uniforms.dtype, np.floating) or np.any(
            (uniforms < 0) | (uniforms >= 1) | np.isnan(uniforms)
        ):
            raise ValueError("tie_break uniforms must be floats in [0, 1)")
    # Non-candidates get -1, below every uniform, so the argmax is a uniform candidate.
    return np.argmax(np.where(candidates, uniforms, -1.0), axis=1).astype(np.int64)


# ---- the scripted players -----------------------------------------------------------------------
def _check_single_coin(game: CoinGame) -> None:
    if game.rules.num_coins != 1:
        raise ValueError(
            "the Coin Game's scripted strategies are defined for the single-coin rules "
            f"(rules='loqa'), not rules={game.rules.name!r}"
        )


class _CoinStrategy(RandomTieBreaks):
    """Shared tie-break stream: one ``(n, 4)`` block of uniforms per step.

    Drawn whatever the strategy plays, so the stream does not depend on the game's course.
    """

    def __init__(self, game: CoinGame) -> None:
        _check_single_coin(game)
        super().__init__()

    def _uniforms(self, n: int) -> np.ndarray:
        return self._rng.random((n, NUM_MOVES))


class AlwaysCooperate(_CoinStrategy):
    """Moves toward its own coin and away from the other player's (LOQA's AC)."""

    name = "always_cooperate"

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """AC's move in every game."""
        return always_cooperate(observations, self._uniforms(len(observations)))


class AlwaysDefect(_CoinStrategy):
    """Moves toward the coin whoever owns it (LOQA's AD)."""

    name = "always_defect"

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """AD's move in every game."""
        return always_defect(observations, self._uniforms(len(observations)))


class TitForTat(_CoinStrategy):
    """POLA's coin-game tit-for-tat.

    It plays always-cooperate's move until a step in which its reward was negative (the other
    player took its coin), then always-defect's until a step in which its reward was positive,
    and so on; a step with zero reward changes nothing. It starts every episode cooperating.
    The reward of the last step is not in the observation, so the strategy reads the pickups
    off two consecutive observations (the coin of the previous observation was collected by
    whoever now stands on its cell: coins never appear under a player in these rules) and
    pays them by the game's payoff rule (:func:`~socialdilemmas.coin_game.kernels.
    collector_reward`). That needs the absolute board, so it is defined for
    ``egocentric=False`` (the default).

    Args:
        game: the :class:`~socialdilemmas.coin_game.game.CoinGame` it plays (rules, payoffs).

    """

    name = "tit_for_tat"

    def __init__(self, game: CoinGame) -> None:
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
        mine_lost = (flat_now[:, OTHER] * flat_prev[:, MY_COIN]).sum(1) > 0
        got_mine = (flat_now[:, ME] * flat_prev[:, MY_COIN]).sum(1) > 0
        got_theirs = (flat_now[:, ME] * flat_prev[:, OTHER_COIN]).sum(1) > 0
        own, other, penalty = self.payoffs
        return collector_reward(
            got_mine.astype(np.int64),
            got_theirs.astype(np.int64),
            mine_lost.astype(np.int64),
            own,
            other,
            penalty,
        )

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
        defect = always_defect(observations, uniforms)
        cooperate = always_cooperate(observations, uniforms)
        return np.where(self.defecting, defect, cooperate)


#: strategy name -> class, built from the game it plays
STRATEGIES: dict[str, Callable[[CoinGame], Strategy]] = {
    "always_cooperate": AlwaysCooperate,
    "always_defect": AlwaysDefect,
    "tit_for_tat": TitForTat,
}
