"""LOLA-DiCE's network: a policy and a separate value function, callable with any parameters.

The policy's and the value function's parameters are disjoint (their names start with
``policy`` and ``value``), so the opponent's imagined steps move its policy only, and
:func:`torch.func.functional_call` evaluates the network with parameters that are functions
of another player's (the lookahead).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.algorithms.lola_dice.config import LOLADiCEConfig
from agents.nn import CategoricalDistribution, GRUEncoder, NetworkPolicy
from agents.policy import Policy


class _TabularLogits(nn.Module):
    """Logits ``[x @ W, 0]``: one free logit per observation entry and action but the last.

    On a one-hot observation (the IPD's memory-one state) ``W`` is a table of log-odds against
    the last action, the reference's ``SimplePolicy`` (a bias-free linear layer whose second
    logit is fixed at 0).
    """

    def __init__(self, obs_size: int, num_actions: int, init_scale: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(obs_size, num_actions - 1))
        if init_scale > 0:
            std = init_scale / math.sqrt(obs_size)
            nn.init.trunc_normal_(self.weight, std=std, a=-2 * std, b=2 * std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        free = x @ self.weight
        return torch.cat([free, torch.zeros_like(free[..., :1])], dim=-1)


class LOLADiCENetwork(nn.Module):
    """One LOLA-DiCE agent: a tabular or GRU policy and a value function of the same kind.

    It has the interface :class:`agents.nn.NetworkPolicy` drives (``initial_state``,
    ``act_step``), so a saved agent plays anywhere; :meth:`forward` evaluates whole sequences
    for the objectives.

    Args:
        observation_space: one seat's observation space (flattened).
        action_space: ``Discrete(n)``.
        config: the network fields of a :class:`LOLADiCEConfig`.

    """

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, config: LOLADiCEConfig
    ) -> None:
        super().__init__()
        check_action_space(action_space)
        obs_size = int(np.prod(observation_space.shape))
        num_actions = int(action_space.n)
        self.recurrent = config.policy_model == "gru"
        if self.recurrent:
            sizes = tuple(config.hidden_sizes)
            self.policy_encoder = GRUEncoder(obs_size, sizes, config.gru_size)
            self.policy_head = nn.Linear(config.gru_size, num_actions)
            self.value_encoder = GRUEncoder(obs_size, sizes, config.gru_size)
            self.value_head = nn.Linear(config.gru_size, 1)
        else:
            self.policy_logits = _TabularLogits(obs_size, num_actions, config.init_scale)
            self.value_head = nn.Linear(obs_size, 1)

    def policy_names(self) -> list[str]:
        """Names of the policy's parameters (what the outer and the imagined steps move)."""
        return [name for name, _ in self.named_parameters() if name.startswith("policy")]

    def value_names(self) -> list[str]:
        """Names of the value function's parameters."""
        return [name for name, _ in self.named_parameters() if name.startswith("value")]

    # acting (the NetworkPolicy interface)
    def initial_state(self, batch: int) -> torch.Tensor:
        """The policy's zero memory for ``batch`` games (empty for the tabular policy)."""
        if self.recurrent:
            return self.policy_encoder.initial_state(batch)
        return torch.zeros(batch, 0)

    def act_step(
        self, observations: torch.Tensor, state: torch.Tensor, starts: torch.Tensor
    ) -> tuple[CategoricalDistribution, torch.Tensor]:
        """Action distribution of one step ``(B, *obs_shape)`` and the new memory."""
        x = observations.flatten(1)
        if self.recurrent:
            features, state = self.policy_encoder.step(x, state, starts)
            logits = self.policy_head(features)
        else:
            logits = self.policy_logits(x)
        return CategoricalDistribution(logits.unsqueeze(-2), True), state

    # learning
    def forward(
        self, observations: torch.Tensor, starts: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``log pi(.|h_t)`` ``(T, B, A)`` and ``V(h_t)`` ``(T, B)`` of ``(T, B, *obs)`` sequences.

        Recurrent parts start from a zero state and reset where ``starts``.
        """
        x = observations.flatten(2)
        if self.recurrent:
            logits = self.policy_head(self.policy_encoder.unroll(x, starts))
            values = self.value_head(self.value_encoder.unroll(x, starts))
        else:
            logits = self.policy_logits(x)
            values = self.value_head(x)
        return torch.log_softmax(logits, dim=-1), values.squeeze(-1)


class TabularRolloutPolicy(Policy):
    """Plays a tabular :class:`LOLADiCENetwork` in NumPy, with the weights it has at ``reset``.

    The training rollouts' policy: a torch call per step costs about ten times the NumPy one
    on these 64-game batches, and LOLA-DiCE plays several rollouts per iteration. Actions are
    Gumbel-max samples from the logits ``[x @ W, 0]``, seeded by ``reset``.

    Args:
        network: a tabular network (its policy has no memory).
        name: label in tables.

    """

    def __init__(self, network: LOLADiCENetwork, name: str) -> None:
        if network.recurrent:
            raise ValueError("TabularRolloutPolicy plays tabular policies only")
        self.network = network
        self.name = name
        self._weight = np.zeros((0, 0))
        self._rng = np.random.default_rng()

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Read the network's current logits table and restart sampling from ``seed``."""
        weight = self.network.policy_logits.weight.detach().cpu().numpy().astype(np.float64)
        self._weight = np.concatenate([weight, np.zeros((weight.shape[0], 1))], axis=1)
        self._rng = np.random.default_rng(seed)

    def act_with_log_probs(
        self, observations: np.ndarray, episode_starts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sample one action per game; also its log-probability."""
        logits = observations.reshape(observations.shape[0], -1) @ self._weight
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        actions = np.argmax(log_p + self._rng.gumbel(size=log_p.shape), axis=1)
        return actions, log_p[np.arange(len(actions)), actions].astype(np.float32)

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Actions only."""
        return self.act_with_log_probs(observations, episode_starts)[0]


def rollout_policy(network: LOLADiCENetwork, name: str) -> Policy:
    """The policy training rollouts play ``network`` with: NumPy for a table, torch otherwise."""
    if network.recurrent:
        return NetworkPolicy(network, name=name)
    return TabularRolloutPolicy(network, name)


def check_action_space(space: spaces.Space) -> None:
    """Raise a clear error unless ``space`` is ``Discrete`` (a categorical policy)."""
    if isinstance(space, spaces.Discrete):
        return
    raise TypeError(
        f"LOLA-DiCE's policies are categorical over Discrete actions; this game has {space}. "
        "Use ppo or advantage alignment."
    )


__all__ = [
    "LOLADiCENetwork",
    "TabularRolloutPolicy",
    "check_action_space",
    "rollout_policy",
]
