"""The metrics the literature reports, per game, computed from a :class:`Trajectory`.

Every metric is a ratio of two per-seat sums (a numerator and a denominator), so results of
several rollouts (more games, the other seat order) are pooled by adding the sums before
dividing, never by averaging ratios. A ratio whose denominator is 0 (a state never visited, no
coin ever picked up) is NaN.

======================= ========================================================================
metric                  definition (per seat, from that seat's side)
======================= ========================================================================
``reward_per_step``     mean reward per step (every game)
``cooperation_rate``    matrix games: share of steps playing action 0 (cooperate)
``p_cooperate|S``       matrix games: P(action 0 | previous joint action S) for S in CC, CD, DC,
                        DD (own action first) and ``start``; read off the observation, which is
                        exactly that one-hot state (LOQA/POLA's ``state_transition`` tables)
``own_coin_share``      Coin Game: own / (own + other's) coins picked up (LOQA's "own%")
``pickups_per_step``    Coin Game: coins of either colour picked up per step
``welfare_share``       Negotiation Game: (r0 + r1) / maximum welfare, summed over rounds (AA's
                        "max sum reward ratio"); a joint metric, the same for both seats
======================= ========================================================================
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from agents.rollout import Trajectory

#: metric name -> (numerator, denominator), each a float64 array of shape (2,) indexed by seat
Counts = dict[str, tuple[np.ndarray, np.ndarray]]

#: names of the five memory-one states of the matrix games' observation, in order
MATRIX_STATES: tuple[str, ...] = ("CC", "CD", "DC", "DD", "start")


def _steps(trajectory: Trajectory) -> np.ndarray:
    return np.full(2, float(trajectory.num_steps * trajectory.num_envs))


def _matrix_counts(trajectory: Trajectory) -> Counts:
    cooperate = (trajectory.actions == 0).numpy()  # (T, B, 2)
    state = trajectory.observations.argmax(-1).numpy()  # (T, B, 2), own-view joint action
    counts: Counts = {
        "cooperation_rate": (cooperate.sum((0, 1)).astype(np.float64), _steps(trajectory))
    }
    for index, label in enumerate(MATRIX_STATES):
        visited = state == index
        counts[f"p_cooperate|{label}"] = (
            (cooperate & visited).sum((0, 1)).astype(np.float64),
            visited.sum((0, 1)).astype(np.float64),
        )
    return counts


def _coin_counts(trajectory: Trajectory) -> Counts:
    # pickups[t, b, picker, owner]: coins of ``owner`` collected by ``picker`` on step t
    pickups = trajectory.info["pickups"].sum((0, 1)).numpy().astype(np.float64)
    own = np.diag(pickups).copy()
    total = pickups.sum(1)
    return {
        "own_coin_share": (own, total),
        "pickups_per_step": (total, _steps(trajectory)),
    }


def _negotiation_counts(trajectory: Trajectory) -> Counts:
    welfare = float(trajectory.rewards.double().sum())
    best = float(trajectory.info["max_welfare"].double().sum())
    return {"welfare_share": (np.full(2, welfare), np.full(2, best))}


#: class name of the game -> its metric counts (games without an entry get reward_per_step only)
_GAME_COUNTS: dict[str, Callable[[Trajectory], Counts]] = {
    "MatrixGame": _matrix_counts,
    "CoinGame": _coin_counts,
    "NegotiationGame": _negotiation_counts,
}


def metric_counts(trajectory: Trajectory, game: object) -> Counts:
    """Numerators and denominators of every metric of ``game`` over ``trajectory``.

    Args:
        trajectory: a rollout of the game (seat 0 first).
        game: the game's :class:`~socialdilemmas.core.game.BatchedGame`, which says which metrics
            apply (``env.game`` of the vector env that was played).

    """
    counts: Counts = {
        "reward_per_step": (
            trajectory.rewards.double().sum((0, 1)).numpy(),
            _steps(trajectory),
        )
    }
    extra = _GAME_COUNTS.get(type(game).__name__)
    if extra is not None:
        counts.update(extra(trajectory))
    return counts


def metric_names(game: object) -> list[str]:
    """Names of every metric :func:`metric_counts` reports for ``game``, without playing it.

    Read off :func:`metric_counts` itself on a one-step, one-game trajectory of zeros shaped by
    the game's spaces, so the list cannot drift from what a match reports (the league command
    checks ``--metric`` against it before the first match).
    """
    import torch

    obs_shape = tuple(game.observation_space.shape)
    action_shape = tuple(game.action_space.shape or ())
    zeros = Trajectory(
        observations=torch.zeros((1, 1, 2, *obs_shape)),
        actions=torch.zeros((1, 1, 2, *action_shape), dtype=torch.int64),
        log_probs=torch.zeros((1, 1, 2)),
        rewards=torch.zeros((1, 1, 2)),
        episode_starts=torch.ones((1, 1), dtype=torch.bool),
        dones=torch.ones((1, 1), dtype=torch.bool),
        next_observations=torch.zeros((1, 2, *obs_shape)),
        info={
            name: torch.zeros((1, 1, *shape), dtype=torch.from_numpy(np.zeros(0, dtype)).dtype)
            for name, (shape, dtype) in game.info_fields.items()
        },
    )
    return list(metric_counts(zeros, game))


def swap_seats(counts: Counts) -> Counts:
    """Exchange seat 0 and seat 1 in ``counts``."""
    return {name: (num[::-1].copy(), den[::-1].copy()) for name, (num, den) in counts.items()}


def add_counts(first: Counts, second: Counts) -> Counts:
    """Pool two sets of counts of the same game."""
    return {
        name: (num + second[name][0], den + second[name][1]) for name, (num, den) in first.items()
    }


def ratios(counts: Counts) -> dict[str, list[float]]:
    """Each metric as ``[seat 0, seat 1]`` floats (NaN where the denominator is 0)."""
    result = {}
    for name, (num, den) in counts.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        result[name] = [float(v) for v in value]
    return result


def seat_metrics(trajectory: Trajectory, game: object) -> dict[str, list[float]]:
    """Every metric of ``game`` over ``trajectory``, as ``[seat 0, seat 1]`` values."""
    return ratios(metric_counts(trajectory, game))
