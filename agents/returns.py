"""Returns and advantages over batched ``(T, B)`` tensors (time first, one column per sequence).

Conventions shared by every function here:

* ``rewards[t]`` is the reward of step ``t``;
* ``values[t]`` estimates the return from the observation before step ``t``;
* ``next_values[t]`` estimates it from the observation after step ``t`` (for an episode that
  ended at ``t``, its final observation);
* ``dones[t]`` is True when an episode ended at step ``t``: nothing is carried back across it;
* ``terminals[t]`` (default: ``dones``) is True where the future is worth zero, i.e. where
  ``next_values[t]`` is not bootstrapped. Pass ``terminals`` all False to bootstrap truncated
  episodes from ``next_values`` instead.

The recursions loop over ``T`` in Python with whole-batch tensor operations per step. Monte-Carlo
returns, ``discounted_returns(rewards, gamma, dones)``, are the opponent-shaping module's (one
implementation for both): GAE with ``lam = 1`` equals them minus the values.
"""

from __future__ import annotations

import torch

from agents.shaping import discounted_returns

__all__ = ["discounted_returns", "gae", "td_errors"]


def _mask(flags: torch.Tensor) -> torch.Tensor:
    return 1.0 - flags.to(torch.float32)


def td_errors(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    terminals: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """One-step TD errors ``r_t + gamma * V(s_{t+1}) * (1 - terminal_t) - V(s_t)``."""
    return rewards + gamma * _mask(terminals) * next_values - values


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    dones: torch.Tensor,
    gamma: float,
    lam: float,
    terminals: torch.Tensor | None = None,
) -> torch.Tensor:
    """Generalised advantage estimates ``A_t = delta_t + gamma * lam * A_{t+1}``.

    ``lam = 1`` gives Monte-Carlo returns minus values, ``lam = 0`` the TD errors. The returns
    to regress a critic on are ``gae(...) + values``.
    """
    deltas = td_errors(
        rewards, values, next_values, dones if terminals is None else terminals, gamma
    )
    carry = gamma * lam * _mask(dones)
    advantages = torch.empty_like(deltas)
    running = torch.zeros_like(deltas[0])
    for t in range(deltas.shape[0] - 1, -1, -1):
        running = deltas[t] + carry[t] * running
        advantages[t] = running
    return advantages
