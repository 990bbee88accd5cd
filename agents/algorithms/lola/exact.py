"""Exact LOLA (Foerster et al. 2018): shaping a naive opponent, on closed-form returns.

Two forms, chosen by :attr:`LolaConfig.form`:

- ``"taylor"`` (the default; alshedivat/lola@0e8b13e ``lola/exact.py``, the MeVa code's
  ``f_lola_taylor``): ascend the first-order Taylor surrogate of the opponent's naive step,
  with the stop-gradient ``stop`` on the opponent-gradient of one's own return:

      x_i <- x_i + lr * d/dx_i [ f_i + a * stop(df_i/dx_j) . df_j/dx_j ]

- ``"lookahead"``: differentiate one's own return at the opponent's anticipated parameters,
  through the opponent's naive step:

      x_i <- x_i + lr * d/dx_i f_i(x_i, x_j + a * df_j/dx_j (x_i, x_j))

``a`` is :attr:`LolaConfig.lookahead`, the opponent's assumed step size. With the normalised
returns used here, lr = a = 1 / (1 - gamma) is LOLA's lr = correction lr = 1 on unnormalised
values.
"""

from __future__ import annotations

import math
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

FORMS = ("taylor", "lookahead")


@dataclass
class LolaConfig(ExactLearnerConfig):
    """Settings of exact LOLA: the shared ones, the form and the opponent's assumed step."""

    form: str = "taylor"
    """"taylor" (first-order surrogate with stop-gradient) or "lookahead" (through the step)"""
    lookahead: float | None = None
    """the opponent's assumed naive step size; None: this learner's own step size"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.form not in FORMS:
            raise ValueError(f"form must be one of {list(FORMS)}, got {self.form!r}")
        if self.lookahead is not None and not (
            math.isfinite(self.lookahead) and self.lookahead >= 0
        ):
            raise ValueError(f"lookahead must be >= 0 or None, got {self.lookahead!r}")


class LolaLearner(ExactLearner):
    """Exact LOLA against an opponent assumed to learn naively."""

    name = "lola"
    config_class = LolaConfig

    def lookahead(self, view: SeatView) -> float:
        """The opponent's assumed step size on ``view``'s game."""
        if self.config.lookahead is None:
            return self.learning_rate(view.game)
        return self.config.lookahead

    def update(
        self,
        view: SeatView,
        own: torch.Tensor,
        other: torch.Tensor,
        opponent: ExactLearner | None = None,
        create_graph: bool = False,
    ) -> torch.Tensor:
        """One LOLA step (Taylor or lookahead form, see the module docstring).

        With ``create_graph`` the result stays differentiable with respect to ``own`` only: the
        opponent's parameters enter as constants.
        """
        x = differentiable(own, create_graph)
        y = other.detach().requires_grad_(True)
        a = self.lookahead(view)
        value_own, value_other = view.values(x, y)
        # df_j/dx_j keeps its graph: the shaping term is differentiated wrt x_i through it
        (other_step,) = torch.autograd.grad(value_other.sum(), y, create_graph=True)
        if self.config.form == "taylor":
            (own_wrt_other,) = torch.autograd.grad(value_own.sum(), y, retain_graph=True)
            objective = value_own + a * (own_wrt_other.detach() * other_step).sum(-1)
        else:
            objective, _ = view.values(x, y + a * other_step)
        step = self.learning_rate(view.game) * own_gradient(objective, x, create_graph)
        return take_step(x, step, create_graph)
