"""The game's headline number, read off a training batch, for progress bars and logs.

It is the evaluation metric the game names as its headline
(:attr:`socialdilemmas.core.game.BatchedGame.headline_metric`: ``cooperation_rate``,
``own_coin_share``, ``welfare_share``), pooled over both seats, under the same name.
"""

from __future__ import annotations

import numpy as np

from agents.evaluation.metrics import metric_counts
from agents.rollout import Trajectory
from socialdilemmas.core.game import BatchedGame


def game_metrics(game: BatchedGame, trajectory: Trajectory) -> dict[str, float]:
    """The headline metric of ``game`` over ``trajectory``, both seats pooled (NaN if undefined).

    Args:
        game: the played game (``env.game`` of the vector env).
        trajectory: a training batch.
    """
    name = game.headline_metric
    if name is None:
        return {}
    numerator, denominator = metric_counts(trajectory, game)[name]
    total = float(np.sum(denominator))
    return {name: float(np.sum(numerator)) / total if total else float("nan")}
