"""Advantage Alignment (AA) and Proximal Advantage Alignment (PAA).

Duque et al., "Advantage Alignment Algorithms", ICLR 2025; reference code
``jduquevan/advantage-alignment`` (branch ``eg`` for the 2-player Negotiation runs, ``master``
for the Melting Pot PAA), as digested in ``shared/spec/ALGORITHMS.md`` sections 2.5, 2.6, 5, 6.

Each agent follows the policy gradient ``E[sum_t A*_t grad log pi1(a_t | h_t)]`` with the
*aligned advantage* (the paper's formula, the default)::

    A*_t = A1_t + beta * gamma * (sum_{k<t} gamma^(t-k) A1_k) * A2_t

or the reference code's running mean (``aa_running_mean``)::

    A*_t = A1_t + beta * ((sum_{k<t} A1_k) / t) * A2_t

``A1`` is the agent's GAE(gamma, lambda) advantage of its own rewards, ``A2`` the opponent's,
from the opponent's rewards and the opponent's critic (in self-play the shared critic; against a
past self from the replay buffer, that snapshot's critic; against a fixed opponent, which has no
critic, the agent's own critic on the opponent's view, i.e. the self-play assumption). Both use
the Polyak target critics (``target_tau``, 0.005 in the reference) as ``compute_gae_advantages``
does. The estimator itself is :func:`agents.shaping.aligned_advantages`; the learner only routes
both seats' estimates into it (:meth:`AdvantageAlignmentLearner.shape_advantages`).

The proximal variant (PAA, registered as ``paa``) replaces the plain policy gradient by PPO's
clipped surrogate with ``A*`` in place of ``A`` (:func:`agents.shaping.ppo_clipped_loss`),
over ``update_epochs`` x ``num_minibatches``.

The agent replay buffer (``replay_fraction > 0``, self-play only): every iteration a fraction of
the games has seat 1 played by uniformly sampled past snapshots of the agent
(:class:`agents.shaping.AgentReplayBuffer`, one snapshot pushed every ``replay_push_every``
iterations). Seat 1 is then a :class:`~agents.policy.RoutingPolicy` that sends those games to
the snapshots and the rest to the current network. The learner trains on the sequences its
current network played only (seat 0 of every game, seat 1 of the non-replay games); ``A2`` of
seat 0 in a replay game comes from the snapshot's critic and seat 1's rewards.

The trajectory replay buffer (``trajectory_replay_fraction > 0``, the reference's
``off_policy_ratio``; :class:`agents.replay.TrajectoryReplayBuffer`): each update batch has that
share of its games replaced by past games drawn from a FIFO store, which then receives
``trajectory_replay_push`` fresh games. Past games are re-valued by the current critics and keep
the log-probabilities they were played with, so PAA's ratio clips their influence. The two
buffers are exclusive (one would have to track the other's games).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from agents.algorithms.base import (
    Agent,
    AgentBatch,
    Estimates,
    Learner,
    LearnerConfig,
    derive_seed,
)
from agents.nn import ActorCritic, NetworkPolicy
from agents.policy import Policy, RoutingPolicy
from agents.replay import TrajectoryReplayBuffer
from agents.returns import gae
from agents.rollout import Trajectory, concat_games, rollout
from agents.shaping import (
    AgentReplayBuffer,
    aligned_advantages,
    discounted_returns,
    ppo_clipped_loss,
)

#: critic regression targets (the ``critic_target`` field)
CRITIC_TARGETS = ("gae", "td0", "mc", "interpolate")


@dataclass
class AdvantageAlignmentConfig(LearnerConfig):
    """Advantage Alignment settings (defaults: the reference's, sized for a CPU).

    The reference Negotiation config (``eg:configs/eg.yaml``) is the preset ``aa_negotiation_paper``
    in :mod:`agents.algorithms.presets`.
    """

    aa_beta: float = 0.3
    """alignment weight beta of A* (aa_weight in the reference; 0: the naive learner)"""
    aa_beta_end: float | None = None
    """move beta linearly from ``aa_beta`` at the first iteration to this value at the last
    (None: a constant beta, as the papers); the schedule follows ``iterations``. Not in the
    references: a large beta leaves mutual defection early, a small one cooperates more fully
    once out (docs/results.md)"""
    aa_running_mean: bool = False
    """use the reference code's running mean of past advantages instead of the paper's
    gamma-discounted sum (and no beta*gamma prefactor)"""
    aa_normalize_first: bool = False
    """standardise A1 and A2 over the batch before forming A* (the Melting Pot PAA code)"""
    proximal: bool = False
    """PAA: PPO's clipped surrogate with A* (otherwise the plain policy gradient with A*)"""
    clip_coef: float = 0.2
    """PAA clipping range epsilon of the probability ratio"""
    update_epochs: int = 1
    """passes over each batch (1 for AA; the proximal reference configs use 2)"""
    num_minibatches: int = 1
    """minibatches (of whole episodes) per pass"""
    critic_target: str = "interpolate"
    """critic regression target: gae (lambda-returns), td0, mc or interpolate (mean of the TD(0)
    and Monte-Carlo targets, the reference's default)"""
    critic_loss: str = "huber"
    """critic regression loss: mse or huber (the reference uses Huber)"""
    target_tau: float = 0.005
    """Polyak rate of the target critic used for advantages (the reference's 0.005)"""
    log_prob_min: float = 0.0
    """clamp log-probabilities from below at this value in the actor loss, as the reference does
    with -10 for continuous actions (0: no clamp)"""
    critic_lr: float = 0.0
    """Adam learning rate of the critic's own parameters (value head, critic encoder); 0: lr.
    LOQA's reference uses 10x the actor's rate"""
    critic_warmup: int = 0
    """iterations at the start in which only the critic learns (the actor loss is zeroed), so
    that A1 and A2 come from a fitted critic (0: none; not in the reference)"""
    replay_fraction: float = 0.0
    """share of the games in which seat 1 is a past snapshot of the agent (self-play only)"""
    replay_capacity: int = 10000
    """snapshots the agent replay buffer keeps (oldest dropped)"""
    replay_push_every: int = 10
    """push a snapshot of the agent every this many iterations"""
    replay_snapshots: int = 4
    """distinct past snapshots sampled per iteration; the replay games are split among them"""
    trajectory_replay_fraction: float = 0.0
    """share of each update batch's games replaced by past games from a trajectory replay buffer
    (the reference's off_policy_ratio, 0.05 in its continuous Negotiation config; 0: off)"""
    trajectory_replay_capacity: int = 10000
    """games the trajectory replay buffer keeps (oldest dropped; the reference: 100000)"""
    trajectory_replay_push: int = 64
    """fresh games added to the trajectory replay buffer after each update (the reference: 500)"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.critic_target not in CRITIC_TARGETS:
            raise ValueError(
                f"critic_target must be one of {list(CRITIC_TARGETS)}, got {self.critic_target!r}"
            )
        if self.clip_coef <= 0:
            raise ValueError(f"clip_coef must be positive, got {self.clip_coef}")
        for name in ("update_epochs", "num_minibatches", "replay_capacity",
                     "replay_push_every", "replay_snapshots"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.num_minibatches > self.num_envs:
            raise ValueError(
                f"num_minibatches ({self.num_minibatches}) cannot exceed num_envs ({self.num_envs})"
            )
        if not 0.0 <= self.replay_fraction < 1.0:
            raise ValueError(f"replay_fraction must be in [0, 1), got {self.replay_fraction}")
        if self.replay_fraction > 0 and not self.self_play:
            raise ValueError("replay_fraction > 0 needs self_play (past copies of one agent)")
        if not 0.0 <= self.trajectory_replay_fraction < 1.0:
            raise ValueError(
                "trajectory_replay_fraction must be in [0, 1), got "
                f"{self.trajectory_replay_fraction}"
            )
        if self.trajectory_replay_fraction > 0:
            if self.replay_fraction > 0:
                raise ValueError(
                    "use either the agent replay buffer (replay_fraction) or the trajectory "
                    "replay buffer (trajectory_replay_fraction), not both"
                )
            if self.trajectory_replay_capacity < 1:
                raise ValueError(
                    "trajectory_replay_capacity must be at least 1, got "
                    f"{self.trajectory_replay_capacity}"
                )
            if not 1 <= self.trajectory_replay_push <= self.num_envs:
                raise ValueError(
                    f"trajectory_replay_push must be in [1, num_envs={self.num_envs}], got "
                    f"{self.trajectory_replay_push}"
                )
        if self.critic_lr < 0 or self.critic_warmup < 0:
            raise ValueError("critic_lr and critic_warmup must be >= 0")
        if self.bootstrap_truncation and self.critic_target != "gae":
            raise ValueError(
                "bootstrap_truncation needs critic_target='gae' (the td0, mc and interpolate "
                "targets end each episode without a bootstrap)"
            )
        if self.log_prob_min > 0:
            raise ValueError(f"log_prob_min must be <= 0 (0 disables), got {self.log_prob_min}")
        for name in ("aa_beta", "aa_beta_end"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")


@dataclass
class ProximalAdvantageAlignmentConfig(AdvantageAlignmentConfig):
    """Proximal Advantage Alignment: the AA settings with the PPO-clipped objective on."""

    proximal: bool = True
    """PAA: PPO's clipped surrogate with A* (otherwise the plain policy gradient with A*)"""
    update_epochs: int = 2
    """passes over each batch (2 as the proximal reference configs)"""
    num_minibatches: int = 4
    """minibatches (of whole episodes) per pass"""


def seat_estimates(
    critic: ActorCritic,
    observations: torch.Tensor,
    starts: torch.Tensor,
    rewards: torch.Tensor,
    dones: torch.Tensor,
    gamma: float,
    gae_lambda: float,
    last_observations: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Values and GAE advantages ``(T, N)`` of one seat's sequences under ``critic``.

    Without ``last_observations`` episodes end at ``dones`` with no bootstrap (the learners'
    default ``bootstrap_truncation=False``); with them (``(N, *obs_shape)``, the observation
    after the last step) the truncated end is bootstrapped with their value, as
    :meth:`Learner.estimate` does under ``bootstrap_truncation``.
    """
    if last_observations is None:
        values = critic.values(observations, starts)
        next_values = torch.cat([values[1:], torch.zeros_like(values[:1])])
        return values, gae(rewards, values, next_values, dones, gamma, gae_lambda)
    extended = torch.cat([observations, last_observations.unsqueeze(0)])
    extended_starts = torch.cat([starts, torch.zeros_like(starts[:1])])
    all_values = critic.values(extended, extended_starts)
    values, next_values = all_values[:-1], all_values[1:]
    advantages = gae(
        rewards, values, next_values, dones, gamma, gae_lambda, terminals=torch.zeros_like(dones)
    )
    return values, advantages


def critic_targets(
    kind: str,
    rewards: torch.Tensor,
    values: torch.Tensor,
    advantages: torch.Tensor,
    dones: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """Regression targets ``(T, N)`` of the critic: ``gae``, ``td0``, ``mc`` or ``interpolate``.

    ``interpolate`` is the mean of the TD(0) target ``r_t + gamma V(s_{t+1})`` and the Monte
    Carlo return, as the reference's ``critic_loss_mode: interpolate``; ``values`` come from the
    target critic.
    """
    if kind == "gae":
        return advantages + values
    not_done = (~dones).to(values.dtype)
    next_values = torch.cat([values[1:], torch.zeros_like(values[:1])])
    td0 = rewards + gamma * not_done * next_values
    if kind == "td0":
        return td0
    mc = discounted_returns(rewards, gamma, dones)
    if kind == "mc":
        return mc
    return 0.5 * (td0 + mc)


class AdvantageAlignmentLearner(Learner):
    """Advantage Alignment (and, with ``proximal``, PAA) on the shared learner machinery.

    Self-play (one network in both seats), two independent learners, or one learner against a
    fixed opponent. See the module docstring for the estimator and the replay buffer.
    """

    config_class = AdvantageAlignmentConfig
    config: AdvantageAlignmentConfig

    def __init__(self, config: AdvantageAlignmentConfig, opponent: Policy | None = None) -> None:
        super().__init__(config, opponent)
        self.update_epochs = config.update_epochs
        self.num_minibatches = config.num_minibatches
        self.replay: AgentReplayBuffer | None = None
        self._replay_routes: list[tuple[ActorCritic, np.ndarray]] = []
        if config.replay_fraction > 0:
            self.replay = AgentReplayBuffer(config.replay_capacity, config.replay_push_every)
            self._snapshot_networks = [
                self.make_network().requires_grad_(False) for _ in range(config.replay_snapshots)
            ]
        self.trajectory_replay: TrajectoryReplayBuffer | None = None
        #: games of the batch being updated that came from the trajectory replay buffer
        self._replayed_games: torch.Tensor | None = None
        if config.trajectory_replay_fraction > 0:
            self.trajectory_replay = TrajectoryReplayBuffer(config.trajectory_replay_capacity)

    def make_agent(self, seats: tuple[int, ...]) -> Agent:
        """As :meth:`Learner.make_agent`, with the critic's own parameters at ``critic_lr``."""
        agent = super().make_agent(seats)
        if self.config.critic_lr > 0:
            network = agent.network
            critic = list(network.value_head.parameters())
            if network.critic_encoder is not None:
                critic += list(network.critic_encoder.parameters())
            ids = {id(p) for p in critic}
            actor = [p for p in network.parameters() if id(p) not in ids]
            agent.optimizer = torch.optim.Adam(
                [{"params": actor}, {"params": critic, "lr": self.config.critic_lr}],
                lr=self.config.lr,
            )
        return agent

    # ---- replay buffer ------------------------------------------------------------------------
    def replay_games(self) -> np.ndarray:
        """Indices of the games whose seat 1 is a past snapshot (the last ones of the batch)."""
        c = self.config
        # at least one game stays with the current network (its seat-1 data is trained on)
        count = min(int(round(c.replay_fraction * c.num_envs)), c.num_envs - 1)
        return np.arange(c.num_envs - count, c.num_envs, dtype=np.int64)

    def collect(self) -> Trajectory:
        """Play one episode per game; with replay, seat 1 of some games is a past self."""
        if self.replay is None or len(self.replay_games()) == 0:
            self._replay_routes = []
            return super().collect()
        agent = self.agents[0]
        self.replay.maybe_push(agent.network, self.iteration)
        replay_games = self.replay_games()
        generator = torch.Generator().manual_seed(derive_seed(self.config.seed, self.iteration, 2))
        groups = np.array_split(replay_games, min(len(self._snapshot_networks), len(replay_games)))
        picks = self.replay.sample_indices(len(groups), generator).tolist()
        self._replay_routes = []
        routes: list[tuple[Policy, np.ndarray]] = [
            # a separate policy object over the current network: its memory covers seat 1 only
            (NetworkPolicy(agent.network, name="current"), np.arange(replay_games[0]))
        ]
        for network, pick, games in zip(self._snapshot_networks, picks, groups, strict=False):
            network.load_state_dict(self.replay.get(pick))
            self._replay_routes.append((network, games))
            routes.append((NetworkPolicy(network, name=f"past_{pick}"), games))
        seat_1 = RoutingPolicy.from_routes(routes, name="current+past")
        seed = derive_seed(self.config.seed, self.iteration, 0)
        return rollout(self.env, [agent.policy, seat_1], seed=seed)

    def replayed_game_count(self) -> int:
        """Games of each update batch drawn from the trajectory replay buffer (once it has them)."""
        c = self.config
        return min(int(round(c.trajectory_replay_fraction * c.num_envs)), c.num_envs - 1)

    def update(self, trajectory: Trajectory) -> dict[str, float]:
        """One learning step; its metrics include ``aa_beta`` when beta follows a schedule."""
        metrics = self._update_with_replay(trajectory)
        if self.config.aa_beta_end is not None:
            metrics["aa_beta"] = self.current_beta()
        return metrics

    def _update_with_replay(self, trajectory: Trajectory) -> dict[str, float]:
        """The learning step; with trajectory replay, on a batch with some past games mixed in.

        The last :meth:`replayed_game_count` games of the update batch are drawn from the
        buffer, the others are a random subset of the fresh games (the reference draws those
        with replacement); afterwards ``trajectory_replay_push`` random fresh games go into the
        buffer. Metrics of the iteration still describe the fresh games.
        """
        buffer = self.trajectory_replay
        if buffer is None:
            return super().update(trajectory)
        c = self.config
        generator = torch.Generator().manual_seed(derive_seed(c.seed, self.iteration, 3))
        count = self.replayed_game_count()
        batch = trajectory
        if count and len(buffer) >= count:
            fresh = torch.randperm(c.num_envs, generator=generator)[: c.num_envs - count]
            batch = concat_games([trajectory.games(fresh.sort().values),
                                  buffer.sample(count, generator)])
            self._replayed_games = torch.arange(c.num_envs - count, c.num_envs)
        try:
            metrics = super().update(batch)
        finally:
            self._replayed_games = None
        pushed = torch.randperm(c.num_envs, generator=generator)[: c.trajectory_replay_push]
        buffer.push(trajectory.games(pushed.sort().values))
        metrics["replayed_games"] = float(batch is not trajectory) * count
        return metrics

    # ---- estimates ----------------------------------------------------------------------------
    @torch.no_grad()
    def estimate(self, trajectory: Trajectory) -> Estimates:
        """Both seats' estimates, with seat 1 from whoever played it; critic targets per config.

        Replay games take seat 1's values and advantages from the snapshot that played them
        (its log-probabilities are NaN: not this network's data). Against a fixed opponent the
        opponent's seat gets values and advantages from this agent's target critic.
        """
        c = self.config
        estimates = super().estimate(trajectory)
        rewards = estimates.rewards
        if self.opponent is not None:
            agent = self.agents[0]
            critic = agent.target if agent.target is not None else agent.network
            values, advantages = seat_estimates(
                critic, trajectory.observations[:, :, 1], trajectory.episode_starts,
                rewards[..., 1], trajectory.dones, c.gamma, c.gae_lambda,
                trajectory.next_observations[:, 1] if c.bootstrap_truncation else None,
            )
            estimates.values[..., 1] = values
            estimates.advantages[..., 1] = advantages
            estimates.returns[..., 1] = advantages + values
        for network, games in self._replay_routes:
            index = torch.as_tensor(games)
            values, advantages = seat_estimates(
                network, trajectory.observations[:, index, 1], trajectory.episode_starts[:, index],
                rewards[:, index, 1], trajectory.dones[:, index], c.gamma, c.gae_lambda,
                trajectory.next_observations[index, 1] if c.bootstrap_truncation else None,
            )
            estimates.values[:, index, 1] = values
            estimates.advantages[:, index, 1] = advantages
            estimates.returns[:, index, 1] = advantages + values
            estimates.log_probs[:, index, 1] = float("nan")
        if self._replayed_games is not None:
            # past games keep the log-probabilities of the policy that played them, so the
            # proximal ratio measures (and clips) how far the current policy has moved since
            index = self._replayed_games
            for agent in self.agents:
                for seat in agent.seats:
                    estimates.log_probs[:, index, seat] = trajectory.log_probs[:, index, seat]
        if c.critic_target != "gae":
            for seat in (0, 1):
                estimates.returns[..., seat] = critic_targets(
                    c.critic_target, rewards[..., seat], estimates.values[..., seat],
                    estimates.advantages[..., seat], trajectory.dones, c.gamma,
                )
        return estimates

    def current_beta(self) -> float:
        """The alignment weight of this iteration: ``aa_beta``, or on the way to ``aa_beta_end``.

        ``aa_beta + (aa_beta_end - aa_beta) * iteration / (iterations - 1)``, so the first
        iteration uses ``aa_beta`` and the last ``aa_beta_end``. It depends on the iteration
        alone, so a resumed run follows the same schedule.
        """
        c = self.config
        if c.aa_beta_end is None:
            return c.aa_beta
        progress = min(1.0, self.iteration / max(1, c.iterations - 1))
        return c.aa_beta + (c.aa_beta_end - c.aa_beta) * progress

    def shape_advantages(self, estimates: Estimates, trajectory: Trajectory) -> torch.Tensor:
        """Return ``A*`` of each seat, aligned with the other seat's advantage (``(T, B, 2)``)."""
        c = self.config
        beta = self.current_beta()
        out = torch.empty_like(estimates.advantages)
        for seat in (0, 1):
            out[..., seat] = aligned_advantages(
                estimates.advantages[..., seat],
                estimates.advantages[..., 1 - seat],
                beta,
                c.gamma,
                trajectory.episode_starts,
                running_mean=c.aa_running_mean,
                normalize=c.aa_normalize_first,
            )
        return out

    # ---- update -------------------------------------------------------------------------------
    def training_columns(self, seats: tuple[int, ...], num_envs: int) -> torch.Tensor | None:
        """Columns of ``stack_seats(x, seats)`` this agent played itself (None: all of them).

        Past snapshots' sequences are dropped from the agent's batch (they still shape seat 0's
        advantages through ``A2``).

        Stacked columns are seat-major (seat ``s`` of game ``b`` is column ``i * B + b`` for
        ``s = seats[i]``); seat 1 of the replay games belongs to past snapshots.
        """
        if not self._replay_routes or 1 not in seats:
            return None
        replay = set(self.replay_games().tolist())
        keep = []
        for i, seat in enumerate(seats):
            keep += [i * num_envs + b for b in range(num_envs) if seat == 0 or b not in replay]
        return torch.as_tensor(keep, dtype=torch.int64)

    def policy_loss(
        self, log_probs: torch.Tensor, batch: AgentBatch
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """AA: ``-mean(A* log pi)``; PAA: the clipped surrogate with ``A*`` (batch.advantages)."""
        c = self.config
        if self.iteration < c.critic_warmup:
            return 0.0 * log_probs.sum(), {}
        if c.log_prob_min < 0:
            log_probs = log_probs.clamp(min=c.log_prob_min)
        if not c.proximal:
            return -(log_probs * batch.advantages).mean(), {}
        loss = ppo_clipped_loss(log_probs, batch.old_log_probs, batch.advantages, c.clip_coef)
        with torch.no_grad():
            log_ratio = log_probs - batch.old_log_probs
            ratio = log_ratio.exp()
            approx_kl = float(((ratio - 1) - log_ratio).mean())
            clip_fraction = float(((ratio - 1).abs() > c.clip_coef).float().mean())
        return loss, {"approx_kl": approx_kl, "clip_fraction": clip_fraction}

    # ---- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The base learner's state plus the agent and trajectory replay buffers (when used)."""
        state = super().state_dict()
        if self.replay is not None:
            state["replay"] = self.replay.state_dict()
        if self.trajectory_replay is not None:
            state["trajectory_replay"] = self.trajectory_replay.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        super().load_state_dict(state)
        if self.replay is not None and "replay" in state:
            self.replay.load_state_dict(state["replay"])
        if self.trajectory_replay is not None and "trajectory_replay" in state:
            self.trajectory_replay.load_state_dict(state["trajectory_replay"])


class ProximalAdvantageAlignmentLearner(AdvantageAlignmentLearner):
    """Proximal Advantage Alignment (``proximal`` on by default)."""

    config_class = ProximalAdvantageAlignmentConfig
