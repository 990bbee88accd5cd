"""The metrics the literature reports, computed from a :class:`Trajectory`.

Every metric is a ratio of two per-seat sums (a numerator and a denominator), so results of
several rollouts (more games, the other seat order) are pooled by adding the sums before
dividing, never by averaging ratios. A ratio whose denominator is 0 (a state never visited, no
coin ever picked up) is NaN. ``reward_per_step`` is measured in every game; the others are the
game's own (:meth:`socialdilemmas.core.game.BatchedGame.metric_counts`):

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

import numpy as np

from agents.rollout import Trajectory
from socialdilemmas.core.game import BatchedGame, MetricCounts

#: metric name -> (numerator, denominator), each a float64 array of shape (2,) indexed by seat
Counts = MetricCounts


def _steps(trajectory: Trajectory) -> np.ndarray:
    return np.full(2, float(trajectory.num_steps * trajectory.num_envs))


def metric_counts(trajectory: Trajectory, game: BatchedGame) -> Counts:
    """Numerators and denominators of every metric of ``game`` over ``trajectory``.

    Args:
        trajectory: a rollout of the game (seat 0 first).
        game: the game's :class:`~socialdilemmas.core.game.BatchedGame` (``env.game`` of the
            vector env that was played), which defines its own metrics.

    """
    counts: Counts = {
        "reward_per_step": (
            trajectory.rewards.double().sum((0, 1)).numpy(),
            _steps(trajectory),
        )
    }
    info = {name: value.numpy() for name, value in trajectory.info.items()}
    counts.update(
        game.metric_counts(
            trajectory.observations.numpy(),
            trajectory.actions.numpy(),
            trajectory.rewards.numpy(),
            info,
        )
    )
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


def seat_metrics(trajectory: Trajectory, game: BatchedGame) -> dict[str, list[float]]:
    """Every metric of ``game`` over ``trajectory``, as ``[seat 0, seat 1]`` values."""
    return ratios(metric_counts(trajectory, game))
