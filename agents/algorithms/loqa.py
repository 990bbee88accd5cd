"""LOQA: Learning with Opponent Q-Learning Awareness (Aghajohari et al., ICLR 2024).

Each agent has an actor ``pi(a|h)`` and a separate Q-critic ``Q(h, t, .)`` whose input carries
the time index; ``V(h) = sum_a pi(a|h) Q(h, a)``. LOQA assumes the opponent acts by
``softmax_b(Q2(s, b) / T)`` over the opponent's *own* Q-network, makes the Q-value of the
opponent's taken action differentiable in the agent's parameters through a DiCE estimate of
the opponent's return, and follows

    L = -mean(log pi1(a_t|h_t) A1_t) - w mean(log pi_hat2(b_t|s_t; theta1) A1_t) - beta_H H(pi1)

with TD(0) advantages ``A1``. The Q-critic regresses a Huber loss on SARSA-like ("mean") or
max ("argmax") targets from an EMA target network. The estimators themselves live in
:mod:`agents.algorithms.loqa_parts`; this module wires them into the learner infrastructure.
Reference: ``MiladInk/loqa@32f50c9`` (``ipd.py``, ``coin_train.py``), digested in
``shared/spec/ALGORITHMS.md`` section 2.4.

Self-play (``self_play=True``, the reference's ``just_self_play``): the current agent sits in
seat 0 of every game; seat 1 is, per game, either the current agent (a ``cur_agent_frac``
share of the games) or a past snapshot drawn uniformly from an :class:`AgentReplayBuffer`
(capacity 10000, a push every 10 iterations). Seat 1 is a :class:`~agents.policy.RoutingPolicy`
that routes subsets of games to sub-policies. The agent is trained on seat 0 of every game, with
the opponent model read from *that game's* opponent network (the snapshot's Q-critic), and on
seat 1 only of the games where seat 1 was the current agent: a snapshot's actions are never used
in the current actor's own-log-prob term nor in its critic's regression.

Departures from the reference (all documented in the config fields):

* ``snapshots_per_batch``: the reference draws one snapshot per game (vmapped in JAX); here a
  batch draws that many snapshots (uniformly, with replacement) and splits the games evenly
  between them, so a CPU rollout makes a few calls per step instead of one per game. Setting it
  to ``num_envs`` recovers one snapshot per game (slow).
* Dense layers use tanh (the reference's pre-GRU layers use relu, then a linear layer) and the
  time index enters the Coin Game Q-critic as ``t / max_cycles`` (the reference feeds the raw
  ``t``); the IPD preset's MLP critic is the reference's (relu, raw ``t``:
  ``critic_activation``, ``critic_time_input``).
* The TD(0) advantage is a constant (the code leaks a gradient through ``pi1`` inside ``V1``).

Options for short CPU runs, left at the reference values by the presets: ``bootstrap_end``
(off: the episode end is terminal, matching the truncated Monte Carlo returns in the opponent
model), ``critic_updates`` (several critic steps and EMA updates per iteration) and
``actor_warmup`` (iterations in which only the critic learns). The reference critic moves on a
time scale of ``1 / (tau (1 - gamma))`` = 2500 iterations, which is what these shorten.

Discrete action spaces only: the opponent model is a softmax over the opponent's Q-values of
its discrete actions (MultiDiscrete, e.g. the Negotiation Game, and Box are rejected).
A fixed opponent policy is rejected too: LOQA reads the opponent's Q-network.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.algorithms.base import Agent, Learner, LearnerConfig, derive_seed
from agents.algorithms.loqa_parts import (
    loqa_actor_loss,
    loqa_opponent_log_probs,
    q_critic_loss,
    q_critic_targets,
    td0_advantages,
)
from agents.nn import ENCODERS, CategoricalDistribution, mlp
from agents.policy import Policy, RoutingPolicy
from agents.rollout import Trajectory, rollout
from agents.shaping import AgentReplayBuffer, polyak_update

__all__ = [
    "LOQA_PRESETS",
    "EpsilonGreedyPolicy",
    "LOQAConfig",
    "LOQALearner",
    "LOQANetwork",
    "loqa_preset",
]


@dataclass
class LOQAConfig(LearnerConfig):
    """LOQA settings; the defaults are the reference Coin Game run (README + ``loqa_iclr``).

    Shared fields keep their meaning: ``lr`` is the actor's learning rate, ``ent_coef`` the
    entropy weight ``beta_H``, ``max_grad_norm`` the actor's gradient clip, ``target_tau`` the
    EMA rate of the target network (``1 - target_ema_gamma``), ``hidden_sizes``/``gru_size`` the
    actor's layers. ``gae_lambda``, ``vf_coef``, ``critic_loss``, ``normalize_advantages``,
    ``bootstrap_truncation`` and ``share_encoder`` are not used (LOQA uses TD(0) advantages on
    its own Q-critic, a Huber loss, and bootstraps at the end of its fixed-length episodes).
    """

    #: named hyperparameter sets (``socialdilemmas train --algo loqa --preset NAME``)
    presets: ClassVar[dict[str, dict[str, Any]]] = {}

    num_envs: int = 512
    """games per batch; one iteration plays one whole episode in each"""
    iterations: int = 6000
    """training iterations (the reference league uses the iteration-6000 checkpoint)"""
    self_play: bool = True
    """one agent against itself or its past selves (the reference's just_self_play)"""
    lr: float = 1e-3
    """actor Adam learning rate (lr_loss_actor)"""
    ent_coef: float = 0.1
    """actor entropy bonus beta_H (entropy_beta)"""
    target_tau: float = 0.01
    """EMA rate of the target network, 1 - target_ema_gamma (0.99 in the references)"""
    hidden_sizes: tuple[int, ...] = (128, 128)
    """actor dense layers before its GRU (2 layers_before_gru of hidden_size 128)"""
    gru_size: int = 128
    """actor GRU state width (hidden_size)"""
    actor_model: str = "gru"
    """actor network: gru (dense layers then a GRU), mlp, or logits (a table over the one-hot
    observation, zero-initialised: the reference IPD actor IPDLogits)"""
    critic_lr: float = 1e-2
    """Q-critic Adam learning rate (lr_loss_qvalue)"""
    critic_encoder: str = "gru"
    """Q-critic encoder: gru or mlp (the reference IPD Q-critic is an MLP on (obs, t))"""
    critic_hidden_sizes: tuple[int, ...] = (64, 64)
    """Q-critic dense layers (before its GRU when critic_encoder is gru)"""
    critic_gru_size: int = 64
    """Q-critic GRU state width"""
    critic_activation: str = "tanh"
    """activation of an mlp Q-critic's layers: tanh or relu (the reference IPD critic: relu)"""
    critic_time_input: str = "fraction"
    """time index fed to the Q-critic: fraction (t / max_cycles) or raw (t, as the reference)"""
    critic_mode: str = "mean"
    """Q target: mean (SARSA-like on the next taken action, V at the last row) or argmax"""
    bootstrap_end: bool = True
    """bootstrap an episode's last step from the value of its final observation, in the critic
    targets and the TD(0) advantages (the reference); off treats the end as terminal, which
    matches the truncated Monte Carlo returns inside the opponent model"""
    critic_updates: int = 1
    """Q-critic gradient steps (each followed by the EMA update) per iteration (reference 1;
    more lets the critic keep up in short CPU runs)"""
    actor_warmup: int = 0
    """iterations at the start in which only the Q-critic learns (reference 0; lets a short run
    start shaping from a fitted critic instead of from untrained Q-values)"""
    huber_delta: float = 1.0
    """Huber threshold of the Q-critic loss"""
    opponent_weight: float = 1.0
    """w, the weight of the differentiable opponent term (opponent_differentiation_weight)"""
    lambda_d: float = 0.9
    """extra discount of the loaded-DiCE opponent return (differentiable_opponent.discount)"""
    softmax_temp: float = 1.0
    """temperature T of the opponent model softmax(Q2 / T) (op_softmax_temp)"""
    stop_grad_normalizer: bool = False
    """stop the gradient of the opponent model's log-softmax normaliser: the "ignore the
    partition function" approximation, which turns LOQA's estimator into the Advantage
    Alignment the AA paper ran in the Coin Game (AA-NB, ``stop_grad_normalizing_constant``)"""
    epsilon_greedy: float = 0.0
    """share of actions replaced by uniform random ones in training rollouts (0.2 in the IPD)"""
    agent_buffer: bool = True
    """self-play against past snapshots from an agent replay buffer (self_play only)"""
    buffer_capacity: int = 10000
    """snapshots kept in the agent replay buffer"""
    buffer_push_every: int = 10
    """push a snapshot every this many iterations (update_freq)"""
    cur_agent_frac: float = 0.0
    """share of games against the current agent instead of a snapshot (reference 0)"""
    snapshots_per_batch: int = 8
    """distinct snapshots drawn per batch, games split evenly (reference: one per game)"""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.critic_hidden_sizes = tuple(int(size) for size in self.critic_hidden_sizes)
        if self.actor_model not in ("gru", "mlp", "logits"):
            raise ValueError(f"actor_model must be gru, mlp or logits, got {self.actor_model!r}")
        if self.critic_encoder not in ENCODERS:
            raise ValueError(
                f"critic_encoder must be one of {list(ENCODERS)}, got {self.critic_encoder!r}"
            )
        if self.critic_activation not in ("tanh", "relu"):
            raise ValueError(
                f"critic_activation must be tanh or relu, got {self.critic_activation!r}"
            )
        if self.critic_time_input not in ("fraction", "raw"):
            raise ValueError(
                f"critic_time_input must be fraction or raw, got {self.critic_time_input!r}"
            )
        if self.critic_mode not in ("mean", "argmax"):
            raise ValueError(f"critic_mode must be mean or argmax, got {self.critic_mode!r}")
        if self.actor_warmup < 0:
            raise ValueError(f"actor_warmup must be >= 0, got {self.actor_warmup}")
        for name in ("critic_lr", "huber_delta", "softmax_temp"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("lambda_d", "epsilon_greedy", "cur_agent_frac"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        positive = ("buffer_capacity", "buffer_push_every", "snapshots_per_batch")
        positive += ("critic_gru_size", "critic_updates")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")


#: named presets: the reference hyperparameters (``ALGORITHMS.md`` 2.4) and CPU-sized variants
LOQA_PRESETS: dict[str, dict[str, Any]] = {
    # README Coin Game command: hp=loqa_iclr + overrides, 3x3, T = 50, batch 512
    "coin_iclr": {
        "env_id": "coin_game_v0",
        "env_kwargs": {"grid_size": 3, "max_cycles": 50},
        "num_envs": 512, "iterations": 6000, "self_play": True,
        "lr": 1e-3, "critic_lr": 1e-2, "ent_coef": 0.1, "gamma": 0.96,
        "actor_model": "gru", "hidden_sizes": (128, 128), "gru_size": 128,
        "critic_encoder": "gru", "critic_hidden_sizes": (64, 64), "critic_gru_size": 64,
        "target_tau": 0.01, "lambda_d": 0.9, "softmax_temp": 1.0, "max_grad_norm": 1.0,
        "critic_mode": "mean", "agent_buffer": True, "buffer_capacity": 10000,
        "buffer_push_every": 10, "cur_agent_frac": 0.0, "epsilon_greedy": 0.0,
    },
    # README IPD command: hp=logits, batch 2048, T = 50, qvalue.mode=mean, eps-greedy 0.2,
    # no agent buffer (self-play against the current agent), no clipping
    "ipd_logits": {
        "env_id": "ipd_v0", "env_kwargs": {"max_cycles": 50},
        "num_envs": 2048, "iterations": 1000, "self_play": True,
        "lr": 1e-3, "critic_lr": 1e-2, "ent_coef": 0.0, "gamma": 0.96,
        "actor_model": "logits", "critic_encoder": "mlp", "critic_hidden_sizes": (16, 16),
        "critic_activation": "relu", "critic_time_input": "raw",
        "target_tau": 0.01, "lambda_d": 0.9, "softmax_temp": 1.0, "max_grad_norm": 0.0,
        "critic_mode": "mean", "agent_buffer": False, "cur_agent_frac": 1.0,
        "epsilon_greedy": 0.2,
    },
}
# CPU-sized variants: smaller batches (the per-iteration cost is linear in the batch)
LOQA_PRESETS["coin_cpu"] = {**LOQA_PRESETS["coin_iclr"], "num_envs": 128, "iterations": 6000}
# The reference Q-critic needs thousands of iterations (an EMA rate of 0.01 at gamma 0.96 moves
# the bootstrapped target on a scale of 2500 iterations, and a Huber loss moves values of about
# -30 at about lr per step); until it fits, the TD(0) advantages are biased negative and the
# opponent term pushes towards defection. The CPU preset fits the critic first and keeps it
# fitted: squared error (huber_delta 100), 5 critic steps per iteration at lr 0.03, EMA rate
# 0.1, a terminal episode end (matching the truncated Monte Carlo returns of the opponent
# model) and 100 critic-only iterations; actor lr 3e-3, 256 games. Tit-for-tat in 10 of 10
# seeds at about 50 s per seed (docs/results.md).
LOQA_PRESETS["ipd_cpu"] = {
    **LOQA_PRESETS["ipd_logits"], "num_envs": 256, "iterations": 1000, "lr": 3e-3,
    "critic_lr": 0.03, "huber_delta": 100.0, "critic_updates": 5, "target_tau": 0.1,
    "bootstrap_end": False, "actor_warmup": 100,
}

# The AA paper's Coin Game AA ("AA-NB" in MiladInk/loqa's league checkpoints, ALGORITHMS.md 2.5):
# LOQA's estimator with a stop-gradient normaliser and the checkpoints' stored hp (actor: one
# dense layer of 64 then GRU 64; actor lr 1e-3, critic lr 1e-2, entropy 0.1, gradient clip 10,
# batch 512, agent buffer 10000 pushed every 10). The Q-critic is not in the stored hp; it is
# coin_iclr's.
LOQA_PRESETS["aa_nb_coin"] = {
    **LOQA_PRESETS["coin_iclr"], "stop_grad_normalizer": True, "hidden_sizes": (64,),
    "gru_size": 64, "max_grad_norm": 10.0,
}
# batch 128 (a quarter of the paper's samples per iteration): 8000 iterations instead of 6000
LOQA_PRESETS["aa_nb_coin_cpu"] = {**LOQA_PRESETS["aa_nb_coin"], "num_envs": 128, "iterations": 8000}
# The naive contrast of the Coin Game runs: coin_cpu without the opponent term (w = 0), i.e. an
# actor-critic on TD(0) advantages of the same Q-critic, same networks, buffer and budget.
LOQA_PRESETS["naive_coin_cpu"] = {**LOQA_PRESETS["coin_cpu"], "opponent_weight": 0.0}


LOQAConfig.presets = LOQA_PRESETS


def loqa_preset(name: str, **overrides: Any) -> LOQAConfig:
    """Return the :class:`LOQAConfig` of preset ``name`` (:data:`LOQA_PRESETS`) with overrides."""
    try:
        values = LOQA_PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown LOQA preset {name!r}; known: {sorted(LOQA_PRESETS)}") from None
    return LOQAConfig(**{**values, **overrides})


# ---- networks ---------------------------------------------------------------------------------
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


# ---- policies used in training rollouts -------------------------------------------------------
class EpsilonGreedyPolicy(Policy):
    """With probability ``epsilon`` per game and step, a uniform random action instead.

    The reference IPD rollouts (``play_episode_scan``, ``epsilon_greedy = 0.2``) explore this
    way; the learner then re-evaluates ``log pi`` of whatever action was played.

    Args:
        policy: the wrapped policy.
        epsilon: replacement probability.
        num_actions: ``n`` of the ``Discrete`` space.

    """

    def __init__(self, policy: Policy, epsilon: float, num_actions: int) -> None:
        self.policy = policy
        self.epsilon = float(epsilon)
        self.num_actions = int(num_actions)
        self.name = f"{policy.name}+eps{epsilon:g}"
        self._rng = np.random.default_rng()

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Reset the wrapped policy and the exploration stream."""
        sub_seed = None if seed is None else derive_seed(seed, 1)
        self.policy.reset(num_envs, seed=sub_seed)
        self._rng = np.random.default_rng(seed)

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Actions of the wrapped policy, some replaced by random ones."""
        return self.act_with_log_probs(observations, episode_starts)[0]

    def act_with_log_probs(
        self, observations: np.ndarray, episode_starts: np.ndarray
    ) -> tuple[np.ndarray, Any]:
        """Actions; log-probabilities are those of the wrapped policy (not of the mixture)."""
        actions, log_probs = self.policy.act_with_log_probs(observations, episode_starts)
        actions = np.asarray(actions).copy()
        if self.epsilon > 0:
            explore = self._rng.random(actions.shape[0]) < self.epsilon
            actions[explore] = self._rng.integers(0, self.num_actions, int(explore.sum()))
        return actions, log_probs


# ---- the learner ------------------------------------------------------------------------------
@dataclass
class _Segment:
    """Games of one batch in which ``agent`` played ``seat`` against ``opponent``'s network."""

    agent: int
    seat: int
    games: torch.Tensor
    opponent: LOQANetwork


@dataclass
class _Columns:
    """One agent's training columns (segments side by side), from :meth:`LOQALearner.columns`.

    ``own`` / ``opp``: ``obs`` ``(T, N, ...)``, ``ext`` ``(T + 1, N, ...)`` (with the observation
    after the last step), ``actions`` and ``rewards`` ``(T, N)`` of the agent's seat and of the
    other seat. ``widths[i]`` columns in a row belong to segment ``i``, whose opponent network is
    ``opponents[i]``.
    """

    own: dict[str, torch.Tensor]
    opp: dict[str, torch.Tensor]
    dones: torch.Tensor
    ext_starts: torch.Tensor
    ext_times: torch.Tensor
    widths: list[int]
    opponents: list[LOQANetwork]


def _times(starts: torch.Tensor) -> torch.Tensor:
    """Steps since the episode start, ``(T, B)`` int64."""
    times = torch.zeros(starts.shape, dtype=torch.int64)
    for t in range(1, starts.shape[0]):
        times[t] = torch.where(starts[t], 0, times[t - 1] + 1)
    return times


class LOQALearner(Learner):
    """LOQA (Aghajohari et al., ICLR 2024) on the shared learner infrastructure.

    Per iteration: push a snapshot to the agent buffer (every ``buffer_push_every``), play one
    episode in every game, then for each trained agent one Q-critic step (Huber on EMA targets)
    and one actor step (:func:`loqa_actor_loss` with the loaded-DiCE opponent model), and the
    EMA update of its target network. See the module docstring for the self-play routing.

    Args:
        config: a :class:`LOQAConfig`.
        opponent: not supported (LOQA needs the opponent's Q-network); must be None.

    """

    config_class: ClassVar[type[LearnerConfig]] = LOQAConfig
    #: LOQA's opponent model is a softmax over Q-values of discrete actions
    discrete_actions_only: ClassVar[bool] = True

    def __init__(self, config: LOQAConfig, opponent: Policy | None = None) -> None:
        if opponent is not None:
            raise ValueError(
                "LOQA reads the opponent's Q-network, so it cannot train against a fixed "
                "opponent policy; train in self-play or with two LOQA learners"
            )
        self.buffer = AgentReplayBuffer(config.buffer_capacity, config.buffer_push_every)
        super().__init__(config, None)
        check_action_space(self.action_space)
        # scratch networks that hold the snapshots of one batch (reloaded every iteration)
        self._snapshot_pool: list[LOQANetwork] = []
        self._routing: tuple[np.ndarray, list[LOQANetwork]] | None = None

    @property
    def uses_buffer(self) -> bool:
        """Whether seat 1 plays past snapshots (self-play with the agent buffer on)."""
        c = self.config
        return bool(c.self_play and c.agent_buffer and c.cur_agent_frac < 1.0)

    # ---- construction -------------------------------------------------------------------------
    def make_network(self) -> LOQANetwork:  # type: ignore[override]
        """A fresh :class:`LOQANetwork` for this env."""
        return self.build_policy_network(
            self.config, self.observation_space, self.action_space, self.env.max_cycles
        )

    @classmethod
    def build_policy_network(
        cls,
        config: LearnerConfig,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        max_cycles: int | None = None,
    ) -> LOQANetwork:
        """The network a LOQA checkpoint's weights fit (used by ``load_policy``)."""
        assert isinstance(config, LOQAConfig)
        if max_cycles is None:
            max_cycles = int(config.env_kwargs.get("max_cycles", 0)) or _default_max_cycles(
                config
            )
        return LOQANetwork(observation_space, action_space, config, max_cycles)

    def make_agent(self, seats: tuple[int, ...]) -> Agent:
        """Network, actor Adam (``optimizer``), critic Adam, EMA target and policy."""
        from agents.nn import NetworkPolicy

        network = self.make_network()
        name = "loqa" if len(seats) == 2 else f"loqa_{seats[0]}"
        agent = Agent(
            network=network,  # type: ignore[arg-type]
            optimizer=torch.optim.Adam(network.actor_parameters(), lr=self.config.lr),
            target=copy.deepcopy(network).requires_grad_(False),  # type: ignore[arg-type]
            seats=seats,
            policy=NetworkPolicy(network, name=name),  # type: ignore[arg-type]
        )
        agent.critic_optimizer = torch.optim.Adam(  # type: ignore[attr-defined]
            network.critic_parameters(), lr=self.config.critic_lr
        )
        return agent

    def optimizers(self) -> list[torch.optim.Optimizer]:
        """The actor and the critic optimizer of every agent."""
        return [
            optimizer
            for agent in self.agents
            for optimizer in (agent.optimizer, agent.critic_optimizer)  # type: ignore[attr-defined]
        ]

    # ---- rollouts -----------------------------------------------------------------------------
    def _explore(self, policy: Policy) -> Policy:
        eps = self.config.epsilon_greedy
        return EpsilonGreedyPolicy(policy, eps, int(self.action_space.n)) if eps > 0 else policy

    def _plan_routing(self) -> tuple[np.ndarray, list[LOQANetwork]]:
        """Seat 1's network per game: group 0 the current agent, groups 1.. snapshots."""
        c = self.config
        current = self.agents[0].network
        if not self.uses_buffer:
            return np.zeros(c.num_envs, dtype=np.int64), [current]  # type: ignore[list-item]
        n_current = int(round(c.cur_agent_frac * c.num_envs))
        n_snapshot_groups = min(c.snapshots_per_batch, c.num_envs - n_current)
        generator = torch.Generator().manual_seed(derive_seed(c.seed, self.iteration, 2))
        indices = self.buffer.sample_indices(n_snapshot_groups, generator).tolist()
        while len(self._snapshot_pool) < n_snapshot_groups:
            self._snapshot_pool.append(self.make_network().requires_grad_(False))
        networks: list[LOQANetwork] = [current]  # type: ignore[list-item]
        for pool_net, index in zip(self._snapshot_pool, indices, strict=False):
            pool_net.load_state_dict(self.buffer.get(index))
            networks.append(pool_net)
        groups = np.zeros(c.num_envs, dtype=np.int64)
        # snapshot games split evenly between the drawn snapshots (games are i.i.d.)
        groups[n_current:] = 1 + np.arange(c.num_envs - n_current) % n_snapshot_groups
        return groups, networks

    def policies(self) -> list[Policy]:
        """The trained agent(s) in their seats (self-play: the current agent in both).

        These play any number of games; training rollouts use :meth:`training_policies`, which
        add the exploration and route seat 1 to past snapshots.
        """
        if not self.config.self_play:
            return [a.policy for a in self.agents]
        return [self.agents[0].policy, self.agents[0].policy]

    def training_policies(self) -> list[Policy]:
        """Seat 0: the current agent; seat 1: the routed opponents (self-play) or agent 1."""
        if not self.config.self_play:
            return [self._explore(a.policy) for a in self.agents]
        agent = self.agents[0]
        groups, networks = self._routing if self._routing is not None else self._plan_routing()
        if len(networks) == 1:  # every game against the current agent: one fused call
            explored = self._explore(agent.policy)
            return [explored, explored]
        from agents.nn import NetworkPolicy

        subs = [
            NetworkPolicy(net, name=f"snapshot_{i}")  # type: ignore[arg-type]
            for i, net in enumerate(networks)
        ]
        return [self._explore(agent.policy), self._explore(RoutingPolicy(subs, groups))]

    def collect(self) -> Trajectory:
        """Push a snapshot if due, route seat 1, and play one episode in every game."""
        if self.uses_buffer:
            self.buffer.maybe_push(self.agents[0].network, self.iteration)
        if self.config.self_play:
            self._routing = self._plan_routing()
        seed = derive_seed(self.config.seed, self.iteration, 0)
        return rollout(self.env, self.training_policies(), seed=seed)

    def train_iteration(self) -> dict[str, float]:
        """One LOQA iteration; returns metrics (plus ``buffer_size`` in buffered self-play)."""
        metrics = super().train_iteration()
        if self.uses_buffer:
            metrics["buffer_size"] = float(len(self.buffer))
        return metrics

    # ---- the update ---------------------------------------------------------------------------
    def segments(self) -> list[_Segment]:
        """Which seat of which games each agent trains on, and whose Q models the opponent."""
        c = self.config
        if not c.self_play:
            first, second = self.agents
            games = torch.arange(c.num_envs)
            return [
                _Segment(0, first.seats[0], games, second.network),  # type: ignore[arg-type]
                _Segment(1, second.seats[0], games, first.network),  # type: ignore[arg-type]
            ]
        groups, networks = self._routing if self._routing is not None else self._plan_routing()
        out = []
        for index, network in enumerate(networks):
            games = torch.from_numpy(np.flatnonzero(groups == index))
            if len(games):
                out.append(_Segment(0, 0, games, network))
        current = torch.from_numpy(np.flatnonzero(groups == 0))
        if len(current):
            # seat 1 of the games against the current agent is the current agent's own play
            out.append(_Segment(0, 1, current, networks[0]))
        return out

    def update(self, trajectory: Trajectory) -> dict[str, float]:
        """One actor step, then the Q-critic step(s) and EMA updates, per trained agent."""
        stats: dict[str, list[float]] = defaultdict(list)
        by_agent: dict[int, list[_Segment]] = defaultdict(list)
        for segment in self.segments():
            by_agent[segment.agent].append(segment)
        for index, segs in by_agent.items():
            agent = self.agents[index]
            for name, value in self.update_agent_loqa(agent, segs, trajectory).items():
                stats[name].append(value)
        return {name: float(np.mean(values)) for name, values in stats.items()}

    def columns(self, segments: list[_Segment], trajectory: Trajectory) -> _Columns:
        """One agent's training data: its ``segments`` side by side, own and opponent side."""
        rewards = self.training_rewards(trajectory)

        def side(own: bool) -> dict[str, torch.Tensor]:
            parts: dict[str, list[torch.Tensor]] = defaultdict(list)
            for s in segments:
                seat, g = (s.seat if own else 1 - s.seat), s.games
                parts["obs"].append(trajectory.observations[:, g, seat])
                parts["last"].append(trajectory.next_observations[g, seat].unsqueeze(0))
                parts["actions"].append(trajectory.actions[:, g, seat])
                parts["rewards"].append(rewards[:, g, seat])
            out = {k: torch.cat(v, dim=1) for k, v in parts.items()}
            out["ext"] = torch.cat([out["obs"], out.pop("last")])
            return out

        games = torch.cat([s.games for s in segments])
        starts = trajectory.episode_starts[:, games]
        # the observation after the last step continues its episode (row T of the values)
        ext_starts = torch.cat([starts, torch.zeros_like(starts[:1])])
        return _Columns(
            own=side(True), opp=side(False), dones=trajectory.dones[:, games],
            ext_starts=ext_starts, ext_times=_times(ext_starts),
            widths=[len(s.games) for s in segments],
            opponents=[s.opponent for s in segments],
        )

    def actor_loss(self, network: LOQANetwork, cols: _Columns) -> tuple[Any, torch.Tensor]:
        """LOQA's actor loss on ``cols`` (with gradient into ``network``'s actor) and ``A1``.

        ``A1`` is TD(0) on ``V1 = sum_a pi1 Q1`` (the agent's online critic); the opponent model
        reads each segment's opponent network (:meth:`_opponent_estimates`).
        """
        c = self.config
        own, opp = cols.own, cols.opp
        log_pi_ext = network.log_policy(own["ext"], cols.ext_starts)
        log_pi = log_pi_ext[:-1]
        agent_log_probs = log_pi.gather(-1, own["actions"].unsqueeze(-1)).squeeze(-1)
        entropy = -(log_pi.exp() * log_pi).sum(-1)
        with torch.no_grad():
            own_q_ext = network.q_values(own["ext"], cols.ext_starts, cols.ext_times)
            values = (log_pi_ext.exp() * own_q_ext).sum(-1)
            advantages = td0_advantages(
                own["rewards"], values, c.gamma, cols.dones, bootstrap_at_done=c.bootstrap_end
            )
            op_q, op_values = self._opponent_estimates(cols)
        op_log_probs = loqa_opponent_log_probs(
            agent_log_probs, opp["rewards"], op_values, op_q, opp["actions"], c.gamma,
            c.lambda_d, c.softmax_temp, cols.dones, stop_grad_normalizer=c.stop_grad_normalizer,
        )
        losses = loqa_actor_loss(
            agent_log_probs, op_log_probs, advantages, entropy, c.opponent_weight, c.ent_coef
        )
        return losses, advantages

    def critic_loss(
        self, network: LOQANetwork, target: LOQANetwork, cols: _Columns
    ) -> torch.Tensor:
        """Huber(Q(h_t, a_t) - [r_t + gamma Qbar(h_{t+1}, .)]) with the EMA target network."""
        c = self.config
        own = cols.own
        with torch.no_grad():
            target_q = target.q_values(own["ext"], cols.ext_starts, cols.ext_times)
            target_probs = target.log_policy(own["ext"], cols.ext_starts).exp()
            targets = q_critic_targets(
                own["rewards"], own["actions"], target_q, c.gamma, cols.dones, target_probs,
                mode=c.critic_mode,  # type: ignore[arg-type]
                bootstrap_at_done=c.bootstrap_end,
            )
        q = network.q_values(own["obs"], cols.ext_starts[:-1], cols.ext_times[:-1])
        return q_critic_loss(q, own["actions"], targets, c.huber_delta)

    def update_agent_loqa(
        self, agent: Agent, segments: list[_Segment], trajectory: Trajectory
    ) -> dict[str, float]:
        """One actor step, then one Q-critic step (the reference's order), for one agent."""
        c = self.config
        network: LOQANetwork = agent.network  # type: ignore[assignment]
        cols = self.columns(segments, trajectory)

        losses, advantages = self.actor_loss(network, cols)
        agent.optimizer.zero_grad(set_to_none=True)
        losses.loss.backward()
        grad_norm = _grad_norm(network.actor_parameters())
        if c.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(network.actor_parameters(), c.max_grad_norm)
        if self.iteration >= c.actor_warmup:
            agent.optimizer.step()

        critic_optimizer: torch.optim.Optimizer = agent.critic_optimizer  # type: ignore[attr-defined]
        for _ in range(c.critic_updates):
            critic_loss = self.critic_loss(network, agent.target, cols)  # type: ignore[arg-type]
            critic_optimizer.zero_grad(set_to_none=True)
            critic_loss.backward()
            critic_optimizer.step()
            polyak_update(agent.target, network, c.target_tau)  # type: ignore[arg-type]
        return {
            "policy_loss": float(losses.agent.detach()),
            "opponent_loss": float(losses.opponent.detach()),
            "entropy": float(losses.entropy.detach()),
            "value_loss": float(critic_loss.detach()),
            "actor_grad_norm": grad_norm,
            "advantage_std": float(advantages.std()),
        }

    def _opponent_estimates(self, cols: _Columns) -> tuple[torch.Tensor, torch.Tensor]:
        """The opponent's ``Q2`` ``(T, N, A)`` and ``V2 = sum_b pi2 Q2`` ``(T, N)``.

        Each segment's columns are read from that segment's opponent network (its own online
        actor and Q-critic: the current agent or a past snapshot).
        """
        qs, vs = [], []
        start = 0
        opp_ext, ext_starts, ext_times = cols.opp["ext"], cols.ext_starts, cols.ext_times
        for width, opponent in zip(cols.widths, cols.opponents, strict=True):
            part = slice(start, start + width)
            start += width
            q2 = opponent.q_values(opp_ext[:, part], ext_starts[:, part], ext_times[:, part])
            pi2 = opponent.log_policy(opp_ext[:, part], ext_starts[:, part]).exp()
            qs.append(q2[:-1])
            vs.append((pi2 * q2).sum(-1)[:-1])
        return torch.cat(qs, dim=1), torch.cat(vs, dim=1)

    # ---- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Iteration, networks, both optimizers, EMA targets and the agent buffer."""
        state = super().state_dict()
        for saved, agent in zip(state["agents"], self.agents, strict=True):
            saved["critic_optimizer"] = agent.critic_optimizer.state_dict()  # type: ignore[attr-defined]
        state["buffer"] = self.buffer.state_dict() if self.uses_buffer else None
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        super().load_state_dict(state)
        for saved, agent in zip(state["agents"], self.agents, strict=True):
            agent.critic_optimizer.load_state_dict(saved["critic_optimizer"])  # type: ignore[attr-defined]
        if state.get("buffer") is not None:
            self.buffer.load_state_dict(state["buffer"])


def _grad_norm(parameters: list[nn.Parameter]) -> float:
    norms = [p.grad.detach().norm() for p in parameters if p.grad is not None]
    return float(torch.stack(norms).norm()) if norms else 0.0


def _default_max_cycles(config: LearnerConfig) -> int:
    import socialdilemmas

    return int(socialdilemmas.make_vec(config.env_id, 1, **config.env_kwargs).max_cycles)

