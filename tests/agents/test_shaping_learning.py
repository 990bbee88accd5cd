"""Short learning checks: the shaping terms change the IPD policy gradient the way the papers say.

Self-play of LOQA's IPD actor (5x2 tabular logits, zero-initialised: every action at 1/2) on
``ipd_v0`` (T = 50, gamma = 0.96), 1024 sampled episodes. To keep the check about the
estimators and not about critic fitting, values and Q-values are the exact finite-horizon ones
of the current policy (computed below by backward induction over the 50 steps). The naive
policy gradient makes cooperation after mutual cooperation less likely (defection dominates
against a random opponent); the Advantage Alignment and LOQA terms make it more likely, which is
what would fail if either shaping term were dropped.
"""

from __future__ import annotations

import numpy as np
import torch

import socialdilemmas
from agents.algorithms.loqa_parts import loqa_actor_loss, loqa_opponent_log_probs, td0_advantages
from agents.policy import Policy
from agents.rollout import Trajectory, rollout
from agents.shaping import aa_policy_loss, aligned_advantages
from socialdilemmas.matrix.exact import exact_values
from socialdilemmas.matrix.payoffs import payoff_table

torch.set_num_threads(1)

GAMMA = 0.96
CC, CD, DC = 0, 1, 2  # observation indices, own action first
SWAP = [0, 2, 1, 3, 4]  # the other player's view of each observation


class TabularPolicy(Policy):
    """Samples from softmax(logits[observation index]); seeded torch generator."""

    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits
        self.generator = torch.Generator()

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        self.generator.manual_seed(0 if seed is None else seed)

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        return self.act_with_log_probs(observations, episode_starts)[0]

    def act_with_log_probs(self, observations, episode_starts):
        log_probs = torch.log_softmax(self.logits.detach()[observations.argmax(1)], -1)
        actions = torch.multinomial(log_probs.exp(), 1, generator=self.generator).squeeze(1)
        return actions.numpy(), log_probs.gather(1, actions[:, None]).squeeze(1)


def finite_horizon_tables(p_cooperate: torch.Tensor, steps: int) -> tuple[torch.Tensor, ...]:
    """Self-play values ``W[t, obs]`` (rewards from step t on) and ``Q[t, obs, action]``."""
    table, _ = payoff_table("ipd")
    reward = torch.as_tensor(table[..., 0], dtype=torch.float64)  # [own action, other action]
    p = p_cooperate.double()
    p_other = p[SWAP]  # the other player's P(cooperate) at its view of each observation
    values = torch.zeros(steps + 1, 5, dtype=torch.float64)
    q_values = torch.zeros(steps, 5, 2, dtype=torch.float64)
    for t in range(steps - 1, -1, -1):
        after = reward + GAMMA * values[t + 1, :4].reshape(2, 2)  # joint index 2*own + other
        q_values[t] = p_other[:, None] * after[:, 0] + (1 - p_other[:, None]) * after[:, 1]
        values[t] = p * q_values[t, :, 0] + (1 - p) * q_values[t, :, 1]
    return values.float(), q_values.float()


def test_finite_horizon_helper_matches_exact_values() -> None:
    p = torch.tensor([0.9, 0.2, 0.7, 0.1, 0.6])
    values, _ = finite_horizon_tables(p, 600)  # gamma^600 ~ 2e-11: the infinite horizon
    exact = exact_values(p.double(), p.double(), "ipd", GAMMA)
    assert abs(values[0, 4].item() - exact[0].item()) < 1e-3


def _play(logits: torch.Tensor, seed: int = 0) -> Trajectory:
    policy = TabularPolicy(logits)
    env = socialdilemmas.make_vec("ipd_v0", 1024, copy=False)
    return rollout(env, [policy, policy], seed=seed)


def _gradients(logits: torch.Tensor, beta: float, weight: float) -> tuple[torch.Tensor, ...]:
    """Gradients of the naive, AA and LOQA actor losses, both seats as the learner."""
    traj = _play(logits)
    steps = traj.num_steps
    values, q_values = finite_horizon_tables(torch.softmax(logits.detach(), -1)[:, 0], steps)
    index = torch.cat([traj.observations, traj.next_observations[None]]).argmax(-1)  # T+1,B,2
    time = torch.arange(steps + 1)[:, None, None].expand_as(index)
    v = values[time, index]
    q = q_values[time[:-1], index[:-1]]
    naive, aa, loqa = [], [], []
    for seat in (0, 1):
        other = 1 - seat
        a1 = td0_advantages(traj.rewards[..., seat], v[..., seat], GAMMA, traj.dones)
        a2 = td0_advantages(traj.rewards[..., other], v[..., other], GAMMA, traj.dones)
        log_probs = (
            torch.log_softmax(logits[index[:-1, :, seat]], -1)
            .gather(-1, traj.actions[..., seat, None])
            .squeeze(-1)
        )
        naive.append(aa_policy_loss(log_probs, a1))
        aligned = aligned_advantages(a1, a2, beta, GAMMA, traj.episode_starts)
        aa.append(aa_policy_loss(log_probs, aligned))
        op_log_probs = loqa_opponent_log_probs(
            log_probs,
            traj.rewards[..., other],
            v[:-1, :, other],
            q[:, :, other],
            traj.actions[..., other],
            GAMMA,
            lambda_d=0.9,
            dones=traj.dones,
        )
        loqa.append(loqa_actor_loss(log_probs, op_log_probs, a1, opponent_weight=weight).loss)
    losses = [sum(parts) / 2 for parts in (naive, aa, loqa)]
    return tuple(torch.autograd.grad(loss, logits, retain_graph=True)[0] for loss in losses)


def test_shaping_terms_raise_cooperation_after_mutual_cooperation() -> None:
    logits = torch.zeros(5, 2, requires_grad=True)
    grads = _gradients(logits, beta=3.0, weight=1.0)
    lr = 1.0
    p_before = torch.softmax(logits.detach(), -1)[:, 0]
    naive, aa, loqa = (torch.softmax(logits.detach() - lr * g, -1)[:, 0] for g in grads)
    # the naive gradient learns to defect after CC; both shaping terms reverse that
    assert naive[CC] < p_before[CC] - 0.01
    assert aa[CC] > p_before[CC] + 0.01
    assert loqa[CC] > p_before[CC] + 0.005
    # and both push toward reciprocity: retaliate after CD, return to cooperation after DC
    for shaped in (aa, loqa):
        assert shaped[CD] < naive[CD]
        assert shaped[DC] > p_before[DC] > naive[DC]
