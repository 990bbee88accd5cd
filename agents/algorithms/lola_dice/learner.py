"""LOLA-DiCE: Learning with Opponent-Learning Awareness on sampled episodes.

Foerster et al., "DiCE: The Infinitely Differentiable Monte Carlo Estimator" (ICML 2018), whose
reference code is ``alshedivat/lola@0e8b13e`` (``lola_dice/rpg.py``); the loaded-DiCE baseline
follows ``Silent-Zebra/POLA@b248b52`` (``jax_files/POLA_dice_jax.py``).

One iteration, for every trained agent ``i`` (seat ``s``; the other seat ``o``), from the
parameters every agent had at the start of the iteration:

1. the value function (and, with ``opponent_model``, the model of the opponent: behaviour
   cloning of its actions, and its value function on its rewards) steps on the iteration's
   first rollout, the games the current policies played;
2. lookahead: starting from the opponent's parameters ``theta_o`` (its true ones, the model's,
   or in self-play the agent's own), ``inner_steps`` imagined naive steps
   ``theta_o <- theta_o + lr_inner grad_theta_o L_o(theta_i, theta_o)``, each on a fresh
   rollout of ``(theta_i, theta_o)``, kept in the autograd graph (:func:`naive_step`);
3. the outer objective ``L_i(theta_i, theta_o'(theta_i))`` on a fresh rollout of the agent
   against the looked-ahead opponent; its gradient in ``theta_i`` flows through the imagined
   steps (the LOLA term) as well as through the agent's own log-probabilities;

then every agent takes its outer step (SGD or Adam at ``lr``). ``L`` is the DiCE objective
(:func:`dice_objective`), or loaded DiCE on GAE advantages with ``baseline="critic"``. The
first rollout of the iteration also serves as the first imagined step's rollout (both are the
current policies' games) unless the opponent is modelled: then every imagined rollout plays
against the model, as in the reference. With ``lr_inner=0`` the lookahead is the identity and
the update is the naive DiCE policy gradient on the first rollout alone.

Parameters are handled functionally (:func:`torch.func.functional_call` on dicts of tensors),
so the looked-ahead opponent is a function of the agent's parameters; the imagined rollouts are
played by scratch copies of the network holding detached values of those parameters.

Seats: two independent agents (each looks ahead through the other); ``self_play``, one agent in
both seats whose objective averages its two seats, each looking ahead through an imagined copy
of itself; or, with ``opponent_model``, one agent against a fixed opponent policy, which it
models. Discrete actions only (categorical policies).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar

import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

from agents.algorithms.core.config import LearnerConfig
from agents.algorithms.core.learner import Agent, Learner
from agents.algorithms.core.returns import gae
from agents.algorithms.lola_dice.config import LOLADiCEConfig
from agents.algorithms.lola_dice.estimator import (
    Params,
    centre_over_batch,
    dice_objective,
    loaded_dice_objective,
    naive_step,
)
from agents.algorithms.lola_dice.networks import (
    LOLADiCENetwork,
    check_action_space,
    rollout_policy,
)
from agents.nn import NetworkPolicy
from agents.policy import Policy
from agents.rollout import Trajectory, rollout
from agents.seeding import derive_seed

#: purpose keys of :func:`derive_seed` (the first rollout of an iteration uses 0, as every
#: learner's ``collect``)
_IMAGINED_ROLLOUT = 1
_OPPONENT_MODEL_INIT = 2


class LOLADiCELearner(Learner):
    """LOLA-DiCE (see the module docstring), on the learner protocol.

    Args:
        config: a :class:`LOLADiCEConfig`.
        opponent: a fixed policy for seat 1; needs ``opponent_model`` (LOLA looks ahead through
            the opponent's parameters, which a fixed policy does not expose: the agent looks
            ahead through its behaviour-cloned model instead).

    """

    config_class: ClassVar[type[LearnerConfig]] = LOLADiCEConfig
    config: LOLADiCEConfig
    #: categorical policies only
    discrete_actions_only: ClassVar[bool] = True

    def __init__(self, config: LOLADiCEConfig, opponent: Policy | None = None) -> None:
        if opponent is not None and not config.opponent_model:
            raise ValueError(
                "LOLA-DiCE looks ahead through the opponent's parameters, which a fixed "
                "opponent policy does not have; set opponent_model=True to look ahead through "
                "a behaviour-cloned model of it"
            )
        if config.opponent_model and config.self_play:
            raise ValueError("opponent_model needs two learners or a fixed opponent, not self_play")
        super().__init__(config, opponent)
        check_action_space(self.action_space)
        # the imagined rollouts' players: scratch networks holding detached lookahead values
        with torch.random.fork_rng(devices=[]):
            self._players = [self.make_network().requires_grad_(False) for _ in range(2)]
            torch.manual_seed(derive_seed(config.seed, _OPPONENT_MODEL_INIT))
            #: with opponent_model, agent i's model of the player in the other seat
            self.models: list[Agent] = (
                [self._make_model(agent) for agent in self.agents] if config.opponent_model else []
            )
        self._player_policies = [
            rollout_policy(network, f"imagined_{seat}")
            for seat, network in enumerate(self._players)
        ]
        self._rollout_policies = [rollout_policy(a.network, a.policy.name) for a in self.agents]

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def build_policy_network(
        cls,
        config: LearnerConfig,
        observation_space: spaces.Space,
        action_space: spaces.Space,
    ) -> LOLADiCENetwork:
        """The network a LOLA-DiCE checkpoint's weights fit (used by ``load_policy``)."""
        assert isinstance(config, LOLADiCEConfig)
        return LOLADiCENetwork(observation_space, action_space, config)

    def _optimizer(self, parameters: list[nn.Parameter], lr: float) -> torch.optim.Optimizer:
        if self.config.optimizer == "adam":
            return torch.optim.Adam(parameters, lr=lr)
        return torch.optim.SGD(parameters, lr=lr)

    def _split(self, network: LOLADiCENetwork) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
        params = dict(network.named_parameters())
        policy = [params[n] for n in network.policy_names()]
        return policy, [params[n] for n in network.value_names()]

    def make_agent(self, seats: tuple[int, ...]) -> Agent:
        """Network, the outer step's optimizer (policy), the value function's, and the policy."""
        network = self.make_network()
        policy_params, value_params = self._split(network)
        name = "lola_dice" if len(seats) == 2 else f"lola_dice_{seats[0]}"
        return Agent(
            network=network,
            optimizer=self._optimizer(policy_params, self.config.lr),
            target=None,
            seats=seats,
            policy=NetworkPolicy(network, name=name),
            critic_optimizer=self._optimizer(value_params, self.config.lr_value),
        )

    def _make_model(self, agent: Agent) -> Agent:
        """A model of the player opposite ``agent``: SGD at ``lr_om`` on its policy and values."""
        network = self.make_network()
        policy_params, value_params = self._split(network)
        seat = 1 - agent.seats[0]
        return Agent(
            network=network,
            optimizer=torch.optim.SGD(policy_params, lr=self.config.lr_om),
            target=None,
            seats=(seat,),
            policy=NetworkPolicy(network, name=f"model_of_{seat}"),
            critic_optimizer=torch.optim.SGD(value_params, lr=self.config.lr_om),
        )

    # ---- rollouts -----------------------------------------------------------------------------
    def collect(self) -> Trajectory:
        """Play one episode per game with the current policies (tabular ones in NumPy)."""
        fast = dict(zip((id(a) for a in self.agents), self._rollout_policies, strict=True))
        seat_0 = fast[id(self.agent_for_seat(0))]
        seat_1 = self.opponent if self.opponent is not None else fast[id(self.agent_for_seat(1))]
        seed = derive_seed(self.config.seed, self.iteration, 0)
        return rollout(self.env, [seat_0, seat_1], seed=seed)

    # ---- objectives ---------------------------------------------------------------------------
    def policy_and_values(
        self, params: Params, trajectory: Trajectory, seat: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``log pi(.|h_t)`` ``(T, B, A)`` and values ``(T + 1, B)`` of ``seat`` under ``params``.

        One pass over the observations with the observation after the last step appended
        (it continues the episode), so the last value, of the final state, bootstraps the end.
        """
        observations = torch.cat(
            [trajectory.observations[:, :, seat], trajectory.next_observations[None, :, seat]]
        )
        starts = torch.cat(
            [trajectory.episode_starts, torch.zeros_like(trajectory.episode_starts[:1])]
        )
        log_pi, values = functional_call(self._players[0], params, (observations, starts))
        return log_pi[:-1], values

    def _evaluate(
        self, params: Params, trajectory: Trajectory, seat: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Seat ``seat``'s action log-probs, values, next values, mean entropy under ``params``."""
        log_pi, values = self.policy_and_values(params, trajectory, seat)
        return self._split_evaluation(log_pi, values, trajectory, seat)

    @staticmethod
    def _split_evaluation(
        log_pi: torch.Tensor, values: torch.Tensor, trajectory: Trajectory, seat: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Log-probs of the played actions, values, next values, entropy from one pass."""
        actions = trajectory.actions[:, :, seat].long()
        log_probs = log_pi.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        entropy = -(log_pi.exp() * log_pi).sum(-1).mean()
        return log_probs, values[:-1], values[1:], entropy

    def seat_objective(
        self, trajectory: Trajectory, seat: int, params: dict[int, Params]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The DiCE objective of the player in ``seat`` and its policy's mean entropy.

        ``params[k]`` are the parameters of the player in seat ``k``; both players'
        log-probabilities enter the objective, so it is differentiable in both.
        """
        own_lp, values, next_values, entropy = self._evaluate(params[seat], trajectory, seat)
        other_lp, _, _, _ = self._evaluate(params[1 - seat], trajectory, 1 - seat)
        objective = self.objective_from(trajectory, seat, own_lp, other_lp, values, next_values)
        return objective, entropy

    def objective_from(
        self,
        trajectory: Trajectory,
        seat: int,
        own_log_probs: torch.Tensor,
        other_log_probs: torch.Tensor,
        values: torch.Tensor,
        next_values: torch.Tensor,
    ) -> torch.Tensor:
        """The DiCE objective of ``seat`` from both players' ``(T, B)`` action log-probs.

        ``values`` and ``next_values`` (``(T, B)``, detached here) are read by the critic
        baseline only.
        """
        c = self.config
        rewards = self.training_rewards(trajectory)[..., seat]
        if c.baseline == "critic":
            advantages = gae(
                rewards,
                values.detach(),
                next_values.detach(),
                trajectory.dones,
                c.gamma,
                c.gae_lambda,
                terminals=torch.zeros_like(trajectory.dones),
            )
            return loaded_dice_objective(advantages, own_log_probs, other_log_probs, c.gamma)
        if c.baseline == "batch_mean":
            rewards = centre_over_batch(rewards)
        return dice_objective(rewards, own_log_probs, other_log_probs, c.gamma)

    def imagined_rollout(self, params: dict[int, Params], seed: int) -> Trajectory:
        """Play one episode per game with the (detached) parameters of each seat's player."""
        with torch.no_grad():
            for seat, network in enumerate(self._players):
                for name, value in network.named_parameters():
                    value.copy_(params[seat][name])
        return rollout(self.env, self._player_policies, seed=seed).to(self.device)

    def _opponent_start(self, index: int, seat: int, own: Params) -> Params:
        """The parameters the lookahead starts the opponent of agent ``index`` in ``seat`` from.

        Self-play: a copy of the agent's own that stays in the graph (the imagined opponent is
        the agent); otherwise the true opponent's or the model's, as new leaves.
        """
        if self.config.self_play:
            return {name: value.clone() for name, value in own.items()}
        if self.models:
            network = self.models[index].network
        else:
            network = self.agent_for_seat(1 - seat).network
        return {name: p.detach().requires_grad_(True) for name, p in network.named_parameters()}

    def outer_objective(
        self, index: int, first: Trajectory
    ) -> tuple[torch.Tensor, dict[str, float], Params]:
        """Agent ``index``'s outer objective through the lookahead, its statistics, its params.

        ``first`` is the iteration's first rollout (the current policies' games).
        """
        c = self.config
        agent = self.agents[index]
        own = dict(agent.network.named_parameters())
        policy_names = agent.network.policy_names()
        objectives, entropies, shifts = [], [], []
        for seat in agent.seats:
            other = 1 - seat
            opponent = self._opponent_start(index, seat, own)
            start = {name: opponent[name].detach() for name in policy_names}
            trajectory = first
            steps = c.inner_steps if c.lr_inner > 0 else 0
            for step in range(steps):
                if step > 0 or self.models:
                    seed = derive_seed(c.seed, self.iteration, _IMAGINED_ROLLOUT, index, seat, step)
                    trajectory = self.imagined_rollout({seat: own, other: opponent}, seed)
                inner, _ = self.seat_objective(trajectory, other, {seat: own, other: opponent})
                moved = naive_step(inner, {n: opponent[n] for n in policy_names}, c.lr_inner)
                opponent = {**opponent, **moved}
            if steps > 0 or self.models:
                seed = derive_seed(c.seed, self.iteration, _IMAGINED_ROLLOUT, index, seat, steps)
                trajectory = self.imagined_rollout({seat: own, other: opponent}, seed)
            objective, entropy = self.seat_objective(trajectory, seat, {seat: own, other: opponent})
            objectives.append(objective)
            entropies.append(entropy)
            shifts.append(
                torch.stack([(opponent[n].detach() - start[n]).norm() for n in policy_names])
                .norm()
                .item()
            )
        objective = torch.stack(objectives).mean()
        entropy = torch.stack(entropies).mean()
        stats = {
            "policy_loss": -float(objective.detach()),
            "entropy": float(entropy.detach()),
            "lookahead_shift": float(np.mean(shifts)),
        }
        return objective + c.ent_coef * entropy, stats, own

    # ---- the update ---------------------------------------------------------------------------
    def fit_values(self, agent: Agent, trajectory: Trajectory, steps: int) -> float:
        """``steps`` regressions of ``agent``'s values on its seats' bootstrapped returns.

        Returns the loss before the last step (with ``steps`` 0: the loss, without a step).
        """
        assert agent.critic_optimizer is not None
        for step in range(max(1, steps)):
            params = dict(agent.network.named_parameters())
            losses = []
            for seat in agent.seats:
                _, values, next_values, _ = self._evaluate(params, trajectory, seat)
                rewards = self.training_rewards(trajectory)[..., seat]
                with torch.no_grad():
                    returns = values + gae(
                        rewards,
                        values,
                        next_values,
                        trajectory.dones,
                        self.config.gamma,
                        1.0,
                        terminals=torch.zeros_like(trajectory.dones),
                    )
                losses.append(F.mse_loss(values, returns))
            loss = torch.stack(losses).mean()
            if step < steps:
                agent.critic_optimizer.zero_grad(set_to_none=True)
                loss.backward()
                agent.critic_optimizer.step()
        return float(loss.detach())

    def fit_model(self, model: Agent, trajectory: Trajectory) -> float:
        """``om_updates`` behaviour-cloning steps of ``model`` on its seat's actions.

        The loss is the mean negative log-likelihood of the modelled player's actions; returns
        it before the last step (with ``om_updates`` 0: the loss, without a step).
        """
        seat, steps = model.seats[0], self.config.om_updates
        for step in range(max(1, steps)):
            params = dict(model.network.named_parameters())
            log_probs, _, _, _ = self._evaluate(params, trajectory, seat)
            loss = -log_probs.mean()
            if step < steps:
                model.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                model.optimizer.step()
        return float(loss.detach())

    def update(self, trajectory: Trajectory) -> dict[str, float]:
        """Values and models, then every agent's outer gradient, then every agent's step."""
        c = self.config
        trajectory = trajectory.to(self.device)
        stats: dict[str, list[float]] = defaultdict(list)
        for agent in self.agents:
            stats["value_loss"].append(self.fit_values(agent, trajectory, c.value_updates))
        for model in self.models:
            stats["om_loss"].append(self.fit_model(model, trajectory))
            stats["om_value_loss"].append(self.fit_values(model, trajectory, c.om_updates))
        gradients = []
        for index, agent in enumerate(self.agents):
            objective, agent_stats, own = self.outer_objective(index, trajectory)
            names = agent.network.policy_names()
            grads = torch.autograd.grad(objective, [own[n] for n in names])
            gradients.append(grads)
            for name, value in agent_stats.items():
                stats[name].append(value)
        # every agent steps from the parameters all of them had when the iteration began
        for agent, grads in zip(self.agents, gradients, strict=True):
            policy_params, _ = self._split(agent.network)
            for param, grad in zip(policy_params, grads, strict=True):
                param.grad = -grad.detach()  # the optimizers descend; the objective ascends
            if c.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(policy_params, c.max_grad_norm)
            agent.optimizer.step()
            agent.optimizer.zero_grad(set_to_none=True)
        metrics = {name: float(np.mean(values)) for name, values in stats.items()}
        # the reference's logged score: (1 - gamma) x the discounted return, per seat
        weights = c.gamma ** torch.arange(trajectory.num_steps, dtype=torch.float32)
        discounted = (trajectory.rewards.cpu() * weights[:, None, None]).sum(0).mean(0)
        for seat in (0, 1):
            metrics[f"normalised_return_{seat}"] = float((1 - c.gamma) * discounted[seat])
        return metrics

    # ---- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The base learner's state plus the opponent models (networks and optimizers)."""
        state = super().state_dict()
        if self.models:
            state["opponent_models"] = [
                {
                    "network": model.network.state_dict(),
                    "optimizer": model.optimizer.state_dict(),
                    "critic_optimizer": model.critic_optimizer.state_dict(),  # type: ignore[union-attr]
                }
                for model in self.models
            ]
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        super().load_state_dict(state)
        saved = state.get("opponent_models", [])
        if self.models and len(saved) != len(self.models):
            raise ValueError(
                f"state holds {len(saved)} opponent models, this learner has {len(self.models)}"
            )
        for model, entry in zip(self.models, saved, strict=False):
            model.network.load_state_dict(entry["network"])
            model.optimizer.load_state_dict(entry["optimizer"])
            model.critic_optimizer.load_state_dict(entry["critic_optimizer"])  # type: ignore[union-attr]


__all__ = ["LOLADiCELearner"]
