"""The Coin Game's scripted reference moves (LOQA's "always cooperate" and "always defect").

These are the rule-level parts of the scripted agents: pure, batched functions from
own-perspective observations ``(n, 4, g, g)`` (planes [me, other, my coin, other's coin], plain
or egocentric) to moves in the LOLA/POLA table (0 right, 1 left, 2 down, 3 up). The agents
package wraps them as policies.

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

import numpy as np

from socialdilemmas.coin_game.kernels import ME, MOVES, MY_COIN, OTHER_COIN

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
        raise ValueError(
            f"observations must have shape (n, 4, g, g) with g >= 2, got {obs.shape}"
        )
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
