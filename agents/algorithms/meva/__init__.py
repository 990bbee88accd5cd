"""Meta-Value Learning (MeVa; Cooijmans, Aghajohari and Courville 2023) on exact matrix games.

- :mod:`~agents.algorithms.meva.config`: :class:`MevaConfig`, every hyperparameter of the
  reference code by its default.
- :mod:`~agents.algorithms.meva.network`: :class:`MetaValueNetwork`, the quantile network U.
- :mod:`~agents.algorithms.meva.training`: the training loop, the loss, the targets, and
  :class:`MetaValueModel` (save/load).
- :mod:`~agents.algorithms.meva.learner`: :class:`MevaLearner`, an exact-game learner that
  follows V = (1 - gamma) f + gamma U in tournaments.
- :mod:`~agents.algorithms.meva.presets`: the paper's tournament and ablation recipes.
- :mod:`~agents.algorithms.meva.logistic`: the paper's Logistic Game (two scalar players):
  naive learning, LOLA, HOLA-2 and a logistic meta-value model, and the basin-of-B metric.
"""

from agents.algorithms.meva.config import MevaConfig
from agents.algorithms.meva.network import MetaValueNetwork
from agents.algorithms.meva.training import (
    MetaValueModel,
    MetaValueTrainer,
    lambda_return_quantiles,
    quantile_huber_loss,
    train_meta_value,
)

__all__ = [
    "MetaValueModel",
    "MetaValueNetwork",
    "MetaValueTrainer",
    "MevaConfig",
    "lambda_return_quantiles",
    "quantile_huber_loss",
    "train_meta_value",
]
