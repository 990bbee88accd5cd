"""M-MAML: meta-learned initial parameters and learning rate for naive learning.

As in the MeVa code's tournament (MetaValueLearning/MetaValueLearning@107c709 ``matrix.ipynb``):
each of :attr:`MMamlConfig.learners` independent meta-learners holds an initial ``x0`` (five
logits) and a learning rate, trained with Adam by backpropagating the exact return along
:attr:`MMamlConfig.inner_steps` naive steps against :attr:`MMamlConfig.opponents` naive
opponents from N(0, 1) starts (both players' steps are differentiated through).
In play it is a naive learner that starts at its ``x0`` and steps at its learned rate; trials
are dealt to the meta-learners in turn (trial ``t`` to meta-learner ``t mod learners``).
Which return is maximised is our choice, not read in the code (:attr:`MMamlConfig.objective`):
the mean along the unrolled steps by default, because the return of the final parameters alone
gives almost no gradient (in the IPD, 60 meta-updates of 4 x 16 trials, seed 0: the final-return
objective stayed at -2.00 while the trajectory mean rose from -2.00 to -1.83).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agents.algorithms.exact.interface import (
    ExactLearnerConfig,
    own_gradient,
)
from agents.algorithms.exact.naive import NaiveLearner
from agents.algorithms.exact.value import ExactGame, SeatView

OBJECTIVES = ("trajectory", "final")


@dataclass
class MMamlConfig(ExactLearnerConfig):
    """Settings of M-MAML; ``lr`` is the initial learning rate of the meta-learning."""

    meta_steps: int = 1000
    """meta-updates (Adam steps) of the initial parameters and learning rate"""
    meta_lr: float = 0.1
    """Adam step size of the meta-updates"""
    opponents: int = 64
    """naive opponents from N(0, 1) starts per meta-learner and meta-update"""
    inner_steps: int = 300
    """naive steps unrolled per meta-update (the tournament's horizon)"""
    learners: int = 10
    """independent meta-learners; the tournament deals its trials to them in turn"""
    objective: str = "trajectory"
    """"trajectory": the mean return over the unrolled steps; "final": the return at the end"""
    seat: int = 0
    """the seat M-MAML meta-trains in (matters in asymmetric games such as matching pennies)"""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("meta_steps", "opponents", "learners"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.inner_steps < 0:
            raise ValueError(f"inner_steps must be >= 0, got {self.inner_steps}")
        if not self.meta_lr > 0:
            raise ValueError(f"meta_lr must be > 0, got {self.meta_lr}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {list(OBJECTIVES)}, got {self.objective!r}")
        if self.seat not in (0, 1):
            raise ValueError(f"seat must be 0 or 1, got {self.seat}")


class MMamlLearner(NaiveLearner):
    """A naive learner whose start and step size were meta-learned against naive learners."""

    name = "mmaml"
    config_class = MMamlConfig

    def __init__(self, config: MMamlConfig | None = None) -> None:
        super().__init__(config)
        self.initial_logits: torch.Tensor | None = None  # (learners, 5) after prepare
        self.learning_rates: torch.Tensor | None = None  # (learners,)
        self.meta_objective: list[float] = []  # the mean objective per meta-update
        self._prepared_for: ExactGame | None = None

    def unrolled_return(
        self,
        game: ExactGame,
        x0: torch.Tensor,
        log_lr: torch.Tensor,
        opponents: torch.Tensor,
        steps: int,
    ) -> torch.Tensor:
        """The differentiable meta-objective ``(learners, opponents)`` over ``steps`` naive steps.

        The mean return at the parameters before each step ("trajectory"; the start itself for
        zero steps) or the return after the last step ("final").
        """
        learners, count = x0.shape[0], opponents.shape[1]
        own = x0.repeat_interleave(count, 0)
        lr = log_lr.exp().repeat_interleave(count, 0)[:, None]
        other = opponents.reshape(learners * count, 5)
        mine, theirs = game.seat(self.config.seat), game.seat(1 - self.config.seat)
        naive = NaiveLearner()
        total = 0.0
        for _ in range(steps):
            value, _ = mine.values(own, other)
            total = total + value
            own, other = (
                own + lr * own_gradient(value, own, create_graph=True),
                naive.update(theirs, other, own, create_graph=True),
            )
        if self.config.objective == "trajectory" and steps > 0:
            return (total / steps).reshape(learners, count)
        value, _ = mine.values(own, other)
        return value.reshape(learners, count)

    def prepare(self, game: ExactGame, generator: torch.Generator) -> None:
        """Meta-train the initial logits and learning rates on ``game`` (once per game)."""
        if self._prepared_for == game:
            return
        config = self.config
        shape = (config.learners, 5)
        x0 = config.init_std * torch.randn(*shape, generator=generator, dtype=torch.float64)
        x0.requires_grad_(True)
        log_lr = torch.full(
            (config.learners,), float(self.learning_rate(game)), dtype=torch.float64
        ).log()
        log_lr.requires_grad_(True)
        optimizer = torch.optim.Adam([x0, log_lr], lr=config.meta_lr)
        self.meta_objective = []
        for _ in range(config.meta_steps):
            opponents = torch.randn(
                config.learners, config.opponents, 5, generator=generator, dtype=torch.float64
            )
            returns = self.unrolled_return(game, x0, log_lr, opponents, config.inner_steps)
            loss = -returns.mean(1).sum()  # each meta-learner maximises its own mean return
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            self.meta_objective.append(returns.mean().item())
        self.initial_logits = x0.detach().clone()
        self.learning_rates = log_lr.detach().exp()
        self._prepared_for = game

    def _dealt(self, trials: int, values: torch.Tensor) -> torch.Tensor:
        if values is None:
            raise RuntimeError("M-MAML plays after prepare(game, generator) has meta-trained it")
        return values[torch.arange(trials) % values.shape[0]]

    def initial_parameters(
        self, trials: int, game: ExactGame, generator: torch.Generator
    ) -> torch.Tensor:
        """The meta-learned starts, dealt to the trials in turn (no randomness)."""
        self.prepare(game, generator)
        return self._dealt(trials, self.initial_logits).clone()

    def step_sizes(self, view: SeatView, trials: int) -> torch.Tensor:
        """Each trial's meta-learned learning rate, ``(trials, 1)``: the naive step uses it."""
        return self._dealt(trials, self.learning_rates)[:, None]
