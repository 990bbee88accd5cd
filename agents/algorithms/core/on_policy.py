"""The on-policy learner: rollout, GAE, an advantage-shaping hook, minibatched updates.

One iteration = one batch of ``num_envs`` whole episodes (the vector env resets every game
together and episodes last exactly ``max_cycles`` steps), played by the learners' own policies
through :func:`agents.rollout.rollout`, then :meth:`OnPolicyLearner.update`:

1. rewards (summed over the two seats with ``reward_sharing``);
2. for each agent, a no-grad pass over its seats' ``(T, B)`` sequences: log-probabilities,
   values (from the Polyak target critic when ``target_tau < 1``), GAE advantages and returns;
3. :meth:`OnPolicyLearner.shape_advantages` on both seats' estimates at once, ``(T, B, 2)``:
   the identity for naive learners, the place where Advantage Alignment puts its aligned
   advantage;
4. for each agent, :meth:`OnPolicyLearner.update_agent`: epochs x minibatches of whole
   sequences (the GRU is unrolled from a zero state), loss = :meth:`OnPolicyLearner.policy_loss`
   + ``vf_coef`` x critic loss - ``ent_coef`` x entropy, one optimizer step per minibatch;
5. Polyak update of the target critics.

``self_play`` trains one network that plays both seats (its batch holds both seats' sequences,
and the rollout calls it once on a doubled batch). Subclasses: naive actor-critic (the policy
gradient), PPO (the clipped surrogate), Advantage Alignment and its proximal variant (both, with
the aligned advantage from :meth:`OnPolicyLearner.shape_advantages`).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
import torch
from gymnasium import spaces

from agents.algorithms.core.config import LearnerConfig
from agents.algorithms.core.learner import Agent, Learner
from agents.algorithms.core.losses import CRITIC_LOSSES, policy_gradient_loss, polyak_update
from agents.algorithms.core.returns import gae, normalize_advantages
from agents.nn import ENCODERS, ActorCritic, NetworkPolicy
from agents.rollout import Trajectory
from agents.seeding import derive_seed


@dataclass
class OnPolicyConfig(LearnerConfig):
    """Settings of the on-policy learners: the actor-critic network, GAE and the critic."""

    gae_lambda: float = 0.95
    """GAE lambda (1: Monte-Carlo advantages, 0: TD errors)"""
    vf_coef: float = 0.5
    """weight of the critic loss"""
    critic_loss: str = "mse"
    """critic regression loss: mse or huber"""
    normalize_advantages: bool = True
    """standardise each agent's advantages over its batch"""
    bootstrap_truncation: bool = False
    """bootstrap the value of the final observation (the games end at max_cycles: off)"""
    encoder: str = "gru"
    """observation encoder: mlp, gru (dense layers then a GRU) or mlp_prev (dense layers on the
    previous and the current observation)"""
    share_encoder: bool = True
    """actor and critic read one encoder (as the Advantage Alignment configs); halves the cost"""
    log_std_init: float = -0.5
    """initial log standard deviation of continuous (Box) actions"""
    separate_critic_optimizer: bool = False
    """the actor's and the critic's parameters each get their own Adam and gradient clip,
    stepped one after the other, the critic on vf_coef x its loss (the Advantage Alignment
    reference's train_step; a shared encoder is stepped by both); off: one Adam step on the
    summed loss with one joint clip"""
    seat_by_seat: bool = False
    """in self-play, update on one seat's sequences at a time, seat 0 then seat 1, each from
    estimates made just before it (the Advantage Alignment reference trains agent_1 then
    agent_2, one network in self-play); off: one update on both seats' sequences"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(f"gae_lambda must be in [0, 1], got {self.gae_lambda}")
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {list(ENCODERS)}, got {self.encoder!r}")
        if self.critic_loss not in CRITIC_LOSSES:
            raise ValueError(
                f"critic_loss must be one of {list(CRITIC_LOSSES)}, got {self.critic_loss!r}"
            )


@dataclass
class AgentBatch:
    """One agent's training data: its seats' sequences side by side, ``(T, N)`` with N = B x seats.

    ``old_log_probs``, ``advantages``, ``returns`` and ``old_values`` are fixed before the
    update; minibatches are whole sequences (columns).
    """

    observations: torch.Tensor
    starts: torch.Tensor
    actions: torch.Tensor
    old_log_probs: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    old_values: torch.Tensor

    def columns(self, index: torch.Tensor) -> AgentBatch:
        """Select the sequences ``index``."""
        return AgentBatch(*(getattr(self, f.name)[:, index] for f in fields(self)))


@dataclass
class Estimates:
    """Both seats' per-step estimates, each ``(T, B, 2)`` (seat last), fixed before the update.

    A seat played by a fixed opponent holds NaN (except ``rewards``).

    What :meth:`OnPolicyLearner.shape_advantages` sees: an opponent-shaping learner aligns
    seat ``k``'s advantage with seat ``1 - k``'s here.
    """

    rewards: torch.Tensor
    values: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    log_probs: torch.Tensor


def stack_seats(x: torch.Tensor, seats: tuple[int, ...]) -> torch.Tensor:
    """``(T, B, 2, ...)`` -> ``(T, len(seats) * B, ...)``, seat-major columns."""
    return x[:, :, list(seats)].movedim(2, 1).flatten(1, 2)


def unstack_seats(x: torch.Tensor, num_seats: int) -> torch.Tensor:
    """Inverse of :func:`stack_seats`: ``(T, S * B, ...)`` -> ``(T, B, S, ...)``."""
    return x.unflatten(1, (num_seats, -1)).movedim(1, 2)


def build_network(
    config: OnPolicyConfig, observation_space: spaces.Space, action_space: spaces.Space
) -> ActorCritic:
    """Build the actor-critic the config describes, for one seat's spaces."""
    return ActorCritic(
        observation_space,
        action_space,
        encoder=config.encoder,
        hidden_sizes=config.hidden_sizes,
        gru_size=config.gru_size,
        share_encoder=config.share_encoder,
        log_std_init=config.log_std_init,
    )


class OnPolicyLearner(Learner):
    """Base of the naive learners and of the advantage-shaping learners built on them.

    Subclasses set :attr:`config_class` and override :meth:`policy_loss` (and, for shaping,
    :meth:`shape_advantages`). ``update_epochs`` and ``num_minibatches`` are 1 here.

    Args:
        config: the run's settings.
        opponent: a fixed policy for seat 1; then only seat 0 learns.

    """

    config_class: ClassVar[type[LearnerConfig]] = OnPolicyConfig
    config: OnPolicyConfig
    update_epochs: int = 1
    num_minibatches: int = 1

    @classmethod
    def build_policy_network(
        cls,
        config: LearnerConfig,
        observation_space: spaces.Space,
        action_space: spaces.Space,
    ) -> ActorCritic:
        """The actor-critic a checkpoint of this learner holds, for ``config`` and these spaces."""
        assert isinstance(config, OnPolicyConfig)
        return build_network(config, observation_space, action_space)

    def make_agent(self, seats: tuple[int, ...]) -> Agent:
        """Network, Adam optimizer, optional target critic and policy for ``seats``."""
        network = self.make_network()
        target = None
        if self.config.target_tau < 1.0:
            target = copy.deepcopy(network).requires_grad_(False)
        name = "learner" if len(seats) == 2 else f"learner_{seats[0]}"
        if self.config.separate_critic_optimizer:
            return Agent(
                network=network,
                optimizer=torch.optim.Adam(network.actor_parameters(), lr=self.config.lr),
                target=target,
                seats=seats,
                policy=NetworkPolicy(network, name=name),
                critic_optimizer=torch.optim.Adam(
                    network.critic_parameters(), lr=self.critic_learning_rate()
                ),
            )
        return Agent(
            network=network,
            optimizer=torch.optim.Adam(network.parameters(), lr=self.config.lr),
            target=target,
            seats=seats,
            policy=NetworkPolicy(network, name=name),
        )

    def critic_learning_rate(self) -> float:
        """The critic's own Adam rate with ``separate_critic_optimizer`` (here: ``lr``)."""
        return self.config.lr

    def actor_frozen(self) -> bool:
        """Whether this iteration's update leaves the actor alone (only the critic learns)."""
        return False

    @torch.no_grad()
    def estimate(self, trajectory: Trajectory) -> Estimates:
        """Both seats' log-probabilities, values, GAE advantages and returns, ``(T, B, 2)``."""
        c = self.config
        rewards = self.training_rewards(trajectory)
        T, B = trajectory.num_steps, trajectory.num_envs
        # NaN stays in a seat that no agent of this learner plays (a fixed opponent's)
        names = ("values", "advantages", "returns", "lp")
        device = trajectory.device
        out = {name: torch.full((T, B, 2), float("nan"), device=device) for name in names}
        for agent in self.agents:
            seats, n = agent.seats, len(agent.seats)
            observations = stack_seats(trajectory.observations, seats)
            starts = trajectory.episode_starts.repeat(1, n)
            dones = trajectory.dones.repeat(1, n)
            # Re-evaluated rather than taken from the rollout: the fused unroll and the clamped
            # atanh of stored continuous actions are what the update sees, so PPO's ratio
            # starts at exactly 1.
            dist, values = agent.network(observations, starts)
            log_probs = dist.log_prob(stack_seats(trajectory.actions, seats))
            critic = agent.target if agent.target is not None else agent.network
            if agent.target is not None:
                values = critic.values(observations, starts)
            last = torch.zeros_like(values[0])
            terminals = dones
            if c.bootstrap_truncation:
                last_obs = trajectory.next_observations[:, list(seats)].movedim(1, 0).flatten(0, 1)
                extended = torch.cat([observations, last_obs.unsqueeze(0)])
                # the final observation continues its episode: no reset before it
                extended_starts = torch.cat([starts, torch.zeros_like(starts[:1])])
                last = critic.values(extended, extended_starts)[-1]
                terminals = torch.zeros_like(dones)
            next_values = torch.cat([values[1:], last.unsqueeze(0)])
            advantages = gae(
                stack_seats(rewards, seats),
                values,
                next_values,
                dones,
                c.gamma,
                c.gae_lambda,
                terminals=terminals,
            )
            for name, x in (
                ("values", values),
                ("advantages", advantages),
                ("returns", advantages + values),
                ("lp", log_probs),
            ):
                out[name][:, :, list(seats)] = unstack_seats(x, n)
        return Estimates(
            rewards=rewards,
            values=out["values"],
            advantages=out["advantages"],
            returns=out["returns"],
            log_probs=out["lp"],
        )

    def shape_advantages(self, estimates: Estimates, trajectory: Trajectory) -> torch.Tensor:
        """Return the ``(T, B, 2)`` advantages the actors follow: the naive learner's own.

        Opponent-shaping learners override this to combine both seats' advantages.
        """
        return estimates.advantages

    def training_columns(self, seats: tuple[int, ...], num_envs: int) -> torch.Tensor | None:
        """Columns of ``stack_seats(x, seats)`` an agent trains on (None: all of them).

        Learners whose seat is sometimes played by someone else (a past snapshot) drop those
        sequences here.
        """
        return None

    def update(self, trajectory: Trajectory) -> dict[str, float]:
        """One learning step on ``trajectory`` (a batch of whole episodes); returns metrics.

        Every agent learns from estimates made before any of them moved; with
        ``seat_by_seat`` a self-play agent steps once per seat, each from fresh estimates.
        """
        c = self.config
        trajectory = trajectory.to(self.device)
        generator = torch.Generator().manual_seed(derive_seed(c.seed, self.iteration, 1))
        totals: dict[str, list[float]] = defaultdict(list)
        steps = [
            (agent, seats)
            for agent in self.agents
            for seats in ([(s,) for s in agent.seats] if c.seat_by_seat else [agent.seats])
        ]
        estimates = advantages = None
        for agent, seats in steps:
            if estimates is None or c.seat_by_seat:
                estimates = self.estimate(trajectory)
                advantages = self.shape_advantages(estimates, trajectory)
            n = len(seats)
            batch = AgentBatch(
                observations=stack_seats(trajectory.observations, seats),
                starts=trajectory.episode_starts.repeat(1, n),
                actions=stack_seats(trajectory.actions, seats),
                old_log_probs=stack_seats(estimates.log_probs, seats),
                advantages=stack_seats(advantages, seats),
                returns=stack_seats(estimates.returns, seats),
                old_values=stack_seats(estimates.values, seats),
            )
            columns = self.training_columns(seats, trajectory.num_envs)
            if columns is not None:
                batch = batch.columns(columns)
            if c.normalize_advantages:
                batch.advantages = normalize_advantages(batch.advantages)
            for name, value in self.update_agent(agent, batch, generator).items():
                totals[name].append(value)
            if agent.target is not None:
                polyak_update(agent.target, agent.network, c.target_tau)
        return {name: float(np.mean(values)) for name, values in totals.items()}

    def update_agent(
        self, agent: Agent, batch: AgentBatch, generator: torch.Generator
    ) -> dict[str, float]:
        """Epochs x minibatches of gradient steps on one agent; returns mean loss terms."""
        c = self.config
        stats: dict[str, list[float]] = defaultdict(list)
        num_sequences = batch.observations.shape[1]
        for _ in range(self.update_epochs):
            # the order is drawn on the CPU (the run's stream); the columns move with the batch
            device = batch.observations.device
            order = (
                torch.randperm(num_sequences, generator=generator).to(device)
                if self.num_minibatches > 1
                else torch.arange(num_sequences, device=device)
            )
            for index in order.chunk(self.num_minibatches):
                minibatch = batch.columns(index)
                if c.separate_critic_optimizer:
                    step_stats = self._actor_then_critic_step(agent, minibatch, generator)
                else:
                    step_stats = self._joint_step(agent, minibatch, generator)
                for name, value in step_stats.items():
                    stats[name].append(value)
        return {name: float(np.mean(values)) for name, values in stats.items()}

    def _actor_terms(
        self, agent: Agent, minibatch: AgentBatch, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, float]]:
        """The policy loss (zero while :meth:`actor_frozen`), entropy, values, its statistics."""
        dist, values = agent.network(minibatch.observations, minibatch.starts)
        if self.actor_frozen():
            policy_loss, info = torch.zeros((), device=values.device), {}
        else:
            policy_loss, info = self.policy_loss(dist.log_prob(minibatch.actions), minibatch)
        # measured (and its draws made) either way, so a run's random stream is the same
        entropy = dist.entropy(generator).mean()
        return policy_loss, entropy, values, info

    def _joint_step(
        self, agent: Agent, minibatch: AgentBatch, generator: torch.Generator
    ) -> dict[str, float]:
        """One Adam step on policy loss + vf_coef x critic loss - ent_coef x entropy."""
        c = self.config
        policy_loss, entropy, values, info = self._actor_terms(agent, minibatch, generator)
        value_loss = CRITIC_LOSSES[c.critic_loss](values, minibatch.returns)
        if self.actor_frozen():
            loss = c.vf_coef * value_loss
        else:
            loss = policy_loss + c.vf_coef * value_loss - c.ent_coef * entropy
        agent.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if c.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(agent.network.parameters(), c.max_grad_norm)
        agent.optimizer.step()
        return _step_stats(policy_loss, value_loss, entropy, info)

    def _actor_then_critic_step(
        self, agent: Agent, minibatch: AgentBatch, generator: torch.Generator
    ) -> dict[str, float]:
        """An actor step (its own clip), then a critic step on the values after it."""
        c = self.config
        network = agent.network
        policy_loss, entropy, _, info = self._actor_terms(agent, minibatch, generator)
        if not self.actor_frozen():
            agent.optimizer.zero_grad(set_to_none=True)
            (policy_loss - c.ent_coef * entropy).backward()
            if c.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(network.actor_parameters(), c.max_grad_norm)
            agent.optimizer.step()
        assert agent.critic_optimizer is not None
        values = network.values(minibatch.observations, minibatch.starts)
        value_loss = CRITIC_LOSSES[c.critic_loss](values, minibatch.returns)
        agent.critic_optimizer.zero_grad(set_to_none=True)
        (c.vf_coef * value_loss).backward()
        if c.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(network.critic_parameters(), c.max_grad_norm)
        agent.critic_optimizer.step()
        return _step_stats(policy_loss, value_loss, entropy, info)

    def policy_loss(
        self, log_probs: torch.Tensor, batch: AgentBatch
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Compute the actor's loss on a minibatch: the policy gradient ``-mean(log pi * A)``."""
        return policy_gradient_loss(log_probs, batch.advantages), {}


def _step_stats(
    policy_loss: torch.Tensor, value_loss: torch.Tensor, entropy: torch.Tensor, info: dict
) -> dict[str, float]:
    return {
        "policy_loss": policy_loss.item(),
        "value_loss": value_loss.item(),
        "entropy": entropy.item(),
        **info,
    }


__all__ = [
    "AgentBatch",
    "Estimates",
    "OnPolicyConfig",
    "OnPolicyLearner",
    "build_network",
    "stack_seats",
    "unstack_seats",
]
