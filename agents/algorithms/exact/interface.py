"""The "exact game" learner interface: parameters in, updated parameters out.

A learner on exact values holds no state of its own between updates: each update maps the
learner's parameters, the opponent's parameters and (optionally) the opponent's learner to the
learner's new parameters, for a whole batch of independent trials at once::

    own = learner.initial_parameters(trials, game, generator)
    own = learner.update(game.seat(0), own, other, opponent)

This is not the vector-env :class:`agents.algorithms.core.learner.Learner`: there is no env, no
trajectory and no optimizer, only closed-form returns and their derivatives, so these learners
are not entries of ``agents.algorithms.ALGORITHMS`` (whose learners train on sampled episodes).
:func:`agents.evaluation.tournament.tournament` plays any two of them against each other.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import torch

from agents.algorithms.exact.value import ExactGame, SeatView
from agents.validation import check_config_fields


@dataclass
class ExactLearnerConfig:
    """Settings every exact-game learner shares."""

    lr: float | None = None
    """step size of the update; None: the game's reference rate (1 / (1 - gamma) = 25 in the
    IPD and matching pennies, 1 in MeVa's chicken), as in the MeVa code"""
    init_std: float = 1.0
    """standard deviation of the N(0, std^2) initial logits (the MeVa tournament: 1)"""

    def __post_init__(self) -> None:
        check_config_fields(self)  # NaN/inf and wrong types, naming the field
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number or None, got {self.lr!r}")
        if not self.init_std >= 0:
            raise ValueError(f"init_std must be >= 0, got {self.init_std!r}")


class ExactLearner(ABC):
    """A learner whose policy is five memory-one logits and whose returns are exact.

    Subclasses set :attr:`name` and :attr:`config_class` and implement :meth:`update`.
    """

    #: the name in tables and on the command line
    name: ClassVar[str] = "exact_learner"
    #: the config dataclass of this learner
    config_class: ClassVar[type[ExactLearnerConfig]] = ExactLearnerConfig

    def __init__(self, config: ExactLearnerConfig | None = None) -> None:
        config = self.config_class() if config is None else config
        if not isinstance(config, self.config_class):
            raise TypeError(
                f"{type(self).__name__} takes a {self.config_class.__name__}, got "
                f"{type(config).__name__}"
            )
        self.config = config

    def learning_rate(self, game: ExactGame) -> float:
        """The step size on ``game``: the config's, or the game's reference rate."""
        return game.reference_learning_rate if self.config.lr is None else self.config.lr

    def prepare(self, game: ExactGame, generator: torch.Generator) -> None:  # noqa: B027
        """Get ready to play ``game`` before any trial (M-MAML meta-trains here).

        By default there is nothing to do: an optional hook, not an abstract method.
        """

    def initial_parameters(
        self, trials: int, game: ExactGame, generator: torch.Generator
    ) -> torch.Tensor:
        """Starting logits ``(trials, 5)`` float64: N(0, init_std^2) by default."""
        noise = torch.randn(trials, 5, generator=generator, dtype=torch.float64)
        return self.config.init_std * noise

    @abstractmethod
    def update(
        self,
        view: SeatView,
        own: torch.Tensor,
        other: torch.Tensor,
        opponent: ExactLearner | None = None,
        create_graph: bool = False,
    ) -> torch.Tensor:
        """Return the learner's new parameters ``(trials, 5)`` after one update.

        Args:
            view: the game from this learner's seat (:meth:`SeatView.values` -> own, other).
            own: this learner's parameters, ``(trials, 5)``.
            other: the opponent's parameters, ``(trials, 5)``.
            opponent: the opponent's learner, for learners that model it (optional).
            create_graph: keep the autograd graph of the update, so that a caller can
                differentiate through it (M-MAML's meta-gradient); off, the result is detached.
        """


def own_gradient(
    objective: torch.Tensor, own: torch.Tensor, create_graph: bool = False
) -> torch.Tensor:
    """Per-trial gradient ``(trials, 5)`` of a per-trial ``objective`` ``(trials,)`` wrt ``own``.

    Trials are independent, so the gradient of the sum is the stack of each trial's gradient.
    """
    (gradient,) = torch.autograd.grad(objective.sum(), own, create_graph=create_graph)
    return gradient


def differentiable(x: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """``x`` as a tensor autograd can differentiate: kept in its graph when ``create_graph``."""
    if create_graph and x.requires_grad:
        return x
    return x.detach().requires_grad_(True)


def take_step(x: torch.Tensor, step: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """``x + step``: kept in the graph when ``create_graph``, detached otherwise.

    Kept, a caller can differentiate through the update (M-MAML's meta-gradient); detached,
    trials do not accumulate autograd graphs over hundreds of updates.
    """
    new = x + step
    return new if create_graph else new.detach()
