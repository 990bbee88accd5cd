"""What every learner shares: the config fields, the agents, one training iteration.

One iteration = one batch of ``num_envs`` whole episodes (the vector env resets every game
together and episodes last exactly ``max_cycles`` steps), played by the learners' own policies
through :func:`agents.rollout.rollout`, then :meth:`Learner.update`:

1. rewards (summed over the two seats with ``reward_sharing``);
2. for each agent, a no-grad pass over its seats' ``(T, B)`` sequences: log-probabilities,
   values (from the Polyak target critic when ``target_tau < 1``), GAE advantages and returns;
3. :meth:`Learner.shape_advantages` on both seats' estimates at once, ``(T, B, 2)``: the
   identity for naive learners, the place where Advantage Alignment puts its aligned advantage;
4. for each agent, :meth:`Learner.update_agent`: epochs x minibatches of whole sequences
   (the GRU is unrolled from a zero state), loss = :meth:`Learner.policy_loss`
   + ``vf_coef`` x critic loss - ``ent_coef`` x entropy, one optimizer step per minibatch;
5. Polyak update of the target critics.

``self_play`` trains one network that plays both seats (its batch holds both seats' sequences,
and the rollout calls it once on a doubled batch); otherwise two independent learners each
train on their own seat; with a fixed ``opponent`` policy in seat 1, only seat 0 learns.
Every random draw comes from a seed derived from ``(seed, iteration)``, so a run is reproducible
and a resumed run continues exactly.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from gymnasium import spaces
from torch.nn import functional as F

import socialdilemmas
from agents.game_metrics import game_metrics
from agents.nn import ENCODERS, ActorCritic, NetworkPolicy
from agents.policy import Policy
from agents.returns import gae
from agents.rollout import Trajectory, rollout
from agents.shaping import normalize_advantages, polyak_update
from agents.validation import check_config_fields
from socialdilemmas.registration import canonical_id

#: critic loss name (the ``critic_loss`` config field) -> loss(prediction, target)
CRITIC_LOSSES = {"mse": F.mse_loss, "huber": F.smooth_l1_loss}


@dataclass
class LearnerConfig:
    """Settings every learner shares (the command line is generated from these fields)."""

    env_id: str = "ipd_v0"
    """registered env to train on (``socialdilemmas.env_ids()``)"""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """the env's own arguments, e.g. {"max_cycles": 50} (JSON on the command line)"""
    num_envs: int = 256
    """games per batch; one iteration plays one whole episode in each"""
    iterations: int = 200
    """training iterations (batches) in the run"""
    seed: int = 0
    """seeds network initialisation, the envs and every sampling decision"""
    self_play: bool = False
    """one network plays both seats; otherwise two independent learners"""
    reward_sharing: bool = False
    """each seat is trained on the sum of both seats' rewards (the summed-rewards baseline)"""
    lr: float = 3e-3
    """Adam learning rate"""
    anneal_lr: bool = False
    """decay every learning rate linearly from its initial value towards 0 over the run's
    iterations (CleanRL's PPO default); the schedule follows ``iterations``"""
    anneal_lr_start: int = 0
    """with ``anneal_lr``, the iteration the decay starts from: the rates stay at their initial
    values until then and reach 0 at ``iterations``, so the early learning runs at the full
    rate"""
    gamma: float = 0.96
    """discount factor"""
    gae_lambda: float = 0.95
    """GAE lambda (1: Monte-Carlo advantages, 0: TD errors)"""
    ent_coef: float = 0.01
    """weight of the entropy bonus"""
    vf_coef: float = 0.5
    """weight of the critic loss"""
    critic_loss: str = "mse"
    """critic regression loss: mse or huber"""
    max_grad_norm: float = 1.0
    """clip the gradient to this global norm (0 disables)"""
    normalize_advantages: bool = True
    """standardise each agent's advantages over its batch"""
    bootstrap_truncation: bool = False
    """bootstrap the value of the final observation (the games end at max_cycles: off)"""
    target_tau: float = 1.0
    """Polyak rate of the target critic used for advantages (1: no target network)"""
    encoder: str = "gru"
    """observation encoder: mlp, gru (dense layers then a GRU) or mlp_prev (dense layers on the
    previous and the current observation)"""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """dense layer widths (before the GRU when encoder is gru)"""
    gru_size: int = 64
    """GRU state width"""
    share_encoder: bool = True
    """actor and critic read one encoder (as the Advantage Alignment configs); halves the cost.
    Off for the Negotiation Game: there the critic's regression on returns of about 8 saturates
    shared tanh features and the policy stops seeing the item values (docs/results.md)"""
    log_std_init: float = -0.5
    """initial log standard deviation of continuous (Box) actions"""
    torch_threads: int = 1
    """torch intra-op threads (1 is fastest for these small networks)"""
    checkpoint_every: int = 50
    """save a checkpoint every this many iterations (0: only the final one)"""
    stop_reward: float | None = None
    """end the run early, after the first iteration whose mean reward per step (over both
    seats; seat 0 against a fixed opponent) exceeds this; the Advantage Alignment reference
    stops its Negotiation runs at 0.4 ("early stop if already cooperative"). None: run every
    iteration"""

    def __post_init__(self) -> None:
        check_config_fields(self)  # NaN/inf numbers, layer widths < 1, seeds beyond 64 bits
        self.hidden_sizes = tuple(int(size) for size in self.hidden_sizes)
        self.env_kwargs = dict(self.env_kwargs)
        self.env_id = canonical_id(self.env_id)
        for name in ("num_envs", "iterations", "gru_size", "torch_threads"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.stop_reward is not None:
            self.stop_reward = float(self.stop_reward)
            if not math.isfinite(self.stop_reward):
                raise ValueError(f"stop_reward must be finite or None, got {self.stop_reward}")
        if self.checkpoint_every < 0:
            raise ValueError(f"checkpoint_every must be >= 0, got {self.checkpoint_every}")
        if not 0 <= self.anneal_lr_start < self.iterations:
            raise ValueError(
                f"anneal_lr_start must be in [0, iterations={self.iterations}), got "
                f"{self.anneal_lr_start}"
            )
        for name in ("gamma", "gae_lambda"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0.0 < self.target_tau <= 1.0:
            raise ValueError(f"target_tau must be in (0, 1], got {self.target_tau}")
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {list(ENCODERS)}, got {self.encoder!r}")
        if self.critic_loss not in CRITIC_LOSSES:
            raise ValueError(
                f"critic_loss must be one of {list(CRITIC_LOSSES)}, got {self.critic_loss!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready field values."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LearnerConfig:
        """Rebuild a config from :meth:`to_dict`, rejecting unknown fields by name."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{cls.__name__} has no field(s) {unknown}")
        return cls(**values)


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclass
class Agent:
    """One trained network, its optimizer and target critic, and the seats it plays."""

    network: ActorCritic
    optimizer: torch.optim.Optimizer
    target: ActorCritic | None
    seats: tuple[int, ...]
    policy: NetworkPolicy


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

    What :meth:`Learner.shape_advantages` sees: an opponent-shaping learner aligns seat ``k``'s
    advantage with seat ``1 - k``'s here.
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
    config: LearnerConfig, observation_space: spaces.Space, action_space: spaces.Space
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


def derive_seed(*keys: int) -> int:
    """Return a 63-bit seed that depends on every key (run seed, iteration, purpose)."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(2, np.uint64)[0] >> 1)


class Learner:
    """Base of the naive learners and of the opponent-shaping learners built on them.

    Subclasses set :attr:`config_class` and override :meth:`policy_loss` (and, for shaping,
    :meth:`shape_advantages`). ``update_epochs`` and ``num_minibatches`` are 1 here.

    Args:
        config: the run's settings.
        opponent: a fixed policy for seat 1 (scripted, a loaded checkpoint, ...); then only
            seat 0 learns. Not saved in checkpoints: pass it again to resume.

    """

    config_class: ClassVar[type[LearnerConfig]] = LearnerConfig
    update_epochs: int = 1
    num_minibatches: int = 1
    #: the run folder :func:`agents.training.run_loop` writes to (None outside a training run)
    run_dir: Path | None = None

    def __init__(self, config: LearnerConfig, opponent: Policy | None = None) -> None:
        if not isinstance(config, self.config_class):
            raise TypeError(
                f"{type(self).__name__} needs a {self.config_class.__name__}, "
                f"got {type(config).__name__}"
            )
        self.config = config
        self.env = socialdilemmas.make_vec(
            config.env_id, config.num_envs, copy=False, **config.env_kwargs
        )
        self.observation_space = self.env.single_observation_space
        self.action_space = self.env.single_action_space
        self.iteration = 0
        if opponent is not None and config.self_play:
            raise ValueError("self_play puts the learner in both seats; it cannot take an opponent")
        self.opponent = opponent
        # Seed the initialisation without disturbing the caller's global torch stream; every
        # later draw has its own generator.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.agents = [self.make_agent(seats) for seats in self.seat_groups()]

    # ---- construction -------------------------------------------------------------------------
    def make_network(self) -> ActorCritic:
        """Build a fresh actor-critic for this env's spaces, shaped by the config."""
        return self.build_policy_network(self.config, self.observation_space, self.action_space)

    @classmethod
    def build_policy_network(
        cls,
        config: LearnerConfig,
        observation_space: spaces.Space,
        action_space: spaces.Space,
    ) -> ActorCritic:
        """The network a checkpoint of this learner holds, for ``config`` and these spaces.

        :func:`agents.checkpoint.load_policy` builds it to load a saved agent; learners with
        other networks (LOQA's actor and Q-critic) override it.
        """
        return build_network(config, observation_space, action_space)

    def make_agent(self, seats: tuple[int, ...]) -> Agent:
        """Network, Adam optimizer, optional target critic and policy for ``seats``."""
        network = self.make_network()
        target = None
        if self.config.target_tau < 1.0:
            target = copy.deepcopy(network).requires_grad_(False)
        name = "learner" if len(seats) == 2 else f"learner_{seats[0]}"
        return Agent(
            network=network,
            optimizer=torch.optim.Adam(network.parameters(), lr=self.config.lr),
            target=target,
            seats=seats,
            policy=NetworkPolicy(network, name=name),
        )

    def seat_groups(self) -> list[tuple[int, ...]]:
        """Return the seats of each trained agent: both for self-play, one each, or seat 0 only."""
        if self.opponent is not None:
            return [(0,)]
        return [(0, 1)] if self.config.self_play else [(0,), (1,)]

    def policies(self) -> list[Policy]:
        """Return the policy of each seat in training rollouts (one object twice in self-play)."""
        seat_1 = self.opponent if self.opponent is not None else self.agent_for_seat(1).policy
        return [self.agent_for_seat(0).policy, seat_1]

    def agent_for_seat(self, seat: int) -> Agent:
        """Return the agent that plays ``seat``."""
        for agent in self.agents:
            if seat in agent.seats:
                return agent
        raise KeyError(f"no agent of this learner plays seat {seat} (a fixed opponent does)")

    # ---- one iteration ------------------------------------------------------------------------
    def collect(self) -> Trajectory:
        """Play one episode in every game with the current policies."""
        seed = derive_seed(self.config.seed, self.iteration, 0)
        return rollout(self.env, self.policies(), seed=seed)

    def optimizers(self) -> list[torch.optim.Optimizer]:
        """Every optimizer of the trained agents (learners with more per agent add them)."""
        return [agent.optimizer for agent in self.agents]

    def anneal_learning_rates(self) -> float:
        """Set every parameter group's rate to its initial one x the linear decay factor.

        The factor is 1 up to ``anneal_lr_start`` and falls linearly to 0 at ``iterations``:
        ``1 - (iteration - start) / (iterations - start)``.

        The initial rate is kept in the group (``initial_lr``, as torch's schedulers do), so it
        travels with the optimizer's state into checkpoints. Returns the factor.
        """
        start = self.config.anneal_lr_start
        elapsed = max(0, self.iteration - start)
        factor = max(0.0, 1.0 - elapsed / (self.config.iterations - start))
        for optimizer in self.optimizers():
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
                group["lr"] = group["initial_lr"] * factor
        return factor

    def train_iteration(self) -> dict[str, float]:
        """Collect a batch, update every agent, advance the iteration; returns metrics."""
        lr_factor = self.anneal_learning_rates() if self.config.anneal_lr else 1.0
        trajectory = self.collect()
        metrics = self.update(trajectory)
        self.iteration += 1
        rewards = trajectory.rewards.mean((0, 1))
        return {
            "iteration": float(self.iteration),
            "reward_0": float(rewards[0]),
            "reward_1": float(rewards[1]),
            **game_metrics(self.env.game, trajectory),
            **metrics,
            **({"lr_factor": lr_factor} if self.config.anneal_lr else {}),
        }

    def training_rewards(self, trajectory: Trajectory) -> torch.Tensor:
        """Return the ``(T, B, 2)`` rewards each seat is trained on."""
        if self.config.reward_sharing:
            return trajectory.rewards.sum(-1, keepdim=True).expand_as(trajectory.rewards)
        return trajectory.rewards

    @torch.no_grad()
    def estimate(self, trajectory: Trajectory) -> Estimates:
        """Both seats' log-probabilities, values, GAE advantages and returns, ``(T, B, 2)``."""
        c = self.config
        rewards = self.training_rewards(trajectory)
        T, B = trajectory.num_steps, trajectory.num_envs
        # NaN stays in a seat that no agent of this learner plays (a fixed opponent's)
        names = ("values", "advantages", "returns", "lp")
        out = {name: torch.full((T, B, 2), float("nan")) for name in names}
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
                stack_seats(rewards, seats), values, next_values, dones, c.gamma, c.gae_lambda,
                terminals=terminals,
            )
            for name, x in (
                ("values", values), ("advantages", advantages),
                ("returns", advantages + values), ("lp", log_probs),
            ):
                out[name][:, :, list(seats)] = unstack_seats(x, n)
        return Estimates(
            rewards=rewards, values=out["values"], advantages=out["advantages"],
            returns=out["returns"], log_probs=out["lp"],
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
        """One learning step on ``trajectory`` (a batch of whole episodes); returns metrics."""
        estimates = self.estimate(trajectory)
        advantages = self.shape_advantages(estimates, trajectory)
        generator = torch.Generator().manual_seed(derive_seed(self.config.seed, self.iteration, 1))
        totals: dict[str, list[float]] = defaultdict(list)
        for agent in self.agents:
            seats, n = agent.seats, len(agent.seats)
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
            if self.config.normalize_advantages:
                batch.advantages = normalize_advantages(batch.advantages)
            for name, value in self.update_agent(agent, batch, generator).items():
                totals[name].append(value)
            if agent.target is not None:
                polyak_update(agent.target, agent.network, self.config.target_tau)
        return {name: float(np.mean(values)) for name, values in totals.items()}

    def update_agent(
        self, agent: Agent, batch: AgentBatch, generator: torch.Generator
    ) -> dict[str, float]:
        """Epochs x minibatches of gradient steps on one agent; returns mean loss terms."""
        c = self.config
        stats: dict[str, list[float]] = defaultdict(list)
        num_sequences = batch.observations.shape[1]
        for _ in range(self.update_epochs):
            order = (
                torch.randperm(num_sequences, generator=generator)
                if self.num_minibatches > 1
                else torch.arange(num_sequences)
            )
            for index in order.chunk(self.num_minibatches):
                minibatch = batch.columns(index)
                dist, values = agent.network(minibatch.observations, minibatch.starts)
                log_probs = dist.log_prob(minibatch.actions)
                policy_loss, info = self.policy_loss(log_probs, minibatch)
                value_loss = CRITIC_LOSSES[c.critic_loss](values, minibatch.returns)
                entropy = dist.entropy(generator).mean()
                loss = policy_loss + c.vf_coef * value_loss - c.ent_coef * entropy
                agent.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if c.max_grad_norm > 0:
                    torch.nn.utils.clip_grad_norm_(agent.network.parameters(), c.max_grad_norm)
                agent.optimizer.step()
                stats["policy_loss"].append(policy_loss.item())
                stats["value_loss"].append(value_loss.item())
                stats["entropy"].append(entropy.item())
                for name, value in info.items():
                    stats[name].append(value)
        return {name: float(np.mean(values)) for name, values in stats.items()}

    def policy_loss(
        self, log_probs: torch.Tensor, batch: AgentBatch
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Compute the actor's loss on a minibatch: the policy gradient ``-mean(log pi * A)``."""
        return -(log_probs * batch.advantages).mean(), {}

    # ---- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the run: iteration, networks, optimizers, targets."""
        return {
            "iteration": self.iteration,
            "agents": [
                {
                    "seats": list(agent.seats),
                    "network": agent.network.state_dict(),
                    "optimizer": agent.optimizer.state_dict(),
                    "target": None if agent.target is None else agent.target.state_dict(),
                }
                for agent in self.agents
            ],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (the learner must have been built from the same config)."""
        saved_seats = [list(agent["seats"]) for agent in state["agents"]]
        seats = [list(agent.seats) for agent in self.agents]
        if saved_seats != seats:
            raise ValueError(
                f"state holds agents for seats {saved_seats}, this learner trains seats {seats} "
                "(a run against a fixed opponent resumes only with an opponent, and vice versa)"
            )
        for agent, saved in zip(self.agents, state["agents"], strict=True):
            agent.network.load_state_dict(saved["network"])
            agent.optimizer.load_state_dict(saved["optimizer"])
            if agent.target is not None:
                agent.target.load_state_dict(saved["target"])
        self.iteration = int(state["iteration"])
