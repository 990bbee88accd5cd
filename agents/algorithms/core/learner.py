"""The learner protocol: what the training loop, checkpoints and the command line rely on.

A learner owns a vector env, one or two trained :class:`Agent` objects and an iteration
counter. :func:`agents.training.run_loop` calls :meth:`Learner.train_iteration` until
``config.iterations``; :mod:`agents.checkpoint` saves :meth:`Learner.state_dict` and restores it
with :meth:`Learner.load_state_dict`, and loads a saved agent as a policy through
:meth:`Learner.build_policy_network`. That is the whole contract:

* ``config_class`` (a :class:`~agents.algorithms.core.config.LearnerConfig` subclass), and a
  constructor ``(config, opponent=None)``;
* :meth:`Learner.policies` (the policy of each seat), :meth:`Learner.train_iteration` (one
  batch, returning a flat dict of float metrics with ``iteration``, ``reward_0``, ``reward_1``
  and the game's headline metric);
* :meth:`Learner.state_dict` / :meth:`Learner.load_state_dict`, whose ``"agents"`` entries hold
  each agent's ``"seats"`` and ``"network"`` weights (what a checkpoint plays from);
* :meth:`Learner.build_policy_network`, the network one saved agent's weights fit.

Subclasses implement :meth:`Learner.make_agent` and :meth:`Learner.update` (and, where the
training rollout differs from :meth:`Learner.policies`, :meth:`Learner.collect`).
:class:`~agents.algorithms.core.on_policy.OnPolicyLearner` is the base of the on-policy
learners; LOQA subclasses :class:`Learner` directly.

Seat groups: ``self_play`` trains one agent that plays both seats; otherwise two independent
agents each train on their own seat; with a fixed ``opponent`` policy in seat 1, only seat 0
learns. Every random draw comes from a seed derived from ``(seed, iteration, purpose)``
(:func:`agents.seeding.derive_seed`), so a run is reproducible and a resumed run continues
exactly. ``config.device`` places the networks and the update (:mod:`agents.devices`); the
rollout runs on the CPU environments and an update moves its batch to the device once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from gymnasium import spaces
from torch import nn

import socialdilemmas
from agents.algorithms.core.config import LearnerConfig
from agents.devices import resolve_device
from agents.game_metrics import game_metrics
from agents.nn import NetworkPolicy
from agents.policy import Policy
from agents.rollout import Trajectory, rollout
from agents.seeding import derive_seed


@dataclass
class Agent:
    """One trained network, its optimizer(s) and target network, and the seats it plays.

    ``critic_optimizer`` is set by learners that step the critic's parameters separately
    (LOQA's Q-critic); then ``optimizer`` covers the actor only.
    """

    network: nn.Module
    optimizer: torch.optim.Optimizer
    target: nn.Module | None
    seats: tuple[int, ...]
    policy: NetworkPolicy
    critic_optimizer: torch.optim.Optimizer | None = None

    def optimizers(self) -> list[torch.optim.Optimizer]:
        """The optimizer, and the critic's own if there is one."""
        return [self.optimizer] + ([self.critic_optimizer] if self.critic_optimizer else [])


class Learner(ABC):
    """Base of every learner: env, seats, agents, the iteration, learning rates, state.

    Args:
        config: the run's settings (an instance of :attr:`config_class`).
        opponent: a fixed policy for seat 1 (scripted, a loaded checkpoint, ...); then only
            seat 0 learns. Not saved in checkpoints: pass it again to resume.

    """

    config_class: ClassVar[type[LearnerConfig]] = LearnerConfig
    #: the run folder :func:`agents.training.run_loop` writes to (None outside a training run)
    run_dir: Path | None = None

    def __init__(self, config: LearnerConfig, opponent: Policy | None = None) -> None:
        if not isinstance(config, self.config_class):
            raise TypeError(
                f"{type(self).__name__} needs a {self.config_class.__name__}, "
                f"got {type(config).__name__}"
            )
        self.config = config
        #: where the networks and the update live (the env stays on the CPU)
        self.device = resolve_device(config.device)
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
    @classmethod
    @abstractmethod
    def build_policy_network(
        cls,
        config: LearnerConfig,
        observation_space: spaces.Space,
        action_space: spaces.Space,
    ) -> nn.Module:
        """The network a checkpoint of this learner holds, for ``config`` and these spaces.

        :func:`agents.checkpoint.load_policy` builds it to load a saved agent; it must have the
        interface :class:`agents.nn.NetworkPolicy` drives (``initial_state``, ``act_step``).
        """

    @classmethod
    def playing_state(
        cls, config: dict[str, Any], network: dict[str, torch.Tensor], spaces: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """The config and network weights a play-only copy of a saved agent needs.

        :func:`agents.baselines.export_baseline` calls it with a checkpoint's config dict, one
        agent's network state and the checkpoint's space signatures. The default keeps both;
        learners whose networks carry parts acting never reads replace those.
        """
        return config, network

    def make_network(self) -> nn.Module:
        """Build a fresh network for this env's spaces, shaped by the config, on the device."""
        network = self.build_policy_network(self.config, self.observation_space, self.action_space)
        return network.to(self.device)

    @abstractmethod
    def make_agent(self, seats: tuple[int, ...]) -> Agent:
        """Network, optimizer(s), target network and policy of the agent playing ``seats``."""

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

    @abstractmethod
    def update(self, trajectory: Trajectory) -> dict[str, float]:
        """One learning step on ``trajectory`` (a batch of whole episodes); returns metrics."""

    def optimizers(self) -> list[torch.optim.Optimizer]:
        """Every optimizer of the trained agents."""
        return [optimizer for agent in self.agents for optimizer in agent.optimizers()]

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

    # ---- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the run: iteration, networks, optimizers, targets."""
        agents = []
        for agent in self.agents:
            saved = {
                "seats": list(agent.seats),
                "network": agent.network.state_dict(),
                "optimizer": agent.optimizer.state_dict(),
                "target": None if agent.target is None else agent.target.state_dict(),
            }
            if agent.critic_optimizer is not None:
                saved["critic_optimizer"] = agent.critic_optimizer.state_dict()
            agents.append(saved)
        return {"iteration": self.iteration, "agents": agents}

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
            if agent.critic_optimizer is not None:
                agent.critic_optimizer.load_state_dict(saved["critic_optimizer"])
        self.iteration = int(state["iteration"])


__all__ = ["Agent", "Learner"]
