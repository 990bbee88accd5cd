"""Losses and update helpers shared by the learners, over time-major ``(T, B)`` tensors.

* :func:`policy_gradient_loss`: ``-mean(log pi * A)``, the score-function estimator (naive
  actor-critic; Advantage Alignment with ``A = A*``);
* :func:`ppo_clipped_loss` and :func:`ppo_statistics`: PPO's clipped surrogate (PPO; Proximal
  Advantage Alignment with ``A = A*``) and the numbers logged with it;
* :data:`CRITIC_LOSSES`: the critic regression losses;
* :func:`magic_box`: DiCE's operator (LOQA's differentiable opponent return);
* :func:`polyak_update`: the target-network update.

Advantages are treated as constants: every loss detaches them.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

#: critic loss name (the ``critic_loss`` config field) -> loss(prediction, target)
CRITIC_LOSSES = {"mse": F.mse_loss, "huber": F.smooth_l1_loss}


def _check_same_shape(**tensors: torch.Tensor) -> None:
    shapes = {name: tuple(x.shape) for name, x in tensors.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"shapes differ: {shapes}")


def policy_gradient_loss(log_probs: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """``-mean(log pi(a_t | h_t) * A_t)``: its gradient is the policy-gradient estimate.

    Args:
        log_probs: log-probabilities of the actions taken, with gradient.
        advantages: the same shape; detached here.

    """
    _check_same_shape(log_probs=log_probs, advantages=advantages)
    return -(log_probs * advantages.detach()).mean()


def ppo_clipped_loss(
    log_probs: torch.Tensor,
    old_log_probs: torch.Tensor,
    advantages: torch.Tensor,
    clip_range: float,
) -> torch.Tensor:
    """PPO's clipped surrogate loss ``-mean(min(rho_t A_t, clip(rho_t, 1-eps, 1+eps) A_t))``.

    ``rho_t = exp(log pi(a_t) - stop_grad(log pi_old(a_t)))`` (Schulman et al. 2017).

    Args:
        log_probs: log-probabilities under the policy being optimised (gradient).
        old_log_probs: log-probabilities under the policy that collected the data.
        advantages: advantages (``A*`` for PAA), detached here.
        clip_range: ``eps``.

    """
    _check_same_shape(log_probs=log_probs, old_log_probs=old_log_probs, advantages=advantages)
    adv = advantages.detach()
    ratio = torch.exp(log_probs - old_log_probs.detach())
    clipped = ratio.clamp(1.0 - clip_range, 1.0 + clip_range) * adv
    return -torch.min(ratio * adv, clipped).mean()


@torch.no_grad()
def ppo_statistics(
    log_probs: torch.Tensor, old_log_probs: torch.Tensor, clip_range: float
) -> dict[str, float]:
    """The approximate KL ``mean((rho - 1) - log rho)`` and the share of clipped ratios."""
    log_ratio = log_probs - old_log_probs
    ratio = log_ratio.exp()
    return {
        "approx_kl": float(((ratio - 1) - log_ratio).mean()),
        "clip_fraction": float(((ratio - 1).abs() > clip_range).float().mean()),
    }


def magic_box(x: torch.Tensor) -> torch.Tensor:
    """DiCE's magic box ``box(x) = exp(x - stop_grad(x))``: value 1, gradient ``box(x) * dx``.

    Foerster et al., "DiCE: The Infinitely Differentiable Monte Carlo Estimator", ICML 2018.
    """
    return torch.exp(x - x.detach())


@torch.no_grad()
def polyak_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """In place: ``target <- (1 - tau) * target + tau * source`` for every parameter.

    Buffers (e.g. batch-norm statistics) are copied. The reference codebases state the same
    update with opposite names: Advantage Alignment's ``update_target_network`` uses
    ``tau = 0.005``; LOQA's ``target_ema_gamma = 0.99`` is ``tau = 1 - 0.99 = 0.01``.
    """
    if not 0.0 <= tau <= 1.0:
        raise ValueError(f"tau must be in [0, 1], got {tau}")
    for t_param, s_param in zip(target.parameters(), source.parameters(), strict=True):
        t_param.lerp_(s_param, tau)
    for t_buf, s_buf in zip(target.buffers(), source.buffers(), strict=True):
        t_buf.copy_(s_buf)


__all__ = [
    "CRITIC_LOSSES",
    "magic_box",
    "policy_gradient_loss",
    "polyak_update",
    "ppo_clipped_loss",
    "ppo_statistics",
]
