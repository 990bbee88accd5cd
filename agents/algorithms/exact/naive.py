"""Naive learning on exact values: gradient ascent on one's own return.

    x_i <- x_i + lr * df_i/dx_i (x_i, x_j)

The learner treats the opponent's parameters as fixed (``NL`` in alshedivat/lola@0e8b13e
``lola/exact.py``; ``naive`` in the MeVa code's tournament).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agents.algorithms.exact.interface import (
    ExactLearner,
    ExactLearnerConfig,
    differentiable,
    own_gradient,
    take_step,
)
from agents.algorithms.exact.value import SeatView


@dataclass
class NaiveConfig(ExactLearnerConfig):
    """Settings of the naive learner (only the shared ones: step size and initialisation)."""


class NaiveLearner(ExactLearner):
    """Gradient ascent on the learner's own exact return."""

    name = "naive"
    config_class = NaiveConfig

    def update(
        self,
        view: SeatView,
        own: torch.Tensor,
        other: torch.Tensor,
        opponent: ExactLearner | None = None,
        create_graph: bool = False,
    ) -> torch.Tensor:
        """One step of ``lr * df_own/dx_own`` (``lr`` from :meth:`step_sizes`)."""
        x = differentiable(own, create_graph)
        value, _ = view.values(x, other if create_graph else other.detach())
        step = self.step_sizes(view, own.shape[0]) * own_gradient(value, x, create_graph)
        return take_step(x, step, create_graph)

    def step_sizes(self, view: SeatView, trials: int) -> float | torch.Tensor:
        """The step size: one for every trial (the game's reference rate unless configured)."""
        return self.learning_rate(view.game)
