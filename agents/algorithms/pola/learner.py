"""POLA-DiCE: Proximal Learning with Opponent-Learning Awareness on sampled episodes.

Zhao, Lu, Grosse and Foerster, "Proximal Learning With Opponent-Learning Awareness" (NeurIPS
2022); reference code ``Silent-Zebra/POLA@b248b52`` (``jax_files/POLA_dice_jax.py``). Built on
:class:`~agents.algorithms.lola_dice.LOLADiCELearner`: the same networks, DiCE objectives,
imagined rollouts and differentiable steps, with proximal inner and outer problems.

One update (iteration). At its start every agent's parameters are frozen as the reference
``theta^old`` (policy and values). Then, for each agent ``i`` (seat ``s``, the other agent ``o``
in seat ``1 - s``), with its outer optimizer restarted (the reference builds a fresh Adam
state at every update), ``outer_steps`` times:

1. the opponent starts from its frozen ``theta_o^old`` and takes ``inner_steps`` imagined SGD
   steps ``theta_o' <- theta_o' + lr_inner grad [L_o(theta_i, theta_o') - beta_inner
   KL(pi_o^old || pi_o')]``, each on a **fresh rollout** of ``(theta_i, theta_o')`` with the
   KL over the opponent's states (histories) of that rollout; the steps stay in the autograd
   graph (:func:`~agents.algorithms.pola.estimator.proximal_step`), so ``theta_o'`` is a
   function of ``theta_i``. Its values take an SGD step at ``lr_value`` on each rollout (the
   advantages of its next imagined step read them);
2. a **fresh rollout** of ``(theta_i, theta_o')``; the agent's objective ``L_i(theta_i,
   theta_o'(theta_i)) - beta_outer KL(pi_i^old || pi_i)`` over its states of that rollout; its
   gradient (through the imagined steps) moves ``theta_i`` by one optimizer step at ``lr``, and
   the values take one step on the same rollout at ``lr_value`` (jointly trained values).

Every agent's updates start from the frozen parameters of both (simultaneous updates, as the
reference). ``L`` is loaded DiCE with GAE advantages (``baseline="critic"``, the reference's
default) or plain DiCE. With ``beta_inner = beta_outer = 0`` and ``outer_steps = 1`` this is
LOLA-DiCE with fresh rollouts. Two learning agents only (no self-play, no fixed opponent, no
opponent model).
"""

from __future__ import annotations

from collections import defaultdict
from typing import ClassVar

import numpy as np
import torch

from agents.algorithms.core.config import LearnerConfig
from agents.algorithms.core.learner import Agent
from agents.algorithms.lola_dice.estimator import Params
from agents.algorithms.lola_dice.learner import LOLADiCELearner
from agents.algorithms.pola.config import POLAConfig
from agents.algorithms.pola.estimator import kl_divergence, proximal_step, value_loss
from agents.policy import Policy
from agents.rollout import Trajectory
from agents.seeding import derive_seed

#: purpose key of :func:`derive_seed` for POLA's rollouts (LOLA-DiCE's use 0 to 2)
_POLA_ROLLOUT = 3


class POLALearner(LOLADiCELearner):
    """POLA-DiCE (see the module docstring), on the learner protocol.

    Args:
        config: a :class:`POLAConfig`.
        opponent: must be None: POLA looks ahead through the other learner's parameters.

    """

    config_class: ClassVar[type[LearnerConfig]] = POLAConfig
    config: POLAConfig

    def __init__(self, config: POLAConfig, opponent: Policy | None = None) -> None:
        if opponent is not None:
            raise ValueError(
                "pola trains two learners that look ahead through each other's parameters; a "
                "fixed opponent policy has none (POLA-OM, which models it, is not implemented)"
            )
        super().__init__(config, opponent)

    def make_agent(self, seats: tuple[int, ...]) -> Agent:
        """LOLA-DiCE's agent (network, policy and value optimizers), named ``pola_<seat>``."""
        agent = super().make_agent(seats)
        agent.policy.name = f"pola_{seats[0]}"
        return agent

    # ---- the proximal objectives --------------------------------------------------------------
    def proximal_objective(
        self,
        trajectory: Trajectory,
        seat: int,
        params: dict[int, Params],
        reference: Params,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Seat ``seat``'s DiCE objective, its KL from ``reference``, its value loss, entropy.

        The KL is ``KL(pi_reference || pi_params[seat])`` over the seat's states of
        ``trajectory`` (each step's history, as the policy sees it); the value loss is that of
        ``params[seat]``'s values on the seat's rewards.
        """
        own_log_pi, values = self.policy_and_values(params[seat], trajectory, seat)
        own_lp, values, next_values, entropy = self._split_evaluation(
            own_log_pi, values, trajectory, seat
        )
        other_lp, _, _, _ = self._evaluate(params[1 - seat], trajectory, 1 - seat)
        objective = self.objective_from(trajectory, seat, own_lp, other_lp, values, next_values)
        with torch.no_grad():
            reference_log_pi, _ = self.policy_and_values(reference, trajectory, seat)
        kl = kl_divergence(reference_log_pi, own_log_pi)
        rewards = self.training_rewards(trajectory)[..., seat]
        values_loss = value_loss(values, next_values, rewards, trajectory.dones, self.config.gamma)
        return objective, kl, values_loss, entropy

    def lookahead(
        self, index: int, seat: int, own: Params, opponent_start: Params, outer_step: int
    ) -> tuple[Params, float]:
        """The opponent's imagined proximal steps against ``own``; its params and mean KL.

        ``opponent_start`` holds the frozen parameters the opponent starts from and is pulled
        towards; the returned policy parameters are functions of ``own`` (autograd graph).
        """
        c = self.config
        other = 1 - seat
        agent = self.agents[index]
        policy_names = agent.network.policy_names()
        value_names = agent.network.value_names()
        opponent = {
            name: value.clone().requires_grad_(True) for name, value in opponent_start.items()
        }
        kls = []
        for step in range(c.inner_steps):
            seed = derive_seed(c.seed, self.iteration, _POLA_ROLLOUT, index, outer_step, step)
            trajectory = self.imagined_rollout({seat: own, other: opponent}, seed)
            objective, kl, values_loss, _ = self.proximal_objective(
                trajectory, other, {seat: own, other: opponent}, opponent_start
            )
            kls.append(float(kl.detach()))
            moved = proximal_step(
                objective, kl, {n: opponent[n] for n in policy_names}, c.lr_inner, c.beta_inner
            )
            value_grads = torch.autograd.grad(values_loss, [opponent[n] for n in value_names])
            stepped = {
                name: (opponent[name] - c.lr_value * grad).detach().requires_grad_(True)
                for name, grad in zip(value_names, value_grads, strict=True)
            }
            opponent = {**opponent, **moved, **stepped}
        return opponent, float(np.mean(kls))

    # ---- the update ---------------------------------------------------------------------------
    def outer_step(self, index: int, outer_step: int, frozen: list[Params]) -> dict[str, float]:
        """One step of agent ``index``'s proximal problem (policy and values); its statistics.

        ``frozen[k]`` are agent ``k``'s parameters at the start of the update.
        """
        c = self.config
        agent = self.agents[index]
        (seat,) = agent.seats
        other = 1 - seat
        own = dict(agent.network.named_parameters())
        opponent_start = frozen[1 - index]
        opponent, inner_kl = self.lookahead(index, seat, own, opponent_start, outer_step)
        seed = derive_seed(c.seed, self.iteration, _POLA_ROLLOUT, index, outer_step, c.inner_steps)
        trajectory = self.imagined_rollout({seat: own, other: opponent}, seed)
        objective, kl, values_loss, entropy = self.proximal_objective(
            trajectory, seat, {seat: own, other: opponent}, frozen[index]
        )
        target = objective - c.beta_outer * kl + c.ent_coef * entropy
        policy_params = [own[n] for n in agent.network.policy_names()]
        value_params = [own[n] for n in agent.network.value_names()]
        policy_grads = torch.autograd.grad(target, policy_params)
        value_grads = torch.autograd.grad(values_loss, value_params)
        for param, grad in zip(policy_params, policy_grads, strict=True):
            param.grad = -grad.detach()  # the optimizers descend; the objective ascends
        if c.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(policy_params, c.max_grad_norm)
        for param, grad in zip(value_params, value_grads, strict=True):
            param.grad = grad.detach()
        agent.optimizer.step()
        agent.critic_optimizer.step()  # type: ignore[union-attr]
        agent.optimizer.zero_grad(set_to_none=True)
        agent.critic_optimizer.zero_grad(set_to_none=True)  # type: ignore[union-attr]
        shift = torch.stack(
            [
                (opponent[n].detach() - opponent_start[n]).norm()
                for n in agent.network.policy_names()
            ]
        ).norm()
        return {
            "policy_loss": -float(objective.detach()),
            "kl_outer": float(kl.detach()),
            "kl_inner": inner_kl,
            "value_loss": float(values_loss.detach()),
            "entropy": float(entropy.detach()),
            "lookahead_shift": float(shift),
        }

    def update(self, trajectory: Trajectory) -> dict[str, float]:
        """Every agent's ``outer_steps`` proximal steps from the parameters all had at the start.

        ``trajectory`` (the current policies' games) gives the logged scores only: every step
        plays its own fresh rollouts.
        """
        c = self.config
        frozen = [
            {name: p.detach().clone() for name, p in agent.network.named_parameters()}
            for agent in self.agents
        ]
        stats: dict[str, list[float]] = defaultdict(list)
        for index, agent in enumerate(self.agents):
            for optimizer in agent.optimizers():
                optimizer.state.clear()  # a fresh optimizer state per update, as the reference
            for step in range(c.outer_steps):
                step_stats = self.outer_step(index, step, frozen)
                for name, value in step_stats.items():
                    stats[name].append(value)
            # the statistics of the last outer step: how far the update went
            stats["kl_outer_final"].append(step_stats["kl_outer"])
        metrics = {name: float(np.mean(values)) for name, values in stats.items()}
        # the reference's logged score: (1 - gamma) x the discounted return, per seat
        weights = c.gamma ** torch.arange(trajectory.num_steps, dtype=torch.float32)
        discounted = (trajectory.rewards.cpu() * weights[:, None, None]).sum(0).mean(0)
        for seat in (0, 1):
            metrics[f"normalised_return_{seat}"] = float((1 - c.gamma) * discounted[seat])
        return metrics


__all__ = ["POLALearner"]
