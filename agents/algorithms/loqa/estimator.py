"""The mathematical core of LOQA (Aghajohari et al., ICLR 2024) as batched torch functions.

LOQA assumes the opponent acts by a softmax over its own Q-values, ``pi_hat2(b|s) =
softmax_b(Q2(s, b) / T)``, and makes the Q-value of the opponent's *taken* action
differentiable in the agent's parameters with a DiCE-style estimator of the opponent's return.
The agent then follows the policy gradient of its own advantage through both its own policy and
this opponent model. Everything follows the official JAX code ``MiladInk/loqa@32f50c9``
(``ipd.py`` / ``coin_train.py``: ``differentiable_loaded_dice_returns``, ``agent_policy_loss``,
``agent_qvalue_loss``); where the code and the paper's description differ, the docstring says
which one is followed. Returns and TD(0) advantages are :mod:`agents.algorithms.core.returns`'.

Tensors are time-major ``(T, B)`` (``T`` steps of ``B`` games) with an action axis last where
there is one. ``dones[t, b]`` is True where step ``t`` ended an episode; all recursions over
time stop there, so a batch may hold consecutive episodes. Value-like inputs indexed over
``T + 1`` rows hold the value of the observation after each step, row ``T`` being the value of
``Trajectory.next_observations`` (what was seen after the last step).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F

from agents.algorithms.core.losses import magic_box
from agents.algorithms.core.returns import (
    bootstrap_mask,
    discounted_returns,
    dones_or_default,
    episode_starts_from_dones,
)

__all__ = [
    "LoqaActorLoss",
    "differentiable_loaded_dice_returns",
    "differentiable_opponent_log_probs",
    "differentiable_opponent_q",
    "log_softmax_stop_grad_normalizer",
    "loqa_actor_loss",
    "loqa_opponent_log_probs",
    "opponent_log_probs",
    "q_critic_loss",
    "q_critic_targets",
]


# --------------------------------------------------------------------------------------------
# (a, f) the opponent model
# --------------------------------------------------------------------------------------------


def log_softmax_stop_grad_normalizer(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``x - stop_grad(logsumexp(x))``: log-softmax whose normaliser carries no gradient.

    Its value is ``log_softmax(x)``; its gradient w.r.t. ``x_j`` is ``1[j == i]`` only (the
    ``-softmax(x)_j`` term of the full log-softmax is dropped). This is the "ignore the partition
    function" approximation behind Advantage Alignment, as run in the LOQA codebase for the
    paper's Coin Game AA (``utils.py::log_softmax_with_stop_grad_normalizing_constant``,
    ``stop_grad_normalizing_constant: enabled``).
    """
    return x - torch.logsumexp(x, dim=dim, keepdim=True).detach()


def opponent_log_probs(
    q_values: torch.Tensor, temperature: float = 1.0, *, stop_grad_normalizer: bool = False
) -> torch.Tensor:
    """LOQA's opponent model ``log pi_hat2(.|s) = log_softmax(Q2(s, .) / T)`` over the last axis.

    Args:
        q_values: ``(..., A)`` the opponent's Q-values.
        temperature: ``T`` (``op_softmax_temp``, 1 in every reference config).
        stop_grad_normalizer: stop the gradient of the normaliser
            (:func:`log_softmax_stop_grad_normalizer`; the AA-in-LOQA-codebase variant).

    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    scaled = q_values / temperature
    if stop_grad_normalizer:
        return log_softmax_stop_grad_normalizer(scaled, dim=-1)
    return torch.log_softmax(scaled, dim=-1)


# --------------------------------------------------------------------------------------------
# (b, c) the differentiable opponent return and Q-value
# --------------------------------------------------------------------------------------------


def differentiable_loaded_dice_returns(
    op_rewards: torch.Tensor,
    agent_log_probs: torch.Tensor,
    op_values: torch.Tensor,
    gamma: float,
    lambda_d: float,
    dones: torch.Tensor | None = None,
) -> torch.Tensor:
    """Make the opponent's return differentiable in the agent's log-probabilities.

    With ``S_t = sum_{j<=t} log pi1(a_j)`` over the episode so far (``S = 0`` before its first
    step) and ``box(x) = exp(x - stop_grad(x))``::

        d_t   = box(S_t) - box(S_{t-1})
        c_t   = (R2_t - V2_t) * d_t + gamma * lambda_d * c_{t+1}     (c = 0 after an episode)
        R^2_t = R2_t + c_t

    ``R2`` is the opponent's Monte Carlo return (no bootstrap) and ``V2`` its value, both
    constants. Every ``d_t`` has value 0, so ``R^2_t`` equals ``R2_t`` exactly; to first order
    ``grad R^2_t = sum_{j>=t} (gamma lambda_d)^(j-t) (R2_j - V2_j) grad log pi1(a_j)``
    (same episode). ``MiladInk/loqa:ipd.py::differentiable_loaded_dice_returns``, with
    ``lambda_d = differentiable_opponent.discount``.

    Args:
        op_rewards: ``(T, B)`` opponent rewards.
        agent_log_probs: ``(T, B)`` ``log pi1(a_t|s_t)`` of the agent's taken actions, with
            gradient (the only input gradient flows into).
        op_values: ``(T, B)`` the opponent's ``V2(s_t)`` (detached here).
        gamma: reward discount.
        lambda_d: the estimator's extra discount (0.9 in the references).
        dones: ``(T, B)`` bool episode ends (None: one episode per column).

    Returns:
        ``(T, B)`` ``R^2``.

    """
    if op_rewards.dim() != 2:
        raise ValueError(f"op_rewards must be (T, B), got {tuple(op_rewards.shape)}")
    for name, x in (("agent_log_probs", agent_log_probs), ("op_values", op_values)):
        if x.shape != op_rewards.shape:
            raise ValueError(
                f"{name} has shape {tuple(x.shape)}, expected {tuple(op_rewards.shape)}"
            )
    done = dones_or_default(dones, op_rewards)
    starts = episode_starts_from_dones(done)
    returns = discounted_returns(op_rewards.detach(), gamma, done)

    # cumulative log-probabilities of the agent within each episode, and the DiCE increments
    increments = []
    running = torch.zeros_like(agent_log_probs[0])
    for t in range(agent_log_probs.shape[0]):
        previous = torch.where(starts[t], torch.zeros_like(running), running)
        running = previous + agent_log_probs[t]
        # box(previous) is the constant 1 at an episode start: previous is then a constant 0
        increments.append(magic_box(running) - magic_box(previous))
    dice = torch.stack(increments)

    weights = returns - op_values.detach()
    not_done = (~done).to(weights.dtype)
    corrections = []
    carry = torch.zeros_like(weights[0])
    for t in range(weights.shape[0] - 1, -1, -1):
        carry = weights[t] * dice[t] + gamma * lambda_d * not_done[t] * carry
        corrections.append(carry)
    corrections.reverse()
    return returns + torch.stack(corrections)


def differentiable_opponent_q(
    op_rewards: torch.Tensor,
    diff_returns: torch.Tensor,
    gamma: float,
    dones: torch.Tensor | None = None,
) -> torch.Tensor:
    """``Q^2(s_t, b_t) = r2_t + gamma * R^2_{t+1}``, and ``r2_t`` at an episode's last step.

    The opponent's Q-value of its taken action, differentiable through the *future* agent
    actions only: ``a_t`` is chosen simultaneously with ``b_t`` and cannot influence it (the
    code's ``differentiable_current_reward=False``, the default of every reference config).
    The last row of the batch also uses ``r2_t`` alone, as in the code.

    Args:
        op_rewards: ``(T, B)`` opponent rewards.
        diff_returns: ``(T, B)`` from :func:`differentiable_loaded_dice_returns`.
        gamma: reward discount.
        dones: ``(T, B)`` bool episode ends.

    """
    done = dones_or_default(dones, op_rewards)
    rewards = op_rewards.detach()
    next_returns = torch.cat([diff_returns[1:], torch.zeros_like(diff_returns[:1])])
    continues = (~done).to(rewards.dtype)
    continues[-1] = 0.0
    return rewards + gamma * continues * next_returns


def differentiable_opponent_log_probs(
    op_q_values: torch.Tensor,
    op_actions: torch.Tensor,
    q_taken: torch.Tensor,
    temperature: float = 1.0,
    *,
    stop_grad_normalizer: bool = False,
) -> torch.Tensor:
    """``log pi_hat2(b_t|s_t; theta1)``: the opponent model with the taken action's Q replaced.

    ``Q^2(s_t, .)`` is the opponent critic's ``Q2(s_t, .)`` (detached: the agent does not
    differentiate the opponent's network) except at ``b_t``, where it is ``q_taken`` (with
    gradient); then ``log_softmax(Q^2 / T)[b_t]`` (``agent_policy_loss``, ``loaded-dice``).

    Args:
        op_q_values: ``(T, B, A)`` the opponent's Q-values at its observations.
        op_actions: ``(T, B)`` int64 the opponent's taken actions ``b_t``.
        q_taken: ``(T, B)`` from :func:`differentiable_opponent_q`.
        temperature: softmax temperature ``T``.
        stop_grad_normalizer: see :func:`opponent_log_probs`.

    """
    if op_q_values.dim() != 3:
        raise ValueError(f"op_q_values must be (T, B, A), got {tuple(op_q_values.shape)}")
    taken = F.one_hot(op_actions.long(), op_q_values.shape[-1]).to(torch.bool)
    q_hat = torch.where(taken, q_taken.unsqueeze(-1), op_q_values.detach())
    log_probs = opponent_log_probs(q_hat, temperature, stop_grad_normalizer=stop_grad_normalizer)
    return log_probs.gather(-1, op_actions.long().unsqueeze(-1)).squeeze(-1)


def loqa_opponent_log_probs(
    agent_log_probs: torch.Tensor,
    op_rewards: torch.Tensor,
    op_values: torch.Tensor,
    op_q_values: torch.Tensor,
    op_actions: torch.Tensor,
    gamma: float,
    lambda_d: float = 0.9,
    temperature: float = 1.0,
    dones: torch.Tensor | None = None,
    *,
    stop_grad_normalizer: bool = False,
) -> torch.Tensor:
    """Chain the steps above into ``(T, B)`` ``log pi_hat2(b_t|s_t; theta1)`` for the loss.

    :func:`differentiable_loaded_dice_returns`, then :func:`differentiable_opponent_q`, then
    :func:`differentiable_opponent_log_probs`. ``op_values`` is ``V2(s_t)`` for the ``T`` steps
    (the code computes it as ``sum_b pi2(b|s) Q2(s, b)``).
    """
    diff_returns = differentiable_loaded_dice_returns(
        op_rewards, agent_log_probs, op_values, gamma, lambda_d, dones
    )
    q_taken = differentiable_opponent_q(op_rewards, diff_returns, gamma, dones)
    return differentiable_opponent_log_probs(
        op_q_values, op_actions, q_taken, temperature, stop_grad_normalizer=stop_grad_normalizer
    )


# --------------------------------------------------------------------------------------------
# (d) the actor loss
# --------------------------------------------------------------------------------------------


class LoqaActorLoss(NamedTuple):
    """LOQA's actor loss and its parts (for logging)."""

    loss: torch.Tensor
    """total: ``agent + weight * opponent - entropy_coef * entropy``"""
    agent: torch.Tensor
    """``-mean(log pi1(a_t) A1_t)``"""
    opponent: torch.Tensor
    """``-mean(log pi_hat2(b_t; theta1) A1_t)``"""
    entropy: torch.Tensor
    """``mean(H(pi1))`` (0 when none was given)"""


def loqa_actor_loss(
    agent_log_probs: torch.Tensor,
    op_log_probs: torch.Tensor,
    advantages: torch.Tensor,
    entropy: torch.Tensor | None = None,
    opponent_weight: float = 1.0,
    entropy_coef: float = 0.0,
) -> LoqaActorLoss:
    """``L = -mean(log pi1(a_t|h_t) A1_t) - w mean(log pi_hat2(b_t|s_t; theta1) A1_t) - b_H H``.

    ``A1`` is the agent's detached advantage (TD(0) in the references,
    :func:`agents.algorithms.core.returns.td0_advantages`
    over ``V1(h) = sum_a pi1(a|h) Q1(h, a)``), ``w`` is ``opponent_differentiation_weight``
    and ``b_H`` ``entropy_beta`` (``agent_policy_loss`` + ``update_agent_actor``, which sums
    the two gradients with weight ``w``: the gradient of this sum). The code's TD(0) advantage
    is not stop-gradiented there and so leaks a gradient through ``pi1`` inside ``V1``; the
    paper's estimator (and this function) treats it as a constant.

    Args:
        agent_log_probs: ``(T, B)`` ``log pi1(a_t|h_t)`` with gradient.
        op_log_probs: ``(T, B)`` from :func:`loqa_opponent_log_probs`.
        advantages: ``(T, B)`` ``A1`` (detached here).
        entropy: optional ``(T, B)`` entropy of ``pi1`` with gradient.
        opponent_weight: ``w``.
        entropy_coef: ``b_H``.

    """
    adv = advantages.detach()
    agent_term = -(agent_log_probs * adv).mean()
    opponent_term = -(op_log_probs * adv).mean()
    mean_entropy = entropy.mean() if entropy is not None else agent_term.new_zeros(())
    return LoqaActorLoss(
        loss=agent_term + opponent_weight * opponent_term - entropy_coef * mean_entropy,
        agent=agent_term,
        opponent=opponent_term,
        entropy=mean_entropy,
    )


# --------------------------------------------------------------------------------------------
# (e) the Q-critic
# --------------------------------------------------------------------------------------------


def q_critic_targets(
    rewards: torch.Tensor,
    actions: torch.Tensor,
    target_q_values: torch.Tensor,
    gamma: float,
    dones: torch.Tensor | None = None,
    target_probs: torch.Tensor | None = None,
    mode: Literal["mean", "argmax"] = "mean",
    *,
    bootstrap_at_done: bool = True,
) -> torch.Tensor:
    """Detached targets ``y_t = r_t + gamma * Qbar(h_{t+1}, .)`` of LOQA's Q-critic.

    ``mode="mean"`` (Coin Game configs): SARSA-like, ``Qbar(h_{t+1}, a_{t+1})`` on the action
    actually taken next, and ``Vbar(h_{t+1}) = sum_a pibar(a|h_{t+1}) Qbar(h_{t+1}, a)`` where no
    next action exists in the batch (its last row). ``mode="argmax"``: ``max_a Qbar(h_{t+1}, a)``.
    ``MiladInk/loqa:ipd.py::agent_qvalue_loss`` (the code's EMA agent supplies both ``Qbar``
    and ``pibar``). Episode ends follow :func:`agents.algorithms.core.returns.td0_advantages`.

    Args:
        rewards: ``(T, B)`` this agent's rewards.
        actions: ``(T, B)`` int64 this agent's actions.
        target_q_values: ``(T + 1, B, A)`` target-network Q-values; row ``T`` at the
            observation after the last step.
        gamma: discount.
        dones: ``(T, B)`` bool episode ends.
        target_probs: ``(T + 1, B, A)`` policy probabilities for ``Vbar`` (``mode="mean"``).
        mode: ``"mean"`` or ``"argmax"``.
        bootstrap_at_done: see :func:`~agents.algorithms.core.returns.td0_advantages`.

    """
    steps = rewards.shape[0]
    if target_q_values.dim() != 3 or target_q_values.shape[0] != steps + 1:
        raise ValueError(
            f"target_q_values must be (T + 1, B, A) with T = {steps}, "
            f"got {tuple(target_q_values.shape)}"
        )
    done = dones_or_default(dones, rewards)
    q_next = target_q_values[1:].detach()
    if mode == "argmax":
        next_values = q_next.max(dim=-1).values
    elif mode == "mean":
        if target_probs is None:
            raise ValueError('mode="mean" needs target_probs for the value of the last row')
        next_values = torch.empty_like(rewards)
        if steps > 1:
            next_values[:-1] = q_next[:-1].gather(-1, actions[1:].long().unsqueeze(-1)).squeeze(-1)
        next_values[-1] = (target_probs[-1].detach() * q_next[-1]).sum(-1)
    else:
        raise ValueError(f'mode must be "mean" or "argmax", got {mode!r}')
    mask = bootstrap_mask(done, bootstrap_at_done).to(next_values.dtype)
    return (rewards + gamma * mask * next_values).detach()


def q_critic_loss(
    q_values: torch.Tensor, actions: torch.Tensor, targets: torch.Tensor, delta: float = 1.0
) -> torch.Tensor:
    """Huber loss of the Q-critic, ``mean(Huber_delta(Q(h_t, a_t) - y_t))``.

    ``Huber(x) = x^2 / 2`` if ``|x| <= delta`` else ``delta (|x| - delta / 2)`` (rlax's
    ``huber_loss``, used by LOQA with ``delta = 1``).

    Args:
        q_values: ``(T, B, A)`` online Q-values with gradient.
        actions: ``(T, B)`` int64 taken actions.
        targets: ``(T, B)`` from :func:`q_critic_targets`.
        delta: Huber threshold.

    """
    taken = q_values.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
    return F.huber_loss(taken, targets.detach(), delta=delta)
