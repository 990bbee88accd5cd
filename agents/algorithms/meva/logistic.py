"""The Logistic Game of the MeVa paper: naive learning, LOLA, HOLA-2 and Meta-Value Learning.

Cooijmans, Aghajohari and Courville, "Meta-Value Learning: a General Framework for Learning
with Learning Awareness" (2023), section 5.1; reference code
MetaValueLearning/MetaValueLearning@107c709 ``logistic_game.ipynb``.

Each of two players holds one scalar x_i and maximises its own payoff::

    f(x, y) = -( 4 [sigma(x) (1 - 2 sigma(y)), sigma(y) (1 - 2 sigma(x))]
                 + ((x y)^2 + (x^2 - y^2)^2) / 10^4 )

Naive learning (gradient ascent, step size 1, 200 steps) has two stable points:
A ~ (-5.03, -5.03), where each player gets ~ -0.09, and B ~ (5.03, 5.03), where each gets
~ 3.86. The metric is the *basin of B*: the fraction of a 29 x 29 grid of starts on
[-10, 10]^2 whose 200-step trajectory ends in the upper-right quadrant (both x_i > 0).

Learners, each a *gradient field* (N, 2) -> (N, 2) (player i's step is entry i):

- :func:`naive_field`: each player's own gradient of its own payoff.
- :func:`lola_field`: the notebook's LOLA (DiCE form): player i ascends its payoff at
  (x_i, x_j + alpha g_j(x)), g_j the opponent's naive gradient, differentiating through g_j.
- :func:`hola_field`: higher-order LOLA as the notebook defines it: order n looks ahead by the
  opponent's order-(n - 1) gradient; order 1 is LOLA, order 0 naive.
- :class:`LogisticMetaValueModel`: a learned meta-value U(x; gamma), and
  :meth:`LogisticMetaValueModel.field`, ascent on U at a fixed meta-discount gamma.

The MeVa recipe (the notebook's ``do_train_vhat``, read line by line; what it does differs
from the matrix-game recipe of :mod:`agents.algorithms.meva.training`):

- network ``VHatModule``: per player the input (x_i / 10, gamma_i); Dense(64) + GELU, a gated
  residual block (Dense + GELU, Dense, gate sigmoid(0) at init), Dense(64) + GELU; then each
  player's features beside the other's; Dense(64) + GELU, a second residual block,
  tanh(Dense(64)), Dense to 16 quantiles. No LayerNorm, no weight decay.
- 5001 updates, each from 128 fresh starts uniform on [-8, 8]^2 with gamma ~ Beta(0.5, 0.5)
  per player (kept for the whole rollout);
- 50 inner steps of x <- x + 1 * (own gradient of the mean of U's quantiles) with the *current*
  network: no exploration, no U-correction (the players ascend U, not (1 - gamma) f + gamma U);
- then one update on the whole 51-state trajectory: predictions U(x_t), t < 50; targets the
  lambda-returns (lambda 0.9) with reward f(x_t) (of the *current* state) bootstrapped from
  U itself with the gradient stopped (no target network, hence no Polyak rho; no stride);
  quantile-regression Huber loss (threshold 1) averaged over time, players and batch;
- the notebook's own Adam: lr 1e-3, betas (0.9, 0.99), eps 1e-8 added to the root of the
  second moment (torch's Adam), seed 2;
- at evaluation, the agents ascend U at gamma for both players (``bind_gamma``), 200 steps
  of step size 1 from the grid.

Not reproduced: COLA (the notebook's learned look-ahead ``do_train_cola``) is out of scope.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.algorithms.meva.network import gelu, lecun_dense
from agents.algorithms.meva.training import (
    _load_weights,
    _write,
    draw_meta_discounts,
    lambda_return_quantiles,
    quantile_huber_loss,
    read_model_file,
    restore_training_state,
    training_state,
)
from agents.validation import check_config_fields

#: a learner on the Logistic Game: joint parameters (N, 2) -> each player's step (N, 2)
GradientField = Callable[[torch.Tensor], torch.Tensor]

MODEL_FORMAT = "socialdilemmas-meva-logistic"
MODEL_FORMAT_VERSION = 1

#: the meta-discounts and look-ahead rates of the paper's figure
MEVA_GAMMAS = (0.0, 0.5, 0.8, 0.85, 0.9, 0.95, 0.99)
LOLA_ALPHAS = (0.0, 0.1, 1.0, 5.0, 10.0, 20.0, 30.0)


# --- the game ---------------------------------------------------------------------------------


def logistic_payoffs(z: torch.Tensor) -> torch.Tensor:
    """Both players' payoffs ``(..., 2)`` at joint parameters ``z`` ``(..., 2)``."""
    if z.shape[-1:] != (2,):
        raise ValueError(f"joint parameters must have a last axis of 2 players, got {z.shape}")
    x, y = z[..., 0], z[..., 1]
    sx, sy = torch.sigmoid(x), torch.sigmoid(y)
    interaction = torch.stack([sx * (1 - 2 * sy), sy * (1 - 2 * sx)], -1)
    # a weak quartic bowl that keeps the players from drifting to infinity
    confinement = ((x * y) ** 2 + (x**2 - y**2) ** 2) / 1e4
    return -(4 * interaction + confinement.unsqueeze(-1))


def own_gradient(payoffs: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor) -> torch.Tensor:
    """Each player's derivative of its own payoff wrt its own parameter, at one point ``(2,)``.

    The diagonal of the Jacobian of ``payoffs``; composable with :mod:`torch.func` (so a
    learner can look ahead through another learner's gradient).
    """
    return torch.diagonal(torch.func.jacrev(payoffs)(z))


def lola_payoffs(z: torch.Tensor, alpha: float) -> torch.Tensor:
    """LOLA's surrogate payoffs at one point ``(2,)``: hola_payoffs of order 1."""
    return hola_payoffs(z, alpha, 1)


def hola_payoffs(z: torch.Tensor, alpha: float, order: int) -> torch.Tensor:
    """Higher-order LOLA's surrogate payoffs ``(2,)`` at one point ``z`` ``(2,)``.

    Order 0 is the game's payoffs. Order n: both players take a look-ahead step of size
    ``alpha`` along their order-(n - 1) own gradients, and player i's surrogate is its payoff
    with its own parameter kept and the opponent's moved (so the gradient flows through the
    opponent's step, the DiCE form of LOLA).
    """
    if order <= 0:
        return logistic_payoffs(z)
    looked_ahead = z + alpha * own_gradient(lambda w: hola_payoffs(w, alpha, order - 1), z)
    player0 = logistic_payoffs(torch.stack([z[0], looked_ahead[1]]))[0]
    player1 = logistic_payoffs(torch.stack([looked_ahead[0], z[1]]))[1]
    return torch.stack([player0, player1])


def _batched(point_field: Callable[[torch.Tensor], torch.Tensor]) -> GradientField:
    """A field on a batch ``(N, 2)`` from one on a single point ``(2,)``."""
    vectorised = torch.func.vmap(point_field)

    def field(z: torch.Tensor) -> torch.Tensor:
        _check_joint(z)
        return vectorised(z)

    return field


def naive_field() -> GradientField:
    """Naive learning: each player follows the gradient of its own payoff."""
    return _batched(lambda z: own_gradient(logistic_payoffs, z))


def lola_field(alpha: float) -> GradientField:
    """LOLA with look-ahead ``alpha`` (0: naive learning)."""
    return hola_field(alpha, 1)


def hola_field(alpha: float, order: int = 2) -> GradientField:
    """Higher-order LOLA of ``order`` (2: the paper's HOLA-2) with look-ahead ``alpha``."""
    if not alpha >= 0:
        raise ValueError(f"the look-ahead alpha must be >= 0, got {alpha!r}")
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise ValueError(f"the order must be an integer >= 0, got {order!r}")
    return _batched(lambda z: own_gradient(lambda w: hola_payoffs(w, alpha, order), z))


def _check_joint(z: torch.Tensor) -> None:
    if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[-1] != 2:
        shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise ValueError(f"joint parameters must be a tensor (N, 2), got {shape}")


# --- the grid and the metric ------------------------------------------------------------------


def start_grid(points: int = 29, extent: float = 10.0) -> torch.Tensor:
    """The grid of starts ``(points, points, 2)`` on [-extent, extent]^2, float64.

    Entry [i, j] is (x_i, y_j).
    """
    if points < 2:
        raise ValueError(f"the grid needs at least 2 points a side, got {points!r}")
    if not extent > 0:
        raise ValueError(f"the grid's extent must be > 0, got {extent!r}")
    # numpy's linspace, as the notebook's grid: its middle value is exactly 0 (torch's is
    # -2e-16), so the start (0, 0), a fixed point of naive learning, is the notebook's
    axis = torch.from_numpy(np.linspace(-extent, extent, points))
    return torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1)


def follow(
    field: GradientField, starts: torch.Tensor, steps: int = 200, lr: float = 1.0
) -> torch.Tensor:
    """Where ``steps`` steps of ``x <- x + lr field(x)`` from ``starts`` ``(..., 2)`` end."""
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps!r}")
    if starts.shape[-1:] != (2,):
        raise ValueError(f"starts must have a last axis of 2 players, got {tuple(starts.shape)}")
    z = starts.reshape(-1, 2).to(torch.float64)
    for _ in range(steps):
        z = (z + lr * field(z)).detach()
    return z.reshape(starts.shape)


def basin_of_b_fraction(endpoints: torch.Tensor) -> float:
    """The fraction of ``endpoints`` ``(..., 2)`` in the upper-right quadrant (both > 0)."""
    if endpoints.shape[-1:] != (2,) or endpoints.numel() == 0:
        raise ValueError(f"endpoints must be a non-empty (..., 2), got {tuple(endpoints.shape)}")
    return float((endpoints > 0).all(-1).to(torch.float64).mean())


# --- the meta-value network -------------------------------------------------------------------


class PlainGatedResidualBlock(nn.Module):
    """``g x + (1 - g) H(gelu(X x))`` with Dense X and H and a learned gate g (0.5 at init).

    The residual block of the logistic notebook (no LayerNorm, unlike the matrix games').
    """

    def __init__(self, width: int) -> None:
        super().__init__()
        self.inner = lecun_dense(width, width)
        self.out = lecun_dense(width, width)
        self.gate_logit = nn.Parameter(torch.zeros(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The gated mix of ``x`` and its transformation."""
        gate = torch.sigmoid(self.gate_logit)
        return gate * x + (1 - gate) * self.out(gelu(self.inner(x)))


class LogisticMetaValueNetwork(nn.Module):
    """U(x; gamma) on the Logistic Game: ``quantiles`` quantiles of each player's meta-value.

    Input per player: (x_i / 10, gamma_i); layers as the notebook's ``VHatModule`` (see the
    module docstring). Output ``(..., 2, quantiles)``.
    """

    def __init__(self, width: int = 64, quantiles: int = 16) -> None:
        super().__init__()
        self.embed = lecun_dense(2, width)
        self.own_block = PlainGatedResidualBlock(width)
        self.own_out = lecun_dense(width, width)
        self.mix_opponent = lecun_dense(2 * width, width)
        self.joint_block = PlainGatedResidualBlock(width)
        self.final = lecun_dense(width, width)
        self.output = lecun_dense(width, quantiles)

    def forward(
        self, z: torch.Tensor, gammas: torch.Tensor, own_gradients_only: bool = False
    ) -> torch.Tensor:
        """Quantiles ``(..., 2, Q)`` at ``z`` ``(..., 2)`` and meta-discounts ``(..., 2)``.

        ``own_gradients_only`` cuts each player's output from the other player's input (the
        values are unchanged), so that the gradient of the sum of both players' outputs is each
        player's own gradient, in one backward pass: exact, since every layer before the
        concatenation acts on one player's row alone.
        """
        h = torch.stack([z / 10.0, gammas], -1).to(self.embed.weight.dtype)
        h = gelu(self.embed(h))
        h = self.own_block(h)
        h = gelu(self.own_out(h))
        opponent = h.flip(-2)
        if own_gradients_only:
            opponent = opponent.detach()
        h = gelu(self.mix_opponent(torch.cat([h, opponent], -1)))
        h = self.joint_block(h)
        h = torch.tanh(self.final(h))
        return self.output(h)


@dataclass
class LogisticMevaConfig:
    """How the Logistic Game's meta-value model is trained (defaults: ``do_train_vhat``)."""

    outer_steps: int = 5001
    """updates of the model, each from a fresh batch of starts"""
    inner_steps: int = 50
    """ascent steps of the agents on U per update (``inner_T``)"""
    inner_lr: float = 1.0
    """step size of the agents (``inner_lr``)"""
    batch_size: int = 128
    """pairs of agents per update"""
    start_extent: float = 8.0
    """starts are uniform on [-start_extent, start_extent]^2"""
    lr: float = 1e-3
    """Adam step size of the model"""
    adam_betas: tuple[float, float] = (0.9, 0.99)
    """Adam betas (the notebook's own Adam)"""
    adam_eps: float = 1e-8
    """Adam epsilon"""
    lamda: float = 0.9
    """lambda of the lambda-returns"""
    width: int = 64
    """hidden width of the network"""
    quantiles: int = 16
    """quantiles of the distributional output"""
    seed: int = 2
    """seed of the initialisation and of every draw (the notebook's seed; its JAX draws differ)"""

    def __post_init__(self) -> None:
        check_config_fields(self)
        for name in ("outer_steps", "inner_steps", "batch_size", "width", "quantiles"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        for name in ("inner_lr", "start_extent", "lr", "adam_eps"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.lamda <= 1.0:
            raise ValueError(f"lamda must be in [0, 1], got {self.lamda!r}")
        if len(self.adam_betas) != 2 or not all(0.0 <= b < 1.0 for b in self.adam_betas):
            raise ValueError(f"adam_betas must be two numbers in [0, 1), got {self.adam_betas!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for a checkpoint)."""
        values = dataclasses.asdict(self)
        values["adam_betas"] = list(self.adam_betas)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LogisticMevaConfig:
        """The config written by :meth:`to_dict`; unknown fields are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown logistic MeVa config fields {unknown}")
        values = dict(values)
        if "adam_betas" in values:
            values["adam_betas"] = tuple(values["adam_betas"])
        return cls(**values)


def build_logistic_network(config: LogisticMevaConfig) -> LogisticMetaValueNetwork:
    """An untrained network of the shape ``config`` asks for (initialised from its seed)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return LogisticMetaValueNetwork(config.width, config.quantiles)


def _own_gradient_of_u(
    network: LogisticMetaValueNetwork, z: torch.Tensor, gammas: torch.Tensor
) -> torch.Tensor:
    """Each player's gradient of the mean of its U quantiles wrt its own parameter ``(N, 2)``."""
    with torch.enable_grad():
        z = z.detach().requires_grad_(True)
        u = network(z, gammas, own_gradients_only=True).mean(-1)
        (gradient,) = torch.autograd.grad(u.sum(), z)
    return gradient


class LogisticMetaValueModel:
    """A trained logistic meta-value network and the config it was trained with."""

    def __init__(self, config: LogisticMevaConfig, network: LogisticMetaValueNetwork) -> None:
        self.config = config
        self.network = network.eval()
        for parameter in self.network.parameters():
            parameter.requires_grad_(False)

    def values(self, z: torch.Tensor, gamma: float) -> torch.Tensor:
        """U ``(..., 2)`` at ``z`` ``(..., 2)``, both players at meta-discount ``gamma``."""
        gammas = torch.full(z.shape, float(gamma), dtype=torch.float32)
        return self.network(z, gammas).mean(-1).to(torch.float64)

    def field(self, gamma: float) -> GradientField:
        """The agents following this model: ascent on U with both players at ``gamma``."""
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"the meta-discount gamma must be in [0, 1], got {gamma!r}")

        def meva(z: torch.Tensor) -> torch.Tensor:
            _check_joint(z)
            gammas = torch.full(z.shape, float(gamma), dtype=torch.float32)
            return _own_gradient_of_u(self.network, z, gammas).to(z.dtype)

        return meva

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model (config and weights) to ``path``."""
        payload = _payload("model", self.config, network=self.network.state_dict())
        return _write(payload, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> LogisticMetaValueModel:
        """Read a model written by :meth:`save` (or the model of a training checkpoint).

        Raises :class:`agents.checkpoint.CheckpointError` naming the problem for a missing,
        corrupt, foreign or non-finite file.
        """
        payload = read_logistic_file(path)
        network = build_logistic_network(payload["config"])
        _load_weights(network, payload["network"], path)
        return cls(payload["config"], network)


def _payload(kind: str, config: LogisticMevaConfig, **content: Any) -> dict[str, Any]:
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "kind": kind,
        "config": config.to_dict(),
        **content,
    }


def read_logistic_file(path: str | os.PathLike) -> dict[str, Any]:
    """Load and validate a logistic MeVa model or training checkpoint (config parsed)."""
    needed = {"model": ("config", "network"), "training": ("config", "network", "state")}
    return read_model_file(
        path, MODEL_FORMAT, MODEL_FORMAT_VERSION, "logistic MeVa", needed, LogisticMevaConfig
    )


class LogisticMevaTrainer:
    """The notebook's ``do_train_vhat`` in torch, resumable (see the module docstring).

    ``losses`` and ``td_errors`` hold, per update, the quantile loss and the root mean square
    of (mean lambda-return target - mean predicted quantile) over the rollout.
    """

    def __init__(self, config: LogisticMevaConfig) -> None:
        self.config = config
        self.network = build_logistic_network(config)
        self.optimizer = torch.optim.Adam(
            self.network.parameters(),
            lr=config.lr,
            betas=tuple(config.adam_betas),
            eps=config.adam_eps,
        )
        self.generator = torch.Generator().manual_seed(config.seed)
        self.step = 0
        self.losses: list[float] = []
        self.td_errors: list[float] = []

    def rollout(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Fresh starts and meta-discounts, and the agents' ascent on U from them.

        Returns the trajectory ``(inner_steps + 1, batch, 2)`` (data: no gradient) and the
        meta-discounts ``(batch, 2)``.
        """
        config = self.config
        shape = (config.batch_size, 2)
        uniform = torch.rand(shape, generator=self.generator, dtype=torch.float64)
        z = (2 * uniform - 1) * config.start_extent
        gammas = draw_meta_discounts(shape, self.generator).to(torch.float32)
        trajectory = [z]
        for _ in range(config.inner_steps):
            z = z + config.inner_lr * _own_gradient_of_u(self.network, z, gammas).to(z.dtype)
            trajectory.append(z)
        return torch.stack(trajectory), gammas

    def loss(self, trajectory: torch.Tensor, gammas: torch.Tensor) -> tuple[torch.Tensor, float]:
        """The quantile loss of U on ``trajectory`` (differentiable) and its TD error."""
        quantiles = self.network(trajectory, gammas.expand(trajectory.shape))
        rewards = logistic_payoffs(trajectory[:-1]).to(quantiles.dtype)
        targets = lambda_return_quantiles(
            rewards, quantiles.detach(), gammas, self.config.lamda
        )  # semi-gradient: the bootstrap is U itself with its gradient stopped
        predictions = quantiles[:-1]
        loss = quantile_huber_loss(predictions, targets).mean()
        td = (targets.mean(-1) - predictions.detach().mean(-1)).pow(2).mean().sqrt()
        return loss, float(td)

    def outer_step(self) -> tuple[float, float]:
        """One update from a fresh rollout; returns its loss and TD error."""
        trajectory, gammas = self.rollout()
        loss, td = self.loss(trajectory, gammas)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.step += 1
        self.losses.append(float(loss.detach()))
        self.td_errors.append(td)
        return self.losses[-1], td

    def train(
        self,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: int = 100,
        progress: bool = False,
    ) -> LogisticMetaValueModel:
        """Run the updates left, writing a resumable checkpoint every ``checkpoint_every``.

        With ``checkpoint`` naming an existing training checkpoint, training resumes from it.
        """
        if checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be at least 1, got {checkpoint_every!r}")
        if checkpoint is not None and Path(checkpoint).is_file():
            self.resume(checkpoint)
        started = time.perf_counter()
        while self.step < self.config.outer_steps:
            loss, td = self.outer_step()
            done = self.step == self.config.outer_steps
            if checkpoint is not None and (self.step % checkpoint_every == 0 or done):
                self.save(checkpoint)
            if progress and (self.step % 100 == 0 or done):
                print(
                    f"update {self.step}/{self.config.outer_steps}: loss {loss:.4f}, "
                    f"TD error {td:.4f} ({time.perf_counter() - started:.0f} s)",
                    flush=True,
                )
        return self.model()

    def model(self) -> LogisticMetaValueModel:
        """The model so far (a copy of the network)."""
        network = build_logistic_network(self.config)
        network.load_state_dict(self.network.state_dict())
        return LogisticMetaValueModel(self.config, network)

    def save(self, path: str | os.PathLike) -> Path:
        """Write everything needed to resume (and the model so far) to ``path``."""
        state = {
            "step": self.step,
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "losses": torch.tensor(self.losses, dtype=torch.float64),
            "td_errors": torch.tensor(self.td_errors, dtype=torch.float64),
        }
        payload = _payload("training", self.config, network=self.network.state_dict(), state=state)
        return _write(payload, path)

    def resume(self, path: str | os.PathLike) -> None:
        """Continue from a training checkpoint written by :meth:`save` with the same config."""
        payload = read_logistic_file(path)
        state = training_state(payload, self.config, path)
        _load_weights(self.network, payload["network"], path)
        restore_training_state(self, state, path)
