"""One headline number per game, read off a training batch, for progress bars and logs.

The numbers are the evaluation metrics of :mod:`agents.evaluation.metrics`, pooled over both
seats, under the short names the training logs use.
"""

from __future__ import annotations

import numpy as np

from agents.evaluation.metrics import metric_counts
from agents.rollout import Trajectory

#: evaluation metric -> name in training logs (the games without one report none)
HEADLINES: dict[str, str] = {
    "cooperation_rate": "cooperation",
    "own_coin_share": "own_coin_fraction",
    "welfare_share": "welfare_ratio",
}


def game_metrics(game: object, trajectory: Trajectory) -> dict[str, float]:
    """The headline metric of ``game`` over ``trajectory``, both seats pooled (NaN if undefined).

    Args:
        game: the played game (``env.game`` of the vector env), which selects the metric.
        trajectory: a training batch.
    """
    result = {}
    for name, (numerator, denominator) in metric_counts(trajectory, game).items():
        if name in HEADLINES:
            total = float(np.sum(denominator))
            result[HEADLINES[name]] = float(np.sum(numerator)) / total if total else float("nan")
    return result
