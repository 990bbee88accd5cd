"""Advantage Alignment (AA) and Proximal Advantage Alignment (PAA).

Duque et al., "Advantage Alignment Algorithms", ICLR 2025; reference code
``jduquevan/advantage-alignment`` (branch ``eg`` @e99df9c for the 2-player Negotiation runs,
``master`` @2065e43 for the Melting Pot PAA).

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
does. The estimator itself is
:func:`agents.algorithms.advantage_alignment.estimator.aligned_advantages`; the learner only routes
both seats' estimates into it (:meth:`AdvantageAlignmentLearner.shape_advantages`).

The proximal variant (PAA, registered as ``paa``) replaces the plain policy gradient by PPO's
clipped surrogate with ``A*`` in place of ``A``
(:func:`agents.algorithms.core.losses.ppo_clipped_loss`),
over ``update_epochs`` x ``num_minibatches``.

The agent replay buffer (``replay_fraction > 0``, self-play only): every iteration a fraction of the
games has seat 1 played by uniformly sampled past snapshots of the agent
(:class:`~agents.algorithms.core.replay.AgentReplayBuffer`, one snapshot pushed every
``replay_push_every`` iterations; :mod:`agents.algorithms.core.snapshots` routes seat 1 of those
games to the snapshots and the rest to the current network). The learner trains on the sequences its
current network played only (seat 0 of every game, seat 1 of the non-replay games); ``A2`` of seat 0
in a replay game comes from the snapshot's critic and seat 1's rewards.

The trajectory replay buffer (``trajectory_replay_fraction > 0``, the reference's
``off_policy_ratio``; :class:`~agents.algorithms.core.replay.TrajectoryReplayBuffer`): each update
batch has that share of its games replaced by past games drawn from a FIFO store, which then
receives ``trajectory_replay_push`` fresh games. Past games are re-valued by the current critics and
keep the log-probabilities they were played with, so PAA's ratio clips their influence. The two
buffers are exclusive (one would have to track the other's games).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from agents.algorithms.advantage_alignment.config import (
    AdvantageAlignmentConfig,
    ProximalAdvantageAlignmentConfig,
)
from agents.algorithms.advantage_alignment.estimator import aligned_advantages
from agents.algorithms.core.learner import Agent
from agents.algorithms.core.losses import (
    policy_gradient_loss,
    ppo_clipped_loss,
    ppo_statistics,
)
from agents.algorithms.core.on_policy import AgentBatch, Estimates, OnPolicyLearner
from agents.algorithms.core.replay import AgentReplayBuffer, TrajectoryReplayBuffer
from agents.algorithms.core.returns import critic_targets, gae
from agents.algorithms.core.snapshots import SnapshotPool, SnapshotRouting
from agents.nn import ActorCritic
from agents.policy import Policy
from agents.rollout import Trajectory, concat_games, rollout
from agents.seeding import derive_seed


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
    :meth:`OnPolicyLearner.estimate` does under ``bootstrap_truncation``.
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


class AdvantageAlignmentLearner(OnPolicyLearner):
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
        #: seat 1's networks in the batch being updated (None: the current agent in every game)
        self._routing: SnapshotRouting | None = None
        if config.replay_fraction > 0:
            self.replay = AgentReplayBuffer(config.replay_capacity, config.replay_push_every)
            self._snapshots = SnapshotPool(self.replay, self.make_network)
        self.trajectory_replay: TrajectoryReplayBuffer | None = None
        #: games of the batch being updated that came from the trajectory replay buffer
        self._replayed_games: torch.Tensor | None = None
        if config.trajectory_replay_fraction > 0:
            self.trajectory_replay = TrajectoryReplayBuffer(config.trajectory_replay_capacity)

    def make_agent(self, seats: tuple[int, ...]) -> Agent:
        """As :meth:`OnPolicyLearner.make_agent`, with the critic's parameters at ``critic_lr``."""
        agent = super().make_agent(seats)
        if self.config.critic_lr > 0 and not self.config.separate_critic_optimizer:
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

    def critic_learning_rate(self) -> float:
        """``critic_lr`` for the critic's own Adam (``lr`` when it is 0)."""
        return self.config.critic_lr or self.config.lr

    def actor_frozen(self) -> bool:
        """During the ``critic_warmup`` iterations only the critic learns."""
        return self.iteration < self.config.critic_warmup

    # ---- replay buffer ------------------------------------------------------------------------
    def replay_games(self) -> np.ndarray:
        """Indices of the games whose seat 1 is a past snapshot (the last ones of the batch)."""
        c = self.config
        # at least one game stays with the current network (its seat-1 data is trained on)
        count = min(int(round(c.replay_fraction * c.num_envs)), c.num_envs - 1)
        return np.arange(c.num_envs - count, c.num_envs, dtype=np.int64)

    def collect(self) -> Trajectory:
        """Play one episode per game; with replay, seat 1 of some games is a past self."""
        replay_games = self.replay_games() if self.replay is not None else ()
        if self.replay is None or len(replay_games) == 0:
            self._routing = None
            return super().collect()
        agent = self.agents[0]
        self.replay.maybe_push(agent.network, self.iteration)
        generator = torch.Generator().manual_seed(derive_seed(self.config.seed, self.iteration, 2))
        self._routing = self._snapshots.route(
            agent.network,
            self.config.num_envs,
            int(replay_games[0]),
            self.config.replay_snapshots,
            generator,
            layout="blocks",
        )
        seed = derive_seed(self.config.seed, self.iteration, 0)
        return rollout(self.env, [agent.policy, self._routing.seat_policy()], seed=seed)

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
            batch = concat_games(
                [trajectory.games(fresh.sort().values), buffer.sample(count, generator)]
            )
            self._replayed_games = torch.arange(c.num_envs - count, c.num_envs, device=self.device)
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
                critic,
                trajectory.observations[:, :, 1],
                trajectory.episode_starts,
                rewards[..., 1],
                trajectory.dones,
                c.gamma,
                c.gae_lambda,
                trajectory.next_observations[:, 1] if c.bootstrap_truncation else None,
            )
            estimates.values[..., 1] = values
            estimates.advantages[..., 1] = advantages
            estimates.returns[..., 1] = advantages + values
        for network, games in self._routing.snapshots() if self._routing is not None else ():
            index = torch.as_tensor(games, device=trajectory.device)
            values, advantages = seat_estimates(
                network,
                trajectory.observations[:, index, 1],
                trajectory.episode_starts[:, index],
                rewards[:, index, 1],
                trajectory.dones[:, index],
                c.gamma,
                c.gae_lambda,
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
                    c.critic_target,
                    rewards[..., seat],
                    estimates.values[..., seat],
                    estimates.advantages[..., seat],
                    trajectory.dones,
                    c.gamma,
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
        if self._routing is None or 1 not in seats:
            return None
        replay = set(self.replay_games().tolist())
        keep = []
        for i, seat in enumerate(seats):
            keep += [i * num_envs + b for b in range(num_envs) if seat == 0 or b not in replay]
        return torch.as_tensor(keep, dtype=torch.int64, device=self.device)

    def policy_loss(
        self, log_probs: torch.Tensor, batch: AgentBatch
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """AA: ``-mean(A* log pi)``; PAA: the clipped surrogate with ``A*`` (batch.advantages).

        With ``log_prob_min`` the new and the old log-probabilities are clamped alike, so the
        proximal ratio compares like with like.
        """
        c = self.config
        old_log_probs = batch.old_log_probs
        if c.log_prob_min < 0:
            log_probs = log_probs.clamp(min=c.log_prob_min)
            old_log_probs = old_log_probs.clamp(min=c.log_prob_min)
        if not c.proximal:
            return policy_gradient_loss(log_probs, batch.advantages), {}
        loss = ppo_clipped_loss(log_probs, old_log_probs, batch.advantages, c.clip_coef)
        return loss, ppo_statistics(log_probs, old_log_probs, c.clip_coef)

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


__all__ = [
    "AdvantageAlignmentLearner",
    "ProximalAdvantageAlignmentLearner",
    "seat_estimates",
]
