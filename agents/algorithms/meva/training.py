"""Training a meta-value model: the loop of the reference ``train_meva``, in torch.

Meta-Value Learning (Cooijmans, Aghajohari and Courville 2023; code
MetaValueLearning/MetaValueLearning@107c709 ``matrix.ipynb``) learns U(x; gamma) so that agents
following V = (1 - gamma) f + gamma U, with f the exact return of the iterated game, ascend
their discounted return along their own learning process. Each outer step:

1. draws ``batch_size`` pairs of agents x ~ N(0, 1) and behaviour meta-discounts
   gamma ~ Beta(0.5, 0.5) per player, and one exploration draw (which units of the last hidden
   layer change sign, or one parameter-noise draw) kept for the whole outer step;
2. ``inner_steps / stride`` times: the agents move ``stride`` steps along the gradient of the
   *explored* U (behaviour); then, from where they are, a learning rollout of ``stride`` steps
   follows the unexplored V at fresh meta-discounts, and the model takes one AdamW step on the
   quantile-Huber loss between U at each rollout state and its lambda-return computed from
   the Polyak target network; the target network follows.

No gradient flows through the agents' trajectory (the rollout states are data). The opponent
of MeVa (player 0) during training is MeVa itself (both players follow V), a naive learner
(gradient of f) or exact LOLA. The trained model is the target network, as in the reference.

Not reproduced: the reference's monitoring (outer agents at gamma 0.95, the naive exploiter
``try_exploit``, the 100-step long-term TD error); the short-horizon TD error the paper's
ablation table reports is logged at every outer step.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.func import functional_call

from agents.algorithms.exact.value import ExactGame, to_meva_layout
from agents.algorithms.lola.exact import LolaConfig, LolaLearner
from agents.algorithms.meva.config import MevaConfig
from agents.algorithms.meva.network import MetaValueNetwork
from agents.checkpoint import CheckpointError, _load_plain, atomic_write_bytes

MODEL_FORMAT = "socialdilemmas-meva"
MODEL_FORMAT_VERSION = 1


# --- the loss and the targets -----------------------------------------------------------------


def pairwise_quantile_huber_loss(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Quantile-regression Huber loss ``(...)`` of quantiles ``(..., Q)`` towards ``(..., N)``.

    ``sum_ij |tau_i - 1[d_ij < 0]| huber(d_ij) / N`` with ``d_ij = target_j - prediction_i``,
    ``tau_i = (i + 0.5) / Q`` the quantile midpoints and the Huber threshold 1 (the reference's
    ``quantile_regression_loss``); with one quantile, the mean Huber loss. This is the
    definition, over all Q x N pairs; :func:`quantile_huber_loss` computes the same number in
    O((Q + N) log N).
    """
    count = predictions.shape[-1]
    if count == 1:
        return nn.functional.huber_loss(
            predictions.expand_as(targets), targets, reduction="none"
        ).mean(-1)
    pairs = torch.broadcast_shapes(
        predictions.shape + (1,), targets.shape[:-1] + (1, targets.shape[-1])
    )
    expanded_predictions = predictions.unsqueeze(-1).expand(pairs)
    expanded_targets = targets.unsqueeze(-2).expand(pairs)
    huber = nn.functional.huber_loss(expanded_predictions, expanded_targets, reduction="none")
    tau = (torch.arange(count, dtype=predictions.dtype, device=predictions.device) + 0.5) / count
    below = (expanded_targets < expanded_predictions).to(predictions.dtype)
    return ((tau.unsqueeze(-1) - below).abs() * huber).sum((-2, -1)) / targets.shape[-1]


def quantile_huber_loss(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The loss of :func:`pairwise_quantile_huber_loss`, from sorted targets and prefix sums.

    For one prediction q, the targets t split at q - 1, q and q + 1 into four runs; on each the
    Huber term is linear or quadratic in t and the weight is tau or 1 - tau, so each run's sum
    is a function of its count, sum of t and sum of t^2, read off prefix sums of the sorted
    targets. Computed in float64 (the squares cancel); differentiable wrt both arguments.
    """
    if predictions.shape[-1] == 1:
        return pairwise_quantile_huber_loss(predictions, targets)
    dtype = predictions.dtype
    q = predictions.to(torch.float64)
    t, _ = targets.to(torch.float64).sort(-1)
    batch = torch.broadcast_shapes(q.shape[:-1], t.shape[:-1])
    q = q.expand(batch + q.shape[-1:]).contiguous()
    t = t.expand(batch + t.shape[-1:]).contiguous()
    count, n = q.shape[-1], t.shape[-1]
    zero = t.new_zeros(batch + (1,))
    prefix = [  # sums over the first k sorted targets, k = 0..N
        torch.cat([zero, torch.cumsum(power, -1)], -1) for power in (torch.ones_like(t), t, t * t)
    ]

    def run_sums(low: torch.Tensor, high: torch.Tensor) -> list[torch.Tensor]:
        """Count, sum t and sum t^2 of the sorted targets with index in [low, high)."""
        return [p.gather(-1, high) - p.gather(-1, low) for p in prefix]

    # boundaries: targets < q - 1 | < q | <= q + 1 | above (ties fall where huber is continuous)
    # one 1-D search over all rows at once (much faster than a batched search of short rows):
    # each row is shifted past the previous one, so the flat array stays sorted
    rows = t.numel() // n
    spread = float((t.max() - t.min()).detach()) + float((q.max() - q.min()).detach()) + 4.0
    shift = spread * torch.arange(rows, dtype=torch.float64, device=t.device).view(batch + (1,))
    flat, base = (t + shift).reshape(-1), n * torch.arange(rows, device=t.device).view(batch + (1,))

    def cut(value: torch.Tensor, right: bool) -> torch.Tensor:
        return torch.searchsorted(flat, (value + shift).reshape(-1), right=right).view_as(q) - base

    cut_far_below, cut_below, cut_above = cut(q - 1.0, False), cut(q, False), cut(q + 1.0, True)
    start = torch.zeros_like(cut_below)
    end = torch.full_like(cut_below, n)
    tau = (torch.arange(count, dtype=torch.float64, device=q.device) + 0.5) / count

    def linear(sums: list[torch.Tensor], sign: float) -> torch.Tensor:
        # sum of |t - q| - 1/2 where sign (t - q) = |t - q|
        c, s1, _ = sums
        return sign * (s1 - q * c) - 0.5 * c

    def quadratic(sums: list[torch.Tensor]) -> torch.Tensor:
        # sum of (t - q)^2 / 2
        c, s1, s2 = sums
        return 0.5 * (s2 - 2.0 * q * s1 + q * q * c)

    below_total = linear(run_sums(start, cut_far_below), -1.0) + quadratic(
        run_sums(cut_far_below, cut_below)
    )
    above_total = quadratic(run_sums(cut_below, cut_above)) + linear(run_sums(cut_above, end), 1.0)
    loss = ((1.0 - tau) * below_total + tau * above_total).sum(-1) / n
    return loss.to(dtype)


def lambda_return_quantiles(
    rewards: torch.Tensor, bootstrap: torch.Tensor, gammas: torch.Tensor, lamda: float
) -> torch.Tensor:
    """Lambda-returns ``(T, ..., Q)`` of each rollout state, per quantile of the bootstrap.

    Args:
        rewards: ``(T, ...)``: the reward of each step (f of the next parameters).
        bootstrap: ``(T + 1, ..., Q)``: the target network's quantiles at every rollout state;
            entry 0 is not used.
        gammas: ``(...)``: the meta-discount of each player.
        lamda: the lambda of the returns.

    ``G_T = bootstrap_T`` and ``G_t = (1 - g) r_t + g ((1 - lamda) bootstrap_{t+1} + lamda
    G_{t+1})``, the reverse scan of the reference's ``loss_fn_single``.
    """
    g = gammas.unsqueeze(-1)
    target = bootstrap[-1]
    returns = []
    for t in range(rewards.shape[0] - 1, -1, -1):
        target = (1 - g) * rewards[t].unsqueeze(-1) + g * (
            (1 - lamda) * bootstrap[t + 1] + lamda * target
        )
        returns.append(target)
    return torch.stack(returns[::-1])


def draw_meta_discounts(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Meta-discounts from Beta(0.5, 0.5) (the arcsine law), as ``sin^2(pi u / 2)``, u uniform.

    The arcsine law puts weight on both extremes: short-sighted and far-sighted players.
    """
    uniform = torch.rand(shape, generator=generator, dtype=torch.float64)
    return torch.sin(0.5 * math.pi * uniform) ** 2


# --- the model --------------------------------------------------------------------------------


def build_network(config: MevaConfig) -> MetaValueNetwork:
    """An untrained network of the shape ``config`` asks for (initialised from its seed)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return MetaValueNetwork(
            width=config.width,
            quantiles=config.quantiles,
            num_resblocks=config.num_resblocks,
            shared=config.shares_weights(),
            layer_norm=config.layer_norm,
        )


def meta_value_quantiles(
    network: MetaValueNetwork,
    x: torch.Tensor,
    gammas: torch.Tensor,
    flip_signs: torch.Tensor | None = None,
    parameters: dict[str, torch.Tensor] | None = None,
    own_gradients_only: bool = False,
) -> torch.Tensor:
    """U's quantiles ``(..., 2, Q)`` at joint logits ``x`` ``(..., 2, 5)`` (our layout).

    ``parameters`` replaces the network's own (a parameter-noise draw); for
    ``own_gradients_only`` see :meth:`MetaValueNetwork.forward`.
    """
    policies = torch.sigmoid(to_meva_layout(x)).to(torch.float32)
    gammas = gammas.to(torch.float32).expand(x.shape[:-1])  # one per player, any leading axes
    if parameters is None:
        return network(policies, gammas, flip_signs, own_gradients_only)
    return functional_call(network, parameters, (policies, gammas, flip_signs, own_gradients_only))


def own_values(game: ExactGame, x: torch.Tensor) -> torch.Tensor:
    """Both players' exact returns ``(N, 2)`` at ``x`` ``(N, 2, 5)``, each only through its own.

    Each return is differentiable only wrt its own player's logits, so the gradient of the sum
    is the naive gradient of f.
    """
    own0 = game.values(x[:, 0], x[:, 1].detach())[:, 0]
    own1 = game.values(x[:, 0].detach(), x[:, 1])[:, 1]
    return torch.stack([own0, own1], -1)


class MetaValueModel:
    """A trained meta-value network and the config it was trained with.

    ``values(x, gammas)`` is U; :class:`agents.algorithms.meva.MevaLearner` plays with it.
    ``trained_steps`` is the number of outer steps the model was trained for (fewer than
    ``config.outer_steps`` for a model taken from a run part way through).
    """

    def __init__(
        self, config: MevaConfig, network: MetaValueNetwork, trained_steps: int | None = None
    ) -> None:
        self.config = config
        self.trained_steps = config.outer_steps if trained_steps is None else int(trained_steps)
        self.network = network.eval()
        for parameter in self.network.parameters():
            parameter.requires_grad_(False)

    @property
    def game(self) -> ExactGame:
        """The game as the model's MeVa player (player 0) saw it in training."""
        return training_game(self.config)

    def values(self, x: torch.Tensor, gammas: torch.Tensor) -> torch.Tensor:
        """U ``(..., 2)``: the mean of the quantiles, float64 (differentiable wrt ``x``)."""
        return meta_value_quantiles(self.network, x, gammas).mean(-1).to(torch.float64)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model (config and float32 weights) to ``path``."""
        payload = {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "kind": "model",
            "config": self.config.to_dict(),
            "trained_steps": self.trained_steps,
            "network": {k: v.detach().clone() for k, v in self.network.state_dict().items()},
        }
        return _write(payload, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> MetaValueModel:
        """Read a model written by :meth:`save` (or the final model of a training checkpoint).

        Raises :class:`agents.checkpoint.CheckpointError` naming the problem for a missing,
        corrupt, foreign or non-finite file.
        """
        payload = read_meva_file(path)
        config = payload["config"]
        network = build_network(config)
        if payload["kind"] == "model":
            _load_weights(network, payload["network"], path)
            steps = payload.get("trained_steps")
        else:
            _load_weights(network, payload["target_network"], path)
            steps = payload["state"].get("step") if isinstance(payload["state"], dict) else None
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)):
            raise CheckpointError(f"MeVa file {path}: trained_steps is not an integer: {steps!r}")
        return cls(config, network, steps)


def read_meva_file(path: str | os.PathLike) -> dict[str, Any]:
    """Load and validate a MeVa model or training checkpoint; ``config`` becomes a MevaConfig."""
    needed = {"model": ("config", "network"), "training": ("config", "target_network", "state")}
    return read_model_file(path, MODEL_FORMAT, MODEL_FORMAT_VERSION, "MeVa", needed, MevaConfig)


def read_model_file(
    path: str | os.PathLike,
    format_name: str,
    format_version: int,
    label: str,
    needed: dict[str, tuple[str, ...]],
    config_class: Any,
) -> dict[str, Any]:
    """Load a model file of ``format_name`` and check its version, kind and entries.

    ``needed`` maps each kind of file to the entries it must hold; the ``config`` entry is
    parsed with ``config_class.from_dict``. Every problem is a :class:`CheckpointError` that
    names the file and says what ``label`` file was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{label} model {path} does not exist")
    payload = _load_plain(path)
    if not isinstance(payload, dict) or payload.get("format") != format_name:
        raise CheckpointError(f"{path} is not a socialdilemmas {label} model")
    if payload.get("format_version") != format_version:
        raise CheckpointError(
            f"{label} model {path} has format version {payload.get('format_version')}; this "
            f"version reads {format_version}"
        )
    kind = payload.get("kind")
    if kind not in needed:
        raise CheckpointError(f"{label} file {path} has unknown kind {kind!r}")
    missing = [key for key in needed[kind] if key not in payload]
    if missing:
        raise CheckpointError(f"{label} file {path} is incomplete: missing {missing}")
    try:
        payload["config"] = config_class.from_dict(payload["config"])
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{label} file {path} has a bad config: {error}") from None
    return payload


def _load_weights(network: nn.Module, weights: Any, path: str | os.PathLike) -> None:
    if not isinstance(weights, dict) or not all(
        isinstance(value, torch.Tensor) for value in weights.values()
    ):
        raise CheckpointError(f"MeVa file {path}: the network weights are not a state dict")
    bad = [name for name, value in weights.items() if not torch.isfinite(value).all()]
    if bad:
        raise CheckpointError(f"MeVa file {path}: non-finite weights in {bad[:3]}")
    try:
        network.load_state_dict(weights)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise CheckpointError(
            f"MeVa file {path}: the weights do not fit the network its config describes ({first})"
        ) from None


def _write(payload: dict[str, Any], path: str | os.PathLike) -> Path:
    import io

    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def training_game(config: MevaConfig) -> ExactGame:
    """The game of ``config`` with MeVa as player 0 (the players swapped for seat 1)."""
    game = ExactGame(config.game, config.game_gamma)
    return game.swapped() if config.seat == 1 else game


# --- the trainer ------------------------------------------------------------------------------


class MetaValueTrainer:
    """Trains one meta-value model by the reference loop (see the module docstring).

    Deterministic for a seed: every draw comes from one generator, and a run resumed from a
    checkpoint continues exactly as if it had not stopped.
    """

    def __init__(self, config: MevaConfig) -> None:
        self.config = config
        self.game = training_game(config)
        self.alpha = config.alpha if config.alpha is not None else self.game.reference_learning_rate
        self.network = build_network(config)
        self.target = build_network(config)
        self.target.load_state_dict(self.network.state_dict())
        for parameter in self.target.parameters():
            parameter.requires_grad_(False)
        trainable = list(self.network.parameters())
        self.log_scales: dict[str, torch.Tensor] = {}
        self.target_log_scales: dict[str, torch.Tensor] = {}
        if config.noisynet:
            start = math.log(config.noisynet_init_scale)
            for name, parameter in self.network.named_parameters():
                self.log_scales[name] = torch.full_like(parameter, start, requires_grad=True)
                self.target_log_scales[name] = torch.full_like(parameter, start)
            trainable += list(self.log_scales.values())
        self.optimizer = torch.optim.AdamW(
            trainable,
            lr=config.lr,
            betas=tuple(config.adam_betas),
            eps=config.adam_eps,
            weight_decay=config.weight_decay,
        )
        self.generator = torch.Generator().manual_seed(config.seed)
        self.lola = LolaLearner(LolaConfig(lr=self.alpha, lookahead=self.alpha))
        self.step = 0
        self.losses: list[float] = []
        self.td_errors: list[float] = []

    # -- the agents' steps

    def _noisy_parameters(
        self, network: nn.Module, log_scales: dict[str, torch.Tensor], seed: int
    ) -> dict[str, torch.Tensor]:
        """One parameter-noise draw, the same noise for the online and the target network."""
        noise_generator = torch.Generator().manual_seed(seed)
        return {
            name: parameter
            + log_scales[name].exp()
            * torch.randn(parameter.shape, generator=noise_generator, dtype=parameter.dtype)
            for name, parameter in network.named_parameters()
        }

    def _meva_values(
        self,
        x: torch.Tensor,
        gammas: torch.Tensor,
        with_return: bool,
        flip_signs: torch.Tensor | None,
        parameters: dict[str, torch.Tensor] | None,
    ) -> torch.Tensor:
        """What the MeVa players ascend ``(N, 2)``: V, or U alone during behaviour.

        Built so that the gradient of its sum wrt ``x`` is each player's own gradient only.
        """
        u = meta_value_quantiles(
            self.network, x, gammas, flip_signs, parameters, own_gradients_only=True
        )
        u = u.mean(-1).to(torch.float64)
        if not (with_return and self.config.correction):
            return u
        f = own_values(self.game, x)
        return (1 - gammas) * f + gammas * u

    def agent_steps(
        self,
        x: torch.Tensor,
        gammas: torch.Tensor,
        with_return: bool,
        flip_signs: torch.Tensor | None = None,
        parameters: dict[str, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Both players' steps ``alpha * gradient`` ``(N, 2, 5)`` from joint logits ``x``.

        A MeVa player follows the gradient of its own meta-value wrt its own logits (the
        "naive gradient" of V); the opponent follows its own rule.
        """
        x = x.detach().requires_grad_(True)
        values = self._meva_values(x, gammas, with_return, flip_signs, parameters)
        if self.config.opponent == "meva":
            (gradient,) = torch.autograd.grad(values.sum(), x)
            return self.alpha * gradient
        own, other = x[:, 0].detach(), x[:, 1].detach()
        if self.config.opponent == "naive":
            opponent = other.clone().requires_grad_(True)
            (opponent_gradient,) = torch.autograd.grad(
                self.game.values(own, opponent)[:, 1].sum(), opponent
            )
            opponent_step = self.alpha * opponent_gradient
        else:
            opponent_step = self.lola.update(self.game.seat(1), other, own) - other
        (gradient,) = torch.autograd.grad(values[:, 0].sum(), x)
        return torch.stack([self.alpha * gradient[:, 0], opponent_step], 1)

    # -- one update of the model

    def _draw_gammas(self, count: int) -> torch.Tensor:
        if self.config.fixed_gamma is not None:
            return torch.full((count, 2), self.config.fixed_gamma, dtype=torch.float64)
        return draw_meta_discounts((count, 2), self.generator)

    def learn_from(self, x: torch.Tensor) -> tuple[float, float]:
        """One model update from the agents at ``x``: roll out, regress, step, follow.

        Returns the loss and the short-horizon TD error (root mean square over players and
        batch of ``(1-g) sum_t g^t r_t + g^T U(x_T) - U(x_0)``, the paper's ablation metric).
        """
        config = self.config
        gammas = self._draw_gammas(x.shape[0])
        online_parameters = target_parameters = None
        if config.noisynet:
            noise_seed = int(torch.randint(2**62, (1,), generator=self.generator))
            online_parameters = self._noisy_parameters(self.network, self.log_scales, noise_seed)
            target_parameters = self._noisy_parameters(
                self.target, self.target_log_scales, noise_seed
            )
        # the rollout is data: no gradient through the trajectory
        states = [x]
        for _ in range(config.stride):
            step = self.agent_steps(states[-1], gammas, True, None, _detached(online_parameters))
            states.append((states[-1] + step).detach())
        xs = torch.stack(states)  # (T + 1, B, 2, 5)
        with torch.no_grad():
            f = self.game.values(xs[..., 0, :], xs[..., 1, :])  # (T + 1, B, 2)
        rewards = f[1:] if config.correction else f[:-1]
        quantiles = meta_value_quantiles(self.network, xs, gammas, None, online_parameters)
        if config.predict_target:
            with torch.no_grad():
                bootstrap = meta_value_quantiles(self.target, xs, gammas, None, target_parameters)
        elif config.semigradient:
            bootstrap = quantiles.detach()
        else:
            bootstrap = quantiles
        g32 = gammas.to(torch.float32)
        targets = lambda_return_quantiles(rewards.to(torch.float32), bootstrap, g32, config.lamda)
        loss = quantile_huber_loss(quantiles[:-1], targets).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self._follow()
        with torch.no_grad():
            values = quantiles.detach().mean(-1).to(torch.float64)
            horizon = rewards.shape[0]
            discounts = gammas.unsqueeze(0) ** torch.arange(horizon, dtype=torch.float64).view(
                -1, 1, 1
            )
            td = (
                (1 - gammas) * (discounts * rewards).sum(0)
                + gammas**horizon * values[-1]
                - values[0]
            )
        return float(loss.detach()), float(td.pow(2).mean().sqrt())

    def _follow(self) -> None:
        """Polyak: target <- rho target + (1 - rho) online (noise scales too)."""
        rho = self.config.rho
        with torch.no_grad():
            pairs = zip(self.target.parameters(), self.network.parameters(), strict=True)
            for target, online in pairs:
                target.mul_(rho).add_(online, alpha=1 - rho)
            for name, log_scale in self.log_scales.items():
                self.target_log_scales[name].mul_(rho).add_(log_scale, alpha=1 - rho)

    def outer_step(self) -> tuple[float, float]:
        """One outer step; returns the loss and TD error of its first update (as logged)."""
        config = self.config
        count = config.batch_size
        x = torch.randn(count, 2, 5, generator=self.generator, dtype=torch.float64)
        behaviour_gammas = self._draw_gammas(count)
        flip_signs = None
        if config.explore_signs:
            flipped = (
                torch.rand(count, 2, config.width, generator=self.generator) < config.explore_level
            )
            flip_signs = 1.0 - 2.0 * flipped.to(torch.float32)
        behaviour_network = self.target if config.explore_target else self.network
        behaviour_parameters = None
        if config.noisynet:
            noise_seed = int(torch.randint(2**62, (1,), generator=self.generator))
            scales = self.target_log_scales if config.explore_target else self.log_scales
            behaviour_parameters = _detached(
                self._noisy_parameters(behaviour_network, scales, noise_seed)
            )
        elif config.explore_target:
            behaviour_parameters = dict(self.target.named_parameters())
        first: tuple[float, float] | None = None
        for _ in range(config.inner_steps // config.stride):
            for _ in range(config.stride):
                step = self.agent_steps(
                    x, behaviour_gammas, False, flip_signs, behaviour_parameters
                )
                x = (x + step).detach()
            result = self.learn_from(x)
            first = first or result
        self.step += 1
        self.losses.append(first[0])
        self.td_errors.append(first[1])
        return first

    # -- the whole run

    def train(
        self,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: int = 50,
        progress: bool = False,
    ) -> MetaValueModel:
        """Run the outer steps left, writing a resumable checkpoint every ``checkpoint_every``.

        With ``checkpoint`` naming an existing training checkpoint, training resumes from it.
        """
        if checkpoint is not None and Path(checkpoint).is_file():
            self.resume(checkpoint)
        started = time.perf_counter()
        while self.step < self.config.outer_steps:
            loss, td = self.outer_step()
            if checkpoint is not None and (
                self.step % checkpoint_every == 0 or self.step == self.config.outer_steps
            ):
                self.save(checkpoint)
            if progress and (self.step % 50 == 0 or self.step == self.config.outer_steps):
                print(
                    f"outer step {self.step}/{self.config.outer_steps}: loss {loss:.4f}, "
                    f"TD error {td:.4f} ({time.perf_counter() - started:.0f} s)",
                    flush=True,
                )
        return self.model()

    def model(self) -> MetaValueModel:
        """The trained model: a copy of the target network (the reference's final model)."""
        network = build_network(self.config)
        network.load_state_dict(self.target.state_dict())
        return MetaValueModel(self.config, network, self.step)

    def save(self, path: str | os.PathLike) -> Path:
        """Write everything needed to resume (and the model so far) to ``path``."""
        state = {
            "step": self.step,
            "network": self.network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "log_scales": {k: v.detach().clone() for k, v in self.log_scales.items()},
            "target_log_scales": dict(self.target_log_scales),
            "losses": torch.tensor(self.losses, dtype=torch.float64),
            "td_errors": torch.tensor(self.td_errors, dtype=torch.float64),
        }
        payload = {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "kind": "training",
            "config": self.config.to_dict(),
            "target_network": self.target.state_dict(),
            "state": state,
        }
        return _write(payload, path)

    def resume(self, path: str | os.PathLike) -> None:
        """Continue from a training checkpoint written by :meth:`save` with the same config."""
        payload = read_meva_file(path)
        state = training_state(payload, self.config, path)
        _load_weights(self.target, payload["target_network"], path)
        _load_weights(self.network, state["network"], path)

        def restore_noise_scales() -> None:
            with torch.no_grad():
                for name, value in state["log_scales"].items():
                    self.log_scales[name].copy_(value)
                for name, value in state["target_log_scales"].items():
                    self.target_log_scales[name].copy_(value)

        restore_training_state(self, state, path, restore_noise_scales)


def training_state(payload: dict[str, Any], config: Any, path: str | os.PathLike) -> dict:
    """The ``state`` of a training checkpoint, after checking it is one and fits ``config``."""
    if payload["kind"] != "training":
        raise CheckpointError(f"{path} is a finished model, not a training checkpoint")
    if payload["config"] != config:
        raise CheckpointError(
            f"training checkpoint {path} was written with a different config: "
            f"{payload['config']} (this run: {config})"
        )
    return payload["state"]


def restore_training_state(
    trainer: Any, state: dict, path: str | os.PathLike, restore_more=None
) -> None:
    """Put a trainer's optimizer, generator, step and logs back from a checkpoint's ``state``.

    ``restore_more`` restores what else the trainer keeps; any missing or ill-shaped entry
    raises :class:`CheckpointError` naming the file.
    """
    try:
        trainer.optimizer.load_state_dict(state["optimizer"])
        trainer.generator.set_state(state["generator"])
        if restore_more is not None:
            restore_more()
        trainer.step = int(state["step"])
        trainer.losses = state["losses"].tolist()
        trainer.td_errors = state["td_errors"].tolist()
    except (KeyError, RuntimeError, ValueError, TypeError, AttributeError) as error:
        raise CheckpointError(f"training checkpoint {path} is damaged: {error}") from None


def _detached(parameters: dict[str, torch.Tensor] | None) -> dict[str, torch.Tensor] | None:
    if parameters is None:
        return None
    return {name: value.detach() for name, value in parameters.items()}


def train_meta_value(
    config: MevaConfig,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = False,
) -> MetaValueModel:
    """Train one meta-value model for ``config`` (resuming from ``checkpoint`` if it exists)."""
    return MetaValueTrainer(config).train(checkpoint=checkpoint, progress=progress)
