"""Neural building blocks of the learners: encoders, action distributions, actor-critic.

An :class:`ActorCritic` is an encoder (MLP, or dense layers then a GRU) feeding an action head
and a value head; the critic has its own encoder unless ``share_encoder``. Networks work on
``(T, B, *obs_shape)`` sequences for learning (the GRU unrolled from a zero state, reset where
an episode starts) and on ``(B, *obs_shape)`` batches with a carried state for acting.
:class:`NetworkPolicy` wraps one as an :class:`agents.policy.Policy`.

Action heads, chosen from the action space (see :data:`HEADS`):

* ``Discrete(n)``: one categorical;
* ``MultiDiscrete(nvec)``: one categorical per component, log-probability summed;
* ``Box(low, high)``: a Gaussian squashed by tanh and rescaled to ``[low, high]``, with the
  tanh change-of-variables correction in the log-density.

Every distribution samples from an explicit :class:`torch.Generator`, so a policy's randomness
is reproducible from the seed given to :meth:`NetworkPolicy.reset` whatever else uses torch.
Choosing an action from NaN or infinite logits (or means) raises
:class:`agents.validation.NonFiniteError` instead of returning action 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.nn import functional as F

from agents.devices import draw_device
from agents.policy import Policy
from agents.validation import NonFiniteError

#: tanh outputs are clamped this far inside (-1, 1) before atanh, so stored actions at the
#: bounds (which float32 rounding produces) map to a finite pre-squash value.
ATANH_EPS = 1e-6
LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


# ---- encoders ---------------------------------------------------------------------------------
def mlp(in_size: int, sizes: Sequence[int], activation: type[nn.Module] = nn.Tanh) -> nn.Sequential:
    """Dense layers with ``activation`` (tanh by default; an empty ``sizes`` is the identity)."""
    layers: list[nn.Module] = []
    for size in sizes:
        layers += [nn.Linear(in_size, size), activation()]
        in_size = size
    return nn.Sequential(*layers)


class MLPEncoder(nn.Module):
    """Flattened observation -> dense layers. Stateless; its state is an empty tensor.

    Args:
        obs_size: number of observation entries (the observation is flattened).
        hidden_sizes: widths of the dense layers.
        gru_size: unused (keeps the constructor interchangeable with :class:`GRUEncoder`).

    """

    recurrent = False

    def __init__(self, obs_size: int, hidden_sizes: Sequence[int], gru_size: int = 0) -> None:
        super().__init__()
        self.body = mlp(obs_size, hidden_sizes)
        self.output_size = hidden_sizes[-1] if hidden_sizes else obs_size

    def initial_state(self, batch: int) -> torch.Tensor:
        """Return the (empty) state of ``batch`` sequences."""
        return torch.zeros(batch, 0)

    def step(
        self, x: torch.Tensor, state: torch.Tensor, starts: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Features of one step ``x`` ``(B, obs_size)``."""
        return self.body(x), state

    def unroll(self, x: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        """Features of a sequence ``x`` ``(T, B, obs_size)``."""
        return self.body(x)


class GRUEncoder(nn.Module):
    """Dense layers, then a one-layer GRU whose state is zeroed where an episode starts.

    Args:
        obs_size: number of observation entries (the observation is flattened).
        hidden_sizes: widths of the dense layers before the GRU.
        gru_size: width of the GRU state.

    """

    recurrent = True

    def __init__(self, obs_size: int, hidden_sizes: Sequence[int], gru_size: int = 64) -> None:
        super().__init__()
        self.pre = mlp(obs_size, hidden_sizes)
        self.gru = nn.GRU(hidden_sizes[-1] if hidden_sizes else obs_size, gru_size)
        self.output_size = gru_size

    def initial_state(self, batch: int) -> torch.Tensor:
        """Zero state of ``batch`` sequences, ``(B, gru_size)``."""
        return torch.zeros(batch, self.output_size)

    def step(
        self, x: torch.Tensor, state: torch.Tensor, starts: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: forget the state where ``starts``, then advance it; returns (out, state)."""
        state = state * (~starts).unsqueeze(-1).to(state.dtype)
        out, new_state = self.gru(self.pre(x).unsqueeze(0), state.unsqueeze(0))
        return out[0], new_state[0]

    def unroll(self, x: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        """Features of a sequence ``(T, B, obs_size)`` starting from a zero state.

        When episodes start only at ``t = 0`` (a batch of whole episodes, the training case) the
        fused GRU runs over the whole sequence; otherwise it steps through time, resetting the
        state wherever ``starts`` says.
        """
        features = self.pre(x)
        if not bool(starts[1:].any()):
            return self.gru(features)[0]
        state = features.new_zeros(x.shape[1], self.output_size)
        outputs = []
        for t in range(x.shape[0]):
            state = state * (~starts[t]).unsqueeze(-1).to(state.dtype)
            out, state = self.gru(features[t : t + 1], state.unsqueeze(0))
            state = state[0]
            outputs.append(out[0])
        return torch.stack(outputs)


class PreviousObservationEncoder(nn.Module):
    """Dense layers on the previous and the current observation side by side (memory two).

    A memory-one policy sees only what the observation holds. In the Negotiation Game that is
    the last round's proposals but not the last round's values (they are redrawn every round),
    so it cannot tell whether the opponent's claims were fair; the previous observation
    supplies them. The previous observation is zeros at an episode's first step.

    Args:
        obs_size: number of observation entries (the observation is flattened).
        hidden_sizes: widths of the dense layers (input ``2 * obs_size``).
        gru_size: unused (keeps the constructor interchangeable with :class:`GRUEncoder`).

    """

    recurrent = True

    def __init__(self, obs_size: int, hidden_sizes: Sequence[int], gru_size: int = 0) -> None:
        super().__init__()
        self.obs_size = obs_size
        self.body = mlp(2 * obs_size, hidden_sizes)
        self.output_size = hidden_sizes[-1] if hidden_sizes else 2 * obs_size

    def initial_state(self, batch: int) -> torch.Tensor:
        """Zero previous observation of ``batch`` sequences, ``(B, obs_size)``."""
        return torch.zeros(batch, self.obs_size)

    def step(
        self, x: torch.Tensor, state: torch.Tensor, starts: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step; the new state is ``x`` itself."""
        previous = state * (~starts).unsqueeze(-1).to(state.dtype)
        return self.body(torch.cat([previous, x], -1)), x

    def unroll(self, x: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        """Features of a sequence ``(T, B, obs_size)`` starting from a zero previous observation."""
        previous = torch.cat([torch.zeros_like(x[:1]), x[:-1]])
        previous = previous * (~starts).unsqueeze(-1).to(x.dtype)
        return self.body(torch.cat([previous, x], -1))


#: encoder name (the ``encoder`` config field) -> class
ENCODERS: dict[str, type[MLPEncoder] | type[GRUEncoder] | type[PreviousObservationEncoder]] = {
    "mlp": MLPEncoder,
    "gru": GRUEncoder,
    "mlp_prev": PreviousObservationEncoder,
}


# ---- distributions ----------------------------------------------------------------------------
class CategoricalDistribution:
    """Independent categoricals over the last axis of ``logits`` ``(..., k, n)``.

    ``k`` components (1 for ``Discrete``); log-probabilities and entropies sum over them.
    """

    def __init__(self, logits: torch.Tensor, squeeze: bool) -> None:
        self.log_p = torch.log_softmax(logits, dim=-1)
        self.squeeze = squeeze

    def _shape(self, actions: torch.Tensor) -> torch.Tensor:
        return actions.squeeze(-1) if self.squeeze else actions

    def _check_finite(self) -> None:
        # argmax over NaN log-probabilities returns action 0 in every game: a diverged network
        # would look like one that always cooperates. -inf alone is a padded (absent) class.
        if bool(torch.isnan(self.log_p).any()):
            raise NonFiniteError(
                "cannot choose an action: the policy's logits are NaN or infinite (its "
                "parameters have diverged)"
            )

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw actions (Gumbel-max, so the draw uses ``generator``); NonFiniteError on NaN."""
        self._check_finite()
        u = torch.rand(
            self.log_p.shape, generator=generator, device=draw_device(generator, self.log_p)
        ).to(self.log_p.device)
        u = u.clamp_(1e-12, 1.0)
        return self._shape(torch.argmax(self.log_p - torch.log(-torch.log(u)), dim=-1))

    def mode(self) -> torch.Tensor:
        """Return the most likely action; NonFiniteError if the logits are not finite."""
        self._check_finite()
        return self._shape(torch.argmax(self.log_p, dim=-1))

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        """Log-probability of ``actions``, summed over components."""
        index = actions.long().unsqueeze(-1) if self.squeeze else actions.long()
        return self.log_p.gather(-1, index.unsqueeze(-1)).squeeze(-1).sum(-1)

    def entropy(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """Exact entropy, summed over components."""
        # padded classes (unequal MultiDiscrete sizes) have log p = -inf: count them as 0
        finite_log_p = self.log_p.masked_fill(torch.isinf(self.log_p), 0.0)
        return -(self.log_p.exp() * finite_log_p).sum((-2, -1))


class TanhGaussianDistribution:
    """``low + (high - low) * (tanh(u) + 1) / 2`` with ``u ~ Normal(mean, exp(log_std))``.

    The log-density of an action ``a`` is the Gaussian's at ``u = atanh(y)`` minus
    ``log|da/du| = log(scale) + log(1 - tanh(u)^2)``, summed over action dimensions; ``y`` is
    clamped just inside (-1, 1) so actions on the bounds stay finite.
    """

    def __init__(
        self, mean: torch.Tensor, log_std: torch.Tensor, low: torch.Tensor, high: torch.Tensor
    ) -> None:
        self.mean = mean
        self.log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX).expand_as(mean)
        self.scale = (high - low) / 2
        self.bias = (high + low) / 2

    def _squash(self, u: torch.Tensor) -> torch.Tensor:
        return self.bias + self.scale * torch.tanh(u)

    def _log_prob_u(self, u: torch.Tensor) -> torch.Tensor:
        z = (u - self.mean) / self.log_std.exp()
        gaussian = -0.5 * z.pow(2) - self.log_std - 0.5 * math.log(2 * math.pi)
        # log(1 - tanh(u)^2) written without cancellation for large |u|
        log_dtanh = 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))
        return (gaussian - log_dtanh - torch.log(self.scale)).sum(-1)

    def _rsample_u(self, generator: torch.Generator | None) -> torch.Tensor:
        noise = torch.randn(
            self.mean.shape, generator=generator, device=draw_device(generator, self.mean)
        ).to(self.mean.device)
        return self.mean + self.log_std.exp() * noise

    def _check_finite(self) -> None:
        if not bool(torch.isfinite(self.mean).all()):
            raise NonFiniteError(
                "cannot choose an action: the policy's action means are NaN or infinite (its "
                "parameters have diverged)"
            )

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw actions in ``[low, high]``; NonFiniteError if the means are not finite."""
        self._check_finite()
        return self._squash(self._rsample_u(generator))

    def mode(self) -> torch.Tensor:
        """Return the squashed Gaussian mean (a deterministic action)."""
        self._check_finite()
        return self._squash(self.mean)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        """Log-density of ``actions`` in ``[low, high]``, summed over dimensions."""
        y = ((actions - self.bias) / self.scale).clamp(-1 + ATANH_EPS, 1 - ATANH_EPS)
        return self._log_prob_u(torch.atanh(y))

    def entropy(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """One-sample reparameterised estimate ``-log p(a)``, ``a`` drawn with ``generator``.

        The squashed density has no closed-form entropy; unlike ``-log p`` of the batch's own
        (old-policy) actions, this estimate has a non-zero gradient at the current parameters.
        """
        return -self._log_prob_u(self._rsample_u(generator))


class CategoricalHead(nn.Module):
    """Logits for ``Discrete(n)`` (one component) or ``MultiDiscrete(nvec)`` (one per entry).

    Components of a ``MultiDiscrete`` with unequal sizes are padded with -inf logits.
    """

    def __init__(self, in_size: int, space: spaces.Discrete | spaces.MultiDiscrete) -> None:
        super().__init__()
        self.squeeze = isinstance(space, spaces.Discrete)
        nvec = np.array([space.n]) if self.squeeze else np.asarray(space.nvec).ravel()
        if isinstance(space, spaces.MultiDiscrete) and np.asarray(space.nvec).ndim != 1:
            raise ValueError(f"only 1-d MultiDiscrete spaces are supported, got {space}")
        self.components, self.width = len(nvec), int(nvec.max())
        self.linear = nn.Linear(in_size, self.components * self.width)
        mask = torch.arange(self.width)[None, :] >= torch.as_tensor(nvec)[:, None]
        self.register_buffer("pad", torch.where(mask, float("-inf"), 0.0), persistent=False)

    def forward(self, features: torch.Tensor) -> CategoricalDistribution:
        """Return the action distribution for ``features`` ``(..., in_size)``."""
        logits = self.linear(features).unflatten(-1, (self.components, self.width))
        return CategoricalDistribution(logits + self.pad, self.squeeze)


class TanhGaussianHead(nn.Module):
    """Means from the features and a learned state-independent log-std, for ``Box`` actions."""

    def __init__(self, in_size: int, space: spaces.Box, log_std_init: float = -0.5) -> None:
        super().__init__()
        if len(space.shape) != 1 or not (
            np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))
        ):
            raise ValueError(f"Box actions must be 1-d with finite bounds, got {space}")
        size = space.shape[0]
        self.linear = nn.Linear(in_size, size)
        self.log_std = nn.Parameter(torch.full((size,), float(log_std_init)))
        self.register_buffer("low", torch.as_tensor(space.low, dtype=torch.float32), False)
        self.register_buffer("high", torch.as_tensor(space.high, dtype=torch.float32), False)

    def forward(self, features: torch.Tensor) -> TanhGaussianDistribution:
        """Return the action distribution for ``features`` ``(..., in_size)``."""
        return TanhGaussianDistribution(self.linear(features), self.log_std, self.low, self.high)


def make_head(in_size: int, space: spaces.Space, log_std_init: float) -> nn.Module:
    """Build the action head for ``space`` (Discrete, MultiDiscrete or Box)."""
    if isinstance(space, (spaces.Discrete, spaces.MultiDiscrete)):
        return CategoricalHead(in_size, space)
    if isinstance(space, spaces.Box):
        return TanhGaussianHead(in_size, space, log_std_init)
    raise TypeError(f"no action head for {space}: expected Discrete, MultiDiscrete or Box")


# ---- actor-critic -----------------------------------------------------------------------------
class ActorCritic(nn.Module):
    """Actor and critic over one seat's observations.

    Args:
        observation_space: single-seat observation space (any shape; flattened).
        action_space: single-seat action space (Discrete, MultiDiscrete or Box).
        encoder: a key of :data:`ENCODERS` (``"mlp"`` or ``"gru"``).
        hidden_sizes: dense layer widths (before the GRU for ``"gru"``).
        gru_size: GRU state width.
        share_encoder: actor and critic read one encoder (otherwise each has its own).
        log_std_init: initial log standard deviation of continuous actions.

    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        encoder: str = "gru",
        hidden_sizes: Sequence[int] = (64, 64),
        gru_size: int = 64,
        share_encoder: bool = False,
        log_std_init: float = -0.5,
    ) -> None:
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(f"unknown encoder {encoder!r}; choose from {list(ENCODERS)}")
        self.obs_shape = tuple(observation_space.shape)
        obs_size = int(np.prod(self.obs_shape))
        encoder_class = ENCODERS[encoder]
        self.actor_encoder = encoder_class(obs_size, tuple(hidden_sizes), gru_size)
        self.critic_encoder = (
            None if share_encoder else encoder_class(obs_size, tuple(hidden_sizes), gru_size)
        )
        size = self.actor_encoder.output_size
        self.actor_head = make_head(size, action_space, log_std_init)
        self.value_head = nn.Linear(size, 1)

    def _flat(self, observations: torch.Tensor, batch_dims: int) -> torch.Tensor:
        return observations.reshape(*observations.shape[:batch_dims], -1)

    def actor_parameters(self) -> list[nn.Parameter]:
        """The actor's parameters: its encoder (the shared one, if shared) and its head."""
        return [*self.actor_encoder.parameters(), *self.actor_head.parameters()]

    def critic_parameters(self) -> list[nn.Parameter]:
        """The critic's parameters: its encoder (the shared one, if shared) and the value head."""
        encoder = self.critic_encoder or self.actor_encoder
        return [*encoder.parameters(), *self.value_head.parameters()]

    def initial_state(self, batch: int) -> torch.Tensor:
        """Zero actor state for ``batch`` games."""
        return self.actor_encoder.initial_state(batch)

    def act_step(
        self, observations: torch.Tensor, state: torch.Tensor, starts: torch.Tensor
    ) -> tuple[CategoricalDistribution | TanhGaussianDistribution, torch.Tensor]:
        """Return the action distribution of one step ``(B, *obs_shape)`` and the new state."""
        features, state = self.actor_encoder.step(self._flat(observations, 1), state, starts)
        return self.actor_head(features), state

    def forward(
        self, observations: torch.Tensor, starts: torch.Tensor
    ) -> tuple[CategoricalDistribution | TanhGaussianDistribution, torch.Tensor]:
        """Return action distributions and values ``(T, B)`` of a ``(T, B, *obs)`` sequence."""
        x = self._flat(observations, 2)
        features = self.actor_encoder.unroll(x, starts)
        critic_features = (
            features if self.critic_encoder is None else self.critic_encoder.unroll(x, starts)
        )
        return self.actor_head(features), self.value_head(critic_features).squeeze(-1)

    def values(self, observations: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        """Values ``(T, B)`` of a ``(T, B, *obs_shape)`` sequence."""
        x = self._flat(observations, 2)
        encoder = self.critic_encoder or self.actor_encoder
        return self.value_head(encoder.unroll(x, starts)).squeeze(-1)


class NetworkPolicy(Policy):
    """An :class:`ActorCritic`'s actor as a :class:`Policy` (any seat, evaluation, leagues).

    Args:
        network: the actor-critic (only the actor is used).
        name: label in tables.
        deterministic: play the most likely action instead of sampling.

    """

    def __init__(self, network: ActorCritic, name: str = "learner", deterministic: bool = False):
        self.network = network
        self.name = name
        self.deterministic = deterministic
        self._state = network.initial_state(0)
        self._generator = torch.Generator()
        self._generator.seed()

    @property
    def device(self) -> torch.device:
        """The device of the network's parameters (where it acts)."""
        return next(self.network.parameters()).device

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Zero the recurrent state of ``num_envs`` games and restart sampling from ``seed``."""
        self._state = self.network.initial_state(num_envs).to(self.device)
        if seed is None:
            self._generator.seed()
        else:
            self._generator.manual_seed(int(seed))

    def act_with_log_probs(
        self, observations: np.ndarray, episode_starts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sample (or take the mode of) one action per game; also its log-probability.

        The observations move to the network's device in one transfer, the actions and
        log-probabilities come back in one each.
        """
        device = self.device
        obs = torch.as_tensor(observations, dtype=torch.float32, device=device)
        starts = torch.as_tensor(episode_starts, dtype=torch.bool, device=device)
        if self._state.shape[0] != obs.shape[0] or self._state.device != device:
            self._state = self.network.initial_state(obs.shape[0]).to(device)
        with torch.no_grad():
            dist, self._state = self.network.act_step(obs, self._state, starts)
            actions = dist.mode() if self.deterministic else dist.sample(self._generator)
            log_probs = dist.log_prob(actions)
        return actions.cpu().numpy(), log_probs.cpu().numpy()

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Actions only."""
        return self.act_with_log_probs(observations, episode_starts)[0]
