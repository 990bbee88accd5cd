"""LOQA's network: an actor and a separate Q-critic whose input carries the time index."""

from __future__ import annotations

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.algorithms.loqa.config import LOQAConfig
from agents.nn import ENCODERS, CategoricalDistribution, mlp


class _Stateless(nn.Module):
    """A feed-forward actor body with the encoder interface (empty state)."""

    recurrent = False

    def __init__(self, body: nn.Module, output_size: int) -> None:
        super().__init__()
        self.body = body
        self.output_size = output_size

    def initial_state(self, batch: int) -> torch.Tensor:
        return torch.zeros(batch, 0)

    def step(self, x: torch.Tensor, state: torch.Tensor, starts: torch.Tensor):
        return self.body(x), state

    def unroll(self, x: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class LOQANetwork(nn.Module):
    """One LOQA agent: an actor ``pi(a|h)`` and a separate Q-critic ``Q(h, t, .)``.

    The actor follows ``GRUCoinAgent`` (dense layers, GRU, linear logits) or, with
    ``actor_model="logits"``, ``IPDLogits``: a zero-initialised table of logits indexed by the
    one-hot observation (a bias-free linear layer on the one-hot; in the IPD 5 states x 2
    actions). The Q-critic reads the observation with ``t / max_cycles`` appended (the
    reference's time index) and outputs one value per action. It has the interface
    :class:`agents.nn.NetworkPolicy` drives (``initial_state``, ``act_step``), so a LOQA agent
    plays anywhere a checkpointed learner does.

    Args:
        observation_space: one seat's observation space (flattened).
        action_space: ``Discrete(n)``.
        config: the network fields of a :class:`LOQAConfig`.
        max_cycles: episode length, the scale of the time index.

    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        config: LOQAConfig,
        max_cycles: int,
    ) -> None:
        super().__init__()
        check_action_space(action_space)
        obs_size = int(np.prod(observation_space.shape))
        self.num_actions = int(action_space.n)
        # the reference feeds the raw step t; "fraction" keeps the input in [0, 1] for tanh layers
        fraction = config.critic_time_input == "fraction"
        self.time_scale = float(max(1, max_cycles)) if fraction else 1.0
        if config.actor_model == "logits":
            table = nn.Linear(obs_size, self.num_actions, bias=False)
            nn.init.zeros_(table.weight)
            self.actor_encoder: nn.Module = _Stateless(nn.Identity(), obs_size)
            self.actor_logits = table
        else:
            if config.actor_model == "gru":
                self.actor_encoder = ENCODERS["gru"](
                    obs_size, tuple(config.hidden_sizes), config.gru_size
                )
            else:
                sizes = tuple(config.hidden_sizes)
                width = sizes[-1] if sizes else obs_size
                self.actor_encoder = _Stateless(mlp(obs_size, sizes), width)
            self.actor_logits = nn.Linear(self.actor_encoder.output_size, self.num_actions)
        if config.critic_encoder == "mlp" and config.critic_activation == "relu":
            # the reference IPD Q-critic MLP([16, 16, 2]): relu, unlike tanh, lets the Q-values
            # reach the IPD's large returns (about -25 to -50 at gamma 0.96) in a few hundred steps
            sizes = tuple(config.critic_hidden_sizes)
            self.critic_encoder = _Stateless(
                mlp(obs_size + 1, sizes, nn.ReLU), sizes[-1] if sizes else obs_size + 1
            )
        else:
            self.critic_encoder = ENCODERS[config.critic_encoder](
                obs_size + 1, tuple(config.critic_hidden_sizes), config.critic_gru_size
            )
        self.q_head = nn.Linear(self.critic_encoder.output_size, self.num_actions)

    # parameters of each optimizer
    def actor_parameters(self) -> list[nn.Parameter]:
        """Parameters of the actor (its own Adam)."""
        return [*self.actor_encoder.parameters(), *self.actor_logits.parameters()]

    def critic_parameters(self) -> list[nn.Parameter]:
        """Parameters of the Q-critic (its own Adam)."""
        return [*self.critic_encoder.parameters(), *self.q_head.parameters()]

    # acting (the NetworkPolicy interface)
    def initial_state(self, batch: int) -> torch.Tensor:
        """Zero actor state for ``batch`` games."""
        return self.actor_encoder.initial_state(batch)

    def act_step(
        self, observations: torch.Tensor, state: torch.Tensor, starts: torch.Tensor
    ) -> tuple[CategoricalDistribution, torch.Tensor]:
        """Action distribution of one step ``(B, *obs_shape)`` and the new actor state."""
        features, state = self.actor_encoder.step(observations.flatten(1), state, starts)
        return CategoricalDistribution(self.actor_logits(features).unsqueeze(-2), True), state

    # learning
    def log_policy(self, observations: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        """``log pi(.|h_t)`` ``(T, B, A)`` of a ``(T, B, *obs)`` sequence (zero initial state)."""
        features = self.actor_encoder.unroll(observations.flatten(2), starts)
        return torch.log_softmax(self.actor_logits(features), dim=-1)

    def q_values(
        self, observations: torch.Tensor, starts: torch.Tensor, times: torch.Tensor
    ) -> torch.Tensor:
        """``Q(h_t, t, .)`` ``(T, B, A)``; ``times`` ``(T, B)`` steps since the episode start."""
        x = torch.cat(
            [observations.flatten(2), (times.to(torch.float32) / self.time_scale).unsqueeze(-1)],
            dim=-1,
        )
        return self.q_head(self.critic_encoder.unroll(x, starts))


def check_action_space(space: spaces.Space) -> None:
    """Raise a clear error unless ``space`` is ``Discrete`` (LOQA's softmax over Q-values)."""
    if isinstance(space, spaces.Discrete):
        return
    raise TypeError(
        f"LOQA needs Discrete actions (its opponent model is a softmax over the opponent's "
        f"Q-values of each action); this game has {space}. Use ppo or advantage alignment."
    )


__all__ = ["LOQANetwork", "check_action_space"]
