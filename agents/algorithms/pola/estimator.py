"""The proximal pieces POLA-DiCE adds to LOLA-DiCE: KL penalty, proximal step, value loss.

Zhao et al., "Proximal Learning With Opponent-Learning Awareness", NeurIPS 2022; reference code
``Silent-Zebra/POLA@b248b52`` (``jax_files/POLA_dice_jax.py``). All tensors are time-major
``(T, B, ...)``.

* :func:`kl_divergence`: ``mean over states of sum_a p_old(a) (log p_old(a) - log p_new(a))``,
  the KL of the new policy from the old one, ``KL(pi_old || pi_new)`` (the reference's
  ``kl_div_jax(curr, target)`` with ``target`` the frozen policy).
* :func:`proximal_step`: one differentiable gradient-ascent step on
  ``objective - beta * kl``; with ``beta = 0`` it is LOLA-DiCE's naive step.
* :func:`value_loss`: the reference's Monte Carlo regression of the values on the discounted
  return to the horizon, bootstrapped by the value of the state after the last step, summed
  over time and averaged over games.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from agents.algorithms.core.returns import gae
from agents.algorithms.lola_dice.estimator import Params, naive_step


def kl_divergence(old_log_pi: torch.Tensor, new_log_pi: torch.Tensor) -> torch.Tensor:
    """``KL(pi_old || pi_new)`` averaged over states: ``mean sum_a p_old (log p_old - log p_new)``.

    Args:
        old_log_pi: ``(..., A)`` log-probabilities of the reference (frozen) policy in each
            state; detached here.
        new_log_pi: ``(..., A)`` log-probabilities of the policy being optimised, same states.

    """
    if old_log_pi.shape != new_log_pi.shape:
        raise ValueError(
            f"the two policies' log-probabilities differ in shape: {tuple(old_log_pi.shape)} "
            f"and {tuple(new_log_pi.shape)}"
        )
    old_log_pi = old_log_pi.detach()
    return (old_log_pi.exp() * (old_log_pi - new_log_pi)).sum(-1).mean()


def proximal_step(
    objective: torch.Tensor,
    kl: torch.Tensor,
    params: Mapping[str, torch.Tensor],
    lr: float,
    beta: float,
) -> Params:
    """One differentiable ascent step on ``objective - beta * kl``: ``p + lr * grad``.

    Kept in the autograd graph, as :func:`~agents.algorithms.lola_dice.estimator.naive_step`
    (which it calls), so an outer gradient flows through it.
    """
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    return naive_step(objective - beta * kl, params, lr)


def value_loss(
    values: torch.Tensor,
    next_values: torch.Tensor,
    rewards: torch.Tensor,
    dones: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """``mean_b sum_t (G_t - V(s_t))^2`` with ``G_t`` the return to the horizon bootstrapped.

    ``G_t = sum_{k>=t} gamma^(k-t) r_k + gamma^(T-t) V(s_T)``, the target of the reference's
    ``value_loss`` (the bootstrap value is detached: it is part of the target). ``(T, B)``
    tensors; ``next_values[t]`` is the value of the state after step ``t``.
    """
    with torch.no_grad():
        returns = values + gae(
            rewards,
            values,
            next_values,
            dones,
            gamma,
            1.0,
            terminals=torch.zeros_like(dones),
        )
    return ((returns - values) ** 2).sum(0).mean()


__all__ = ["kl_divergence", "proximal_step", "value_loss"]
