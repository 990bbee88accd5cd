"""LOQA: Learning with Opponent Q-Learning Awareness (Aghajohari et al., ICLR 2024).

Each agent has an actor ``pi(a|h)`` and a separate Q-critic ``Q(h, t, .)`` whose input carries
the time index; ``V(h) = sum_a pi(a|h) Q(h, a)``. LOQA assumes the opponent acts by
``softmax_b(Q2(s, b) / T)`` over the opponent's *own* Q-network, makes the Q-value of the
opponent's taken action differentiable in the agent's parameters through a DiCE estimate of
the opponent's return, and follows

    L = -mean(log pi1(a_t|h_t) A1_t) - w mean(log pi_hat2(b_t|s_t; theta1) A1_t) - beta_H H(pi1)

with TD(0) advantages ``A1``. The Q-critic regresses a Huber loss on SARSA-like ("mean") or
max ("argmax") targets from an EMA target network. The estimators themselves live in
:mod:`agents.algorithms.loqa.estimator`; this module wires them into the learner protocol.
Reference: ``MiladInk/loqa@32f50c9`` (``ipd.py``, ``coin_train.py``).

Self-play (``self_play=True``, the reference's ``just_self_play``): the current agent sits in seat 0
of every game; seat 1 is, per game, either the current agent (a ``cur_agent_frac`` share of the
games) or a past snapshot drawn uniformly from an
:class:`~agents.algorithms.core.replay.AgentReplayBuffer` (capacity 10000, a push every 10
iterations), routed by :mod:`agents.algorithms.core.snapshots`. The agent is trained on seat 0 of
every game, with the opponent model read from *that game's* opponent network (the snapshot's
Q-critic), and on seat 1 only of the games where seat 1 was the current agent: a snapshot's actions
are never used in the current actor's own-log-prob term nor in its critic's regression.

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
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.algorithms.core.config import LearnerConfig
from agents.algorithms.core.learner import Agent, Learner
from agents.algorithms.core.losses import polyak_update
from agents.algorithms.core.replay import AgentReplayBuffer
from agents.algorithms.core.returns import td0_advantages
from agents.algorithms.core.snapshots import SnapshotPool, SnapshotRouting
from agents.algorithms.loqa.config import LOQAConfig
from agents.algorithms.loqa.estimator import (
    loqa_actor_loss,
    loqa_opponent_log_probs,
    q_critic_loss,
    q_critic_targets,
)
from agents.algorithms.loqa.networks import LOQANetwork, check_action_space
from agents.nn import NetworkPolicy
from agents.policy import EpsilonGreedyPolicy, Policy
from agents.rollout import Trajectory, rollout
from agents.seeding import derive_seed


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
    times = torch.zeros(starts.shape, dtype=torch.int64, device=starts.device)
    for t in range(1, starts.shape[0]):
        times[t] = torch.where(starts[t], 0, times[t - 1] + 1)
    return times


class LOQALearner(Learner):
    """LOQA (Aghajohari et al., ICLR 2024), implementing the learner protocol directly.

    Per iteration: push a snapshot to the agent buffer (every ``buffer_push_every``), play one
    episode in every game, then for each trained agent one Q-critic step (Huber on EMA targets)
    and one actor step (:func:`loqa_actor_loss` with the loaded-DiCE opponent model), and the
    EMA update of its target network. See the module docstring for the self-play routing.

    Args:
        config: a :class:`LOQAConfig`.
        opponent: not supported (LOQA needs the opponent's Q-network); must be None.

    """

    config_class: ClassVar[type[LearnerConfig]] = LOQAConfig
    config: LOQAConfig
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
        self._snapshots = SnapshotPool(self.buffer, self.make_network)
        #: seat 1's networks in the batch being collected and updated
        self._routing: SnapshotRouting | None = None

    @property
    def uses_buffer(self) -> bool:
        """Whether seat 1 plays past snapshots (self-play with the agent buffer on)."""
        c = self.config
        return bool(c.self_play and c.agent_buffer and c.cur_agent_frac < 1.0)

    # ---- construction -------------------------------------------------------------------------
    def make_network(self) -> LOQANetwork:
        """A fresh :class:`LOQANetwork` for this env."""
        network = self.build_policy_network(
            self.config, self.observation_space, self.action_space, self.env.max_cycles
        )
        return network.to(self.device)

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
            max_cycles = int(config.env_kwargs.get("max_cycles", 0)) or _default_max_cycles(config)
        return LOQANetwork(observation_space, action_space, config, max_cycles)

    @classmethod
    def playing_state(
        cls, config: dict[str, Any], network: dict[str, torch.Tensor], spaces: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """Keep the actor; replace the Q-critic, which acting never reads, by a zero linear stub.

        The config then describes the stub (``critic_encoder="mlp"``, no hidden layers), so the
        copy loads as a policy but cannot resume training. This keeps a Coin Game agent small.
        """
        config = {
            **config,
            "critic_encoder": "mlp",
            "critic_hidden_sizes": [],
            "critic_activation": "tanh",
        }
        obs_size = math.prod(spaces["observation"]["shape"])
        num_actions = spaces["action"]["n"]
        actor = {
            k: v for k, v in network.items() if k.startswith(("actor_encoder.", "actor_logits."))
        }
        stub = {
            "q_head.weight": torch.zeros(num_actions, obs_size + 1),
            "q_head.bias": torch.zeros(num_actions),
        }
        return config, {**actor, **stub}

    def make_agent(self, seats: tuple[int, ...]) -> Agent:
        """Network, actor Adam (``optimizer``), critic Adam, EMA target and policy."""
        network = self.make_network()
        name = "loqa" if len(seats) == 2 else f"loqa_{seats[0]}"
        return Agent(
            network=network,
            optimizer=torch.optim.Adam(network.actor_parameters(), lr=self.config.lr),
            target=copy.deepcopy(network).requires_grad_(False),
            seats=seats,
            policy=NetworkPolicy(network, name=name),
            critic_optimizer=torch.optim.Adam(
                network.critic_parameters(), lr=self.config.critic_lr
            ),
        )

    # ---- rollouts -----------------------------------------------------------------------------
    def _explore(self, policy: Policy) -> Policy:
        eps = self.config.epsilon_greedy
        return EpsilonGreedyPolicy(policy, eps, int(self.action_space.n)) if eps > 0 else policy

    def plan_routing(self) -> SnapshotRouting:
        """Seat 1's network per game.

        The current agent in the first ``cur_agent_frac`` share of the games, past snapshots
        (dealt out in turn) in the others.
        """
        c = self.config
        current = self.agents[0].network
        if not self.uses_buffer:
            return SnapshotRouting.current_only(current, c.num_envs)
        generator = torch.Generator().manual_seed(derive_seed(c.seed, self.iteration, 2))
        return self._snapshots.route(
            current,
            c.num_envs,
            int(round(c.cur_agent_frac * c.num_envs)),
            c.snapshots_per_batch,
            generator,
            layout="interleaved",
        )

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
        routing = self._routing if self._routing is not None else self.plan_routing()
        if len(routing.networks) == 1:  # every game against the current agent: one fused call
            explored = self._explore(agent.policy)
            return [explored, explored]
        return [self._explore(agent.policy), self._explore(routing.seat_policy())]

    def collect(self) -> Trajectory:
        """Push a snapshot if due, route seat 1, and play one episode in every game."""
        if self.uses_buffer:
            self.buffer.maybe_push(self.agents[0].network, self.iteration)
        if self.config.self_play:
            self._routing = self.plan_routing()
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
                _Segment(0, first.seats[0], games, second.network),
                _Segment(1, second.seats[0], games, first.network),
            ]
        routing = self._routing if self._routing is not None else self.plan_routing()
        out = []
        for index, network in enumerate(routing.networks):
            games = torch.from_numpy(routing.games(index))
            if len(games):
                out.append(_Segment(0, 0, games, network))
        current = torch.from_numpy(routing.games(0))
        if len(current):
            # seat 1 of the games against the current agent is the current agent's own play
            out.append(_Segment(0, 1, current, routing.networks[0]))
        return out

    def update(self, trajectory: Trajectory) -> dict[str, float]:
        """One actor step, then the Q-critic step(s) and EMA updates, per trained agent."""
        trajectory = trajectory.to(self.device)
        stats: dict[str, list[float]] = defaultdict(list)
        by_agent: dict[int, list[_Segment]] = defaultdict(list)
        for segment in self.segments():
            by_agent[segment.agent].append(segment)
        for index, segs in by_agent.items():
            agent = self.agents[index]
            for name, value in self.update_agent(agent, segs, trajectory).items():
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
            own=side(True),
            opp=side(False),
            dones=trajectory.dones[:, games],
            ext_starts=ext_starts,
            ext_times=_times(ext_starts),
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
            agent_log_probs,
            opp["rewards"],
            op_values,
            op_q,
            opp["actions"],
            c.gamma,
            c.lambda_d,
            c.softmax_temp,
            cols.dones,
            stop_grad_normalizer=c.stop_grad_normalizer,
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
                own["rewards"],
                own["actions"],
                target_q,
                c.gamma,
                cols.dones,
                target_probs,
                mode=c.critic_mode,
                bootstrap_at_done=c.bootstrap_end,
            )
        q = network.q_values(own["obs"], cols.ext_starts[:-1], cols.ext_times[:-1])
        return q_critic_loss(q, own["actions"], targets, c.huber_delta)

    def update_agent(
        self, agent: Agent, segments: list[_Segment], trajectory: Trajectory
    ) -> dict[str, float]:
        """One actor step, then one Q-critic step (the reference's order), for one agent."""
        c = self.config
        network = agent.network
        cols = self.columns(segments, trajectory)

        losses, advantages = self.actor_loss(network, cols)
        agent.optimizer.zero_grad(set_to_none=True)
        losses.loss.backward()
        grad_norm = _grad_norm(network.actor_parameters())
        if c.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(network.actor_parameters(), c.max_grad_norm)
        if self.iteration >= c.actor_warmup:
            agent.optimizer.step()

        assert agent.critic_optimizer is not None and agent.target is not None
        for _ in range(c.critic_updates):
            critic_loss = self.critic_loss(network, agent.target, cols)
            agent.critic_optimizer.zero_grad(set_to_none=True)
            critic_loss.backward()
            agent.critic_optimizer.step()
            polyak_update(agent.target, network, c.target_tau)
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
        state["buffer"] = self.buffer.state_dict() if self.uses_buffer else None
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        super().load_state_dict(state)
        if state.get("buffer") is not None:
            self.buffer.load_state_dict(state["buffer"])


def _grad_norm(parameters: list[nn.Parameter]) -> float:
    norms = [p.grad.detach().norm() for p in parameters if p.grad is not None]
    return float(torch.stack(norms).norm()) if norms else 0.0


def _default_max_cycles(config: LearnerConfig) -> int:
    import socialdilemmas

    return int(socialdilemmas.make_vec(config.env_id, 1, **config.env_kwargs).max_cycles)


__all__ = ["LOQALearner"]
