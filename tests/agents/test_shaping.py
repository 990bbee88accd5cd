"""Opponent-shaping estimators (AA, PAA, LOQA) and the shared losses, against hand values.

Layout: tensors are time-major ``(T, B)``. Episode-boundary semantics: ``episode_starts[t]``
opens an episode at step ``t`` and ``dones[t]`` closes one after step ``t``; the AA past-advantage
sums restart at an episode start, LOQA's returns and corrections stop at a done, and a done
before the batch's last row is terminal (its final observation is not in the rollout).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from agents.algorithms.advantage_alignment.estimator import aligned_advantages
from agents.algorithms.core.losses import policy_gradient_loss, polyak_update, ppo_clipped_loss
from agents.algorithms.core.replay import AgentReplayBuffer
from agents.algorithms.core.returns import (
    discounted_returns,
    normalize_advantages,
    td0_advantages,
)
from agents.algorithms.loqa.estimator import (
    differentiable_loaded_dice_returns,
    differentiable_opponent_log_probs,
    differentiable_opponent_q,
    log_softmax_stop_grad_normalizer,
    loqa_actor_loss,
    loqa_opponent_log_probs,
    opponent_log_probs,
    q_critic_loss,
    q_critic_targets,
)

torch.set_num_threads(1)


def col(*values: float) -> torch.Tensor:
    """A (T, 1) column."""
    return torch.tensor(values, dtype=torch.float32)[:, None]


# ---------------------------------------------------------------- aligned advantages


def test_aligned_advantage_paper_form_three_steps() -> None:
    # S_0 = 0, S_1 = g*A1_0 = .5, S_2 = g*(S_1 + A1_1) = .5*(.5 + 2) = 1.25
    # A*_t = A1_t + beta*g*S_t*A2_t: [1, 2 + .5*.5*(-1), 3 + .5*1.25*2]
    a1, a2 = col(1, 2, 3), col(0.5, -1, 2)
    out = aligned_advantages(a1, a2, beta=1.0, gamma=0.5)
    torch.testing.assert_close(out, col(1.0, 1.75, 4.25))


def test_aligned_advantage_code_form_three_steps() -> None:
    # running mean of the earlier A1: M = [0, 1, 1.5]; A* = [1, 2 + 1*(-1), 3 + 1.5*2]
    a1, a2 = col(1, 2, 3), col(0.5, -1, 2)
    out = aligned_advantages(a1, a2, beta=1.0, gamma=0.5, running_mean=True)
    torch.testing.assert_close(out, col(1.0, 1.0, 6.0))


def test_aligned_advantage_restarts_at_episode_start() -> None:
    # column 0: episodes [0, 1] and [2, 3]; column 1: one episode (the same numbers)
    a1 = torch.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]])
    a2 = torch.ones(4, 2)
    starts = torch.tensor([[True, True], [False, False], [True, False], [False, False]])
    paper = aligned_advantages(a1, a2, beta=1.0, gamma=0.5, episode_starts=starts)
    # col 0: S = [0, .5, 0, 1.5] -> [1, 2.25, 3, 4.75]
    # col 1: S = [0, .5, 1.25, 2.125] -> [1, 2.25, 3.625, 5.0625]
    torch.testing.assert_close(paper[:, 0], torch.tensor([1.0, 2.25, 3.0, 4.75]))
    torch.testing.assert_close(paper[:, 1], torch.tensor([1.0, 2.25, 3.625, 5.0625]))
    code = aligned_advantages(a1, a2, beta=1.0, gamma=0.5, episode_starts=starts, running_mean=True)
    # col 0: M = [0, 1, 0, 3]; col 1: M = [0, 1, 1.5, 2]
    torch.testing.assert_close(code[:, 0], torch.tensor([1.0, 3.0, 3.0, 7.0]))
    torch.testing.assert_close(code[:, 1], torch.tensor([1.0, 3.0, 4.5, 6.0]))


@pytest.mark.parametrize("running_mean", [False, True])
def test_beta_zero_reduces_to_agent_advantage(running_mean: bool) -> None:
    gen = torch.Generator().manual_seed(0)
    a1, a2 = torch.randn(6, 3, generator=gen), torch.randn(6, 3, generator=gen)
    out = aligned_advantages(a1, a2, 0.0, 0.9, running_mean=running_mean)
    assert torch.equal(out, a1)


def test_normalize_option_normalises_both_advantages() -> None:
    a1, a2 = col(1, 2, 3), col(2, 4, 6)
    n1 = (a1 - 2.0) / (1.0 + 1e-8)  # mean 2, unbiased std 1
    n2 = (a2 - 4.0) / (2.0 + 1e-8)
    out = aligned_advantages(a1, a2, 1.0, 0.5, running_mean=True, normalize=True)
    torch.testing.assert_close(normalize_advantages(a1), n1)
    # M = [0, n1_0, (n1_0 + n1_1)/2] = [0, -1, -0.5]
    torch.testing.assert_close(out, n1 + torch.tensor([[0.0], [-1.0], [-0.5]]) * n2)


def test_aligned_advantage_is_detached() -> None:
    a1 = col(1, 2, 3).requires_grad_(True)
    assert not aligned_advantages(a1, col(1, 1, 1), 1.0, 0.9).requires_grad


def test_policy_gradient_loss_value_and_gradient() -> None:
    # the loss AA follows: -mean(A* log pi), whose gradient is -A* / n per element
    aligned = col(1.0, 1.75, 4.25)
    log_probs = col(-0.1, -0.2, -0.3).requires_grad_(True)
    loss = policy_gradient_loss(log_probs, aligned)
    torch.testing.assert_close(loss, torch.tensor((0.1 + 0.35 + 1.275) / 3))
    loss.backward()
    torch.testing.assert_close(log_probs.grad, -aligned / 3)


def test_running_mean_form_matches_the_reference_code_loss() -> None:
    # The eg code's loss_1 + aa_weight * loss_2, computed by hand:
    # loss_1 = -(1*-.1 + 2*-.2 + 3*-.3)/3 = 1.4/3
    # loss_2 = -mean_{t=1,2}(M_t A2_t lp_t) = -((1)(-1)(-.2) + (1.5)(2)(-.3))/2 = .35
    # which the running-mean A* reproduces with beta = aa_weight * T / (T - 1) over T steps.
    a1, a2 = col(1, 2, 3), col(0.5, -1, 2)
    log_probs = col(-0.1, -0.2, -0.3)
    aligned = aligned_advantages(a1, a2, 1.0 * 3 / 2, 0.0, running_mean=True)
    expected = torch.tensor(1.4 / 3 + 0.35)
    torch.testing.assert_close(policy_gradient_loss(log_probs, aligned), expected)


# ---------------------------------------------------------------- PPO and PAA


def test_ppo_clipped_loss_regions() -> None:
    eps = 0.2
    ratios = torch.tensor([[1.5, 0.5, 1.5, 0.5, 1.1]])
    adv = torch.tensor([[2.0, 2.0, -2.0, -2.0, 3.0]])
    old = torch.zeros_like(ratios)
    new = ratios.log().requires_grad_(True)
    loss = ppo_clipped_loss(new, old, adv, eps)
    # per element min(r A, clip(r) A): [1.2*2, .5*2, 1.5*-2, .8*-2, 1.1*3]
    expected = -torch.tensor([2.4, 1.0, -3.0, -1.6, 3.3]).mean()
    torch.testing.assert_close(loss, expected)
    loss.backward()
    # clipped elements (0 and 3) carry no gradient; others d/dlogp = -r A / n
    expected_grad = -torch.tensor([[0.0, 0.5 * 2, 1.5 * -2, 0.0, 1.1 * 3]]) / 5
    torch.testing.assert_close(new.grad, expected_grad)


def test_ppo_ratio_is_not_clamped() -> None:
    # a negative advantage keeps the unclipped branch: min(r A, 1.2 A) = r A with r = e^20
    new, old, adv = torch.tensor([[20.0]]), torch.tensor([[0.0]]), torch.tensor([[-1.0]])
    torch.testing.assert_close(ppo_clipped_loss(new, old, adv, 0.2), torch.tensor(math.exp(20)))


def test_ppo_loss_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        ppo_clipped_loss(torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(2, 3), 0.2)


# ---------------------------------------------------------------- LOQA


GAMMA, LAMBDA_D = 0.9, 0.8
OP_REWARDS, OP_VALUES = col(1, 2, 3), col(0.5, 0.5, 0.5)
# Monte Carlo returns: R2 = 3, R1 = 2 + .9*3 = 4.7, R0 = 1 + .9*4.7 = 5.23


def test_discounted_returns_with_done() -> None:
    torch.testing.assert_close(discounted_returns(OP_REWARDS, GAMMA), col(5.23, 4.7, 3.0))
    dones = torch.tensor([[False], [True], [False]])
    torch.testing.assert_close(discounted_returns(OP_REWARDS, GAMMA, dones), col(2.8, 2.0, 3.0))


def test_dice_returns_forward_is_monte_carlo_exactly() -> None:
    log_probs = col(-0.5, -0.7, -0.2).requires_grad_(True)
    out = differentiable_loaded_dice_returns(OP_REWARDS, log_probs, OP_VALUES, GAMMA, LAMBDA_D)
    assert torch.equal(out.detach(), discounted_returns(OP_REWARDS, GAMMA))


def test_dice_returns_gradient_flows_to_agent_log_probs_only() -> None:
    log_probs = col(-0.5, -0.7, -0.2).requires_grad_(True)
    rewards = OP_REWARDS.clone().requires_grad_(True)
    values = OP_VALUES.clone().requires_grad_(True)
    out = differentiable_loaded_dice_returns(rewards, log_probs, values, GAMMA, LAMBDA_D)
    g_lp, g_r, g_v = torch.autograd.grad(
        out[0, 0], (log_probs, rewards, values), allow_unused=True, retain_graph=True
    )
    assert g_r is None and g_v is None
    # d R^_0 / d lp_j = (g l)^j (R_j - V_j): [4.73, .72*4.2, .72^2*2.5]
    torch.testing.assert_close(g_lp, col(4.73, 0.72 * 4.2, 0.72**2 * 2.5))
    # and R^_1 does not depend on the earlier action a_0
    (g1,) = torch.autograd.grad(out[1, 0], log_probs)
    torch.testing.assert_close(g1, col(0.0, 4.2, 0.72 * 2.5))


def test_dice_returns_stop_at_episode_end() -> None:
    dones = torch.tensor([[False], [True], [False]])
    log_probs = col(-0.5, -0.7, -0.2).requires_grad_(True)
    out = differentiable_loaded_dice_returns(
        OP_REWARDS, log_probs, OP_VALUES, GAMMA, LAMBDA_D, dones
    )
    assert torch.equal(out.detach(), col(2.8, 2.0, 3.0))
    (g0,) = torch.autograd.grad(out[0, 0], log_probs, retain_graph=True)
    torch.testing.assert_close(g0, col(2.3, 0.72 * 1.5, 0.0))
    # the new episode's cumulative log-prob restarts: R^_2 depends on lp_2 only
    (g2,) = torch.autograd.grad(out[2, 0], log_probs)
    torch.testing.assert_close(g2, col(0.0, 0.0, 2.5))


def test_differentiable_opponent_q_excludes_the_simultaneous_action() -> None:
    log_probs = col(-0.5, -0.7, -0.2).requires_grad_(True)
    returns = differentiable_loaded_dice_returns(OP_REWARDS, log_probs, OP_VALUES, GAMMA, LAMBDA_D)
    q = differentiable_opponent_q(OP_REWARDS, returns, GAMMA)
    # value: r_t + g R_{t+1}, last r_T -> the MC returns again
    torch.testing.assert_close(q.detach(), col(5.23, 4.7, 3.0))
    (g0,) = torch.autograd.grad(q[0, 0], log_probs)
    # g * d R^_1 / d lp = .9 * [0, 4.2, .72*2.5]
    torch.testing.assert_close(g0, 0.9 * col(0.0, 4.2, 0.72 * 2.5))


def test_opponent_model_is_log_softmax_of_q_over_temperature() -> None:
    q = torch.tensor([[[1.0, 3.0, -2.0]]])
    expected = torch.log(torch.exp(q / 2.0) / torch.exp(q / 2.0).sum(-1, keepdim=True))
    torch.testing.assert_close(opponent_log_probs(q, 2.0), expected)
    torch.testing.assert_close(opponent_log_probs(q, 2.0, stop_grad_normalizer=True), expected)


def test_stop_grad_normalizer_gradient() -> None:
    x = torch.tensor([1.0, 3.0, -2.0], requires_grad=True)
    out = log_softmax_stop_grad_normalizer(x)
    torch.testing.assert_close(out.detach(), torch.log_softmax(x.detach(), -1))
    (g,) = torch.autograd.grad(out[1], x)
    torch.testing.assert_close(g, torch.tensor([0.0, 1.0, 0.0]))
    (g_full,) = torch.autograd.grad(torch.log_softmax(x, -1)[1], x)
    assert not torch.allclose(g_full, g)


@pytest.mark.parametrize("stop_grad", [False, True])
def test_opponent_log_prob_gradient_by_hand(stop_grad: bool) -> None:
    temperature = 2.0
    log_probs = col(-0.5, -0.7, -0.2).requires_grad_(True)
    op_q = torch.tensor([[[0.0, 1.0]], [[2.0, 0.0]], [[1.0, 1.0]]], requires_grad=True)
    op_actions = torch.tensor([[0], [1], [0]])
    out = loqa_opponent_log_probs(
        log_probs,
        OP_REWARDS,
        OP_VALUES,
        op_q,
        op_actions,
        GAMMA,
        LAMBDA_D,
        temperature,
        stop_grad_normalizer=stop_grad,
    )
    # t = 0: Q^ = [5.23 (taken, b=0), 1.0]; log pi^ = log_softmax(Q^/2)[0]
    p0 = 1.0 / (1.0 + math.exp((1.0 - 5.23) / temperature))
    assert out[0, 0].item() == pytest.approx(math.log(p0), rel=1e-5)
    g_lp, g_q = torch.autograd.grad(out[0, 0], (log_probs, op_q), allow_unused=True)
    assert g_q is None  # the opponent's critic is not differentiated
    # d log pi^ / d Q^_taken = (1 - p)/T (full) or 1/T (normaliser stopped); then d Q^ / d lp
    factor = (1.0 if stop_grad else 1.0 - p0) / temperature
    torch.testing.assert_close(g_lp, factor * 0.9 * col(0.0, 4.2, 0.72 * 2.5))


def test_differentiable_opponent_log_probs_keeps_other_actions_from_critic() -> None:
    op_q = torch.tensor([[[0.0, 1.0, 2.0]]])
    out = differentiable_opponent_log_probs(op_q, torch.tensor([[2]]), col(5.0))
    expected = torch.log_softmax(torch.tensor([0.0, 1.0, 5.0]), -1)[2]
    torch.testing.assert_close(out[0, 0], expected)


def test_td0_advantages_with_boundaries() -> None:
    rewards, values = col(1, 2, 3), col(10, 20, 30, 40)
    # A_t = r + .5 V_{t+1} - V_t = [1 + 10 - 10, 2 + 15 - 20, 3 + 20 - 30]
    torch.testing.assert_close(td0_advantages(rewards, values, 0.5), col(1.0, -3.0, -7.0))
    dones = torch.tensor([[False], [True], [True]])
    # mid-batch end is terminal; the last-row end bootstraps unless told not to
    torch.testing.assert_close(td0_advantages(rewards, values, 0.5, dones), col(1.0, -18.0, -7.0))
    no_boot = td0_advantages(rewards, values, 0.5, dones, bootstrap_at_done=False)
    torch.testing.assert_close(no_boot, col(1.0, -18.0, -27.0))


def test_loqa_actor_loss_by_hand() -> None:
    agent_lp = col(-0.1, -0.2).requires_grad_(True)
    op_lp = col(-0.3, -0.4).requires_grad_(True)
    adv = col(1.0, -2.0)
    entropy = col(0.5, 0.7)
    out = loqa_actor_loss(agent_lp, op_lp, adv, entropy, opponent_weight=0.5, entropy_coef=0.1)
    agent = -(-0.1 * 1.0 + -0.2 * -2.0) / 2  # -0.15
    opponent = -(-0.3 * 1.0 + -0.4 * -2.0) / 2  # -0.25
    assert out.agent.item() == pytest.approx(agent)
    assert out.opponent.item() == pytest.approx(opponent)
    assert out.loss.item() == pytest.approx(agent + 0.5 * opponent - 0.1 * 0.6)
    g_op = torch.autograd.grad(out.loss, op_lp)[0]
    torch.testing.assert_close(g_op, -0.5 * adv / 2)


def test_q_critic_targets_mean_and_argmax() -> None:
    rewards = col(1, 2, 3)
    actions = torch.tensor([[0], [1], [0]])
    target_q = torch.tensor([[[10.0, 20.0]], [[30.0, 40.0]], [[50.0, 60.0]], [[70.0, 80.0]]])
    probs = torch.full((4, 1, 2), 0.5)
    probs[-1, 0] = torch.tensor([0.25, 0.75])
    mean = q_critic_targets(rewards, actions, target_q, 0.5, target_probs=probs, mode="mean")
    # y0 = 1 + .5 Q(h1, a1=1) = 21; y1 = 2 + .5 Q(h2, a2=0) = 27; y2 = 3 + .5 (.25*70 + .75*80)
    torch.testing.assert_close(mean, col(21.0, 27.0, 41.75))
    argmax = q_critic_targets(rewards, actions, target_q, 0.5, mode="argmax")
    torch.testing.assert_close(argmax, col(21.0, 32.0, 43.0))
    dones = torch.tensor([[False], [True], [True]])
    cut = q_critic_targets(
        rewards, actions, target_q, 0.5, dones, probs, "mean", bootstrap_at_done=False
    )
    torch.testing.assert_close(cut, col(21.0, 2.0, 3.0))


def test_q_critic_huber_loss_by_hand() -> None:
    q = torch.tensor([[[21.5, 0.0]], [[0.0, 29.0]]], requires_grad=True)
    loss = q_critic_loss(q, torch.tensor([[0], [1]]), col(21.0, 27.0))
    # Huber(.5) = .125, Huber(2) = 1 * (2 - .5) = 1.5
    torch.testing.assert_close(loss, torch.tensor((0.125 + 1.5) / 2))
    (g,) = torch.autograd.grad(loss, q)
    torch.testing.assert_close(g, torch.tensor([[[0.25, 0.0]], [[0.0, 0.5]]]))


# ---------------------------------------------------------------- replay buffer, Polyak


def _module(value: float) -> nn.Module:
    layer = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        layer.weight.fill_(value)
    return layer


def test_agent_replay_buffer_capacity_order_and_push_every() -> None:
    buffer = AgentReplayBuffer(capacity=3, push_every=2)
    pushed = [buffer.maybe_push(_module(float(i)), iteration=i) for i in range(10)]
    assert pushed == [True, False] * 5
    assert len(buffer) == 3 and buffer.num_pushed == 5
    kept = [buffer.get(i)["weight"].item() for i in range(3)]
    assert kept == [4.0, 6.0, 8.0]  # the oldest (0, 2) were dropped


def test_agent_replay_buffer_snapshots_are_copies() -> None:
    module = _module(1.0)
    buffer = AgentReplayBuffer(capacity=2)
    buffer.push(module)
    with torch.no_grad():
        module.weight.fill_(5.0)
    assert buffer.get(0)["weight"].item() == 1.0


@pytest.mark.parametrize("kind", ["torch", "numpy"])
def test_agent_replay_buffer_sampling_reproducible(kind: str) -> None:
    buffer = AgentReplayBuffer(capacity=10)
    for i in range(10):
        buffer.push(_module(float(i)))

    def gen(seed: int) -> torch.Generator | np.random.Generator:
        if kind == "torch":
            return torch.Generator().manual_seed(seed)
        return np.random.default_rng(seed)

    first = buffer.sample_indices(64, gen(0))
    assert torch.equal(first, buffer.sample_indices(64, gen(0)))
    assert not torch.equal(first, buffer.sample_indices(64, gen(1)))
    assert first.min() >= 0 and first.max() < 10 and len(set(first.tolist())) > 5
    drawn = [s["weight"].item() for s in buffer.sample(5, gen(0))]
    assert drawn == [float(i) for i in first[:5].tolist()]


def test_agent_replay_buffer_state_dict_round_trip() -> None:
    buffer = AgentReplayBuffer(capacity=2)
    for i in range(3):
        buffer.push(_module(float(i)))
    restored = AgentReplayBuffer(capacity=1)
    restored.load_state_dict(buffer.state_dict())
    assert [restored.get(i)["weight"].item() for i in range(2)] == [1.0, 2.0]
    restored.push(_module(3.0))
    assert [restored.get(i)["weight"].item() for i in range(2)] == [2.0, 3.0]


def test_polyak_update() -> None:
    target, source = _module(1.0), _module(3.0)
    polyak_update(target, source, tau=0.25)
    assert target.weight.item() == pytest.approx(1.5)
