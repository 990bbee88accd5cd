"""The DiCE objectives and the differentiable naive step LOLA-DiCE looks ahead with.

All tensors are time-major ``(T, B)``: ``T`` steps of ``B`` games, each game one episode.

* :func:`dice_objective`: ``mean_b sum_t box(sum_{k<=t} log pi_1(a_k) + log pi_2(b_k)) gamma^t
  r_t`` (Foerster et al., "DiCE: The Infinitely Differentiable Monte Carlo Estimator", ICML
  2018). Its value is the discounted return; every order of its derivatives estimates the
  derivative of the expected return, through both players' policies.
* :func:`loaded_dice_objective`: the same estimator with a baseline, ``mean_b sum_t
  (box(deps_<=t) - box(deps_<t)) gamma^t A_t`` (Farquhar et al., "Loaded DiCE", 2019; the form of
  ``Silent-Zebra/POLA@b248b52:jax_files/POLA_dice_jax.py::dice_objective``). Its value is 0; its
  gradients have the expectation of :func:`dice_objective`'s when ``A`` is an unbiased advantage
  (GAE with lambda 1).
* :func:`naive_step`: ``theta + lr * grad_theta objective``, kept in the autograd graph
  (``create_graph``), so that a later gradient flows through the step.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from agents.algorithms.core.losses import magic_box

#: a network's parameters by name, as :func:`torch.func.functional_call` takes them
Params = dict[str, torch.Tensor]


def _check_time_major(**tensors: torch.Tensor) -> None:
    shapes = {name: tuple(x.shape) for name, x in tensors.items()}
    if len(set(shapes.values())) > 1 or any(len(s) != 2 for s in shapes.values()):
        raise ValueError(f"expected (T, B) tensors of one shape, got {shapes}")


def discounts(num_steps: int, gamma: float, like: torch.Tensor) -> torch.Tensor:
    """``gamma^t`` for ``t = 0 .. num_steps - 1``, a ``(T, 1)`` column on ``like``'s device."""
    exponents = torch.arange(num_steps, dtype=like.dtype, device=like.device)
    return (gamma**exponents).unsqueeze(-1)


def dice_objective(
    rewards: torch.Tensor,
    own_log_probs: torch.Tensor,
    other_log_probs: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """DiCE estimate of the discounted return ``mean_b sum_t box(deps_<=t) gamma^t r_t``.

    Args:
        rewards: ``(T, B)`` rewards of the player whose objective this is (constants).
        own_log_probs: ``(T, B)`` log-probabilities of this player's actions, with gradient.
        other_log_probs: ``(T, B)`` the other player's, with gradient.
        gamma: discount.

    """
    _check_time_major(rewards=rewards, own=own_log_probs, other=other_log_probs)
    dependencies = torch.cumsum(own_log_probs + other_log_probs, dim=0)
    weighted = discounts(rewards.shape[0], gamma, rewards) * rewards.detach()
    return (magic_box(dependencies) * weighted).sum(0).mean()


def loaded_dice_objective(
    advantages: torch.Tensor,
    own_log_probs: torch.Tensor,
    other_log_probs: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """Loaded DiCE: ``mean_b sum_t (box(deps_<=t) - box(deps_<t)) gamma^t A_t``.

    ``deps_<=t`` sums both players' log-probabilities up to and including step ``t``;
    ``deps_<t`` stops before it. The value is 0; the first derivative is the policy gradient
    ``sum_t gamma^t A_t grad log pi(a_t, b_t)``; higher derivatives keep DiCE's dependencies.

    Args:
        advantages: ``(T, B)`` advantages of this player (detached here), e.g. GAE.
        own_log_probs: ``(T, B)`` log-probabilities of this player's actions, with gradient.
        other_log_probs: ``(T, B)`` the other player's, with gradient.
        gamma: discount.

    """
    _check_time_major(advantages=advantages, own=own_log_probs, other=other_log_probs)
    stochastic = own_log_probs + other_log_probs
    up_to = torch.cumsum(stochastic, dim=0)
    before = up_to - stochastic
    weighted = discounts(advantages.shape[0], gamma, advantages) * advantages.detach()
    return ((magic_box(up_to) - magic_box(before)) * weighted).sum(0).mean()


def centre_over_batch(rewards: torch.Tensor) -> torch.Tensor:
    """Subtract each step's mean over the batch from ``(T, B)`` rewards.

    A baseline that depends on the step only, so the expected DiCE gradient is unchanged (the
    reference's run without a learned baseline, ``alshedivat/lola:lola_dice/rpg.py``).
    """
    return rewards - rewards.mean(dim=1, keepdim=True)


def naive_step(objective: torch.Tensor, params: Mapping[str, torch.Tensor], lr: float) -> Params:
    """One differentiable gradient-ascent step: ``{name: p + lr * d objective / d p}``.

    The step stays in the autograd graph (``create_graph=True``): a gradient taken later of
    anything computed from the new parameters flows back through this step into whatever
    ``objective`` depended on (the other player's parameters, in LOLA).
    """
    names = list(params)
    grads = torch.autograd.grad(
        objective, [params[n] for n in names], create_graph=True, allow_unused=True
    )
    return {
        name: params[name] if grad is None else params[name] + lr * grad
        for name, grad in zip(names, grads, strict=True)
    }


__all__ = [
    "Params",
    "centre_over_batch",
    "dice_objective",
    "discounts",
    "loaded_dice_objective",
    "naive_step",
]
