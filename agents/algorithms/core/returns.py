"""Returns, advantages and critic targets over batched ``(T, B)`` tensors (time first).

One implementation of each, used by every learner. Conventions:

* ``rewards[t]`` is the reward of step ``t``;
* ``values[t]`` estimates the return from the observation before step ``t``;
* ``next_values[t]`` estimates it from the observation after step ``t`` (for an episode that
  ended at ``t``, its final observation);
* ``dones[t]`` is True when an episode ended at step ``t``: nothing is carried back across it,
  so a batch may hold several consecutive episodes of a game;
* ``terminals[t]`` (default: ``dones``) is True where the future is worth zero, i.e. where
  ``next_values[t]`` is not bootstrapped. Pass ``terminals`` all False to bootstrap truncated
  episodes from ``next_values`` instead.

The recursions loop over ``T`` in Python with whole-batch tensor operations per step.
"""

from __future__ import annotations

import torch

__all__ = [
    "CRITIC_TARGETS",
    "bootstrap_mask",
    "critic_targets",
    "discounted_returns",
    "dones_or_default",
    "episode_starts_from_dones",
    "gae",
    "normalize_advantages",
    "td0_advantages",
    "td_errors",
]


def _mask(flags: torch.Tensor) -> torch.Tensor:
    return 1.0 - flags.to(torch.float32)


def _check_time_major(name: str, x: torch.Tensor) -> None:
    if x.dim() != 2:
        raise ValueError(f"{name} must be (T, B), got shape {tuple(x.shape)}")


def dones_or_default(dones: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    """``dones`` as a bool ``(T, B)`` tensor shaped like ``like``'s first two axes (None: none)."""
    if dones is None:
        return torch.zeros(like.shape[:2], dtype=torch.bool, device=like.device)
    if dones.shape != like.shape[:2]:
        raise ValueError(f"dones has shape {tuple(dones.shape)}, expected {tuple(like.shape[:2])}")
    return dones.to(device=like.device, dtype=torch.bool)


def episode_starts_from_dones(dones: torch.Tensor) -> torch.Tensor:
    """``starts[0] = True``, ``starts[t] = dones[t - 1]``: where each step opens an episode."""
    starts = torch.empty_like(dones, dtype=torch.bool)
    starts[0] = True
    starts[1:] = dones[:-1].to(torch.bool)
    return starts


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


def discounted_returns(
    rewards: torch.Tensor, gamma: float, dones: torch.Tensor | None = None
) -> torch.Tensor:
    """Monte Carlo returns ``R_t = r_t + gamma * (1 - done_t) * R_{t+1}``, ``R_T = r_T``.

    Nothing is bootstrapped after the last row; a done step cuts the sum so returns never leak
    across episodes. GAE with ``lam = 1`` and zero values equals this.

    Args:
        rewards: ``(T, B)``.
        gamma: discount.
        dones: ``(T, B)`` bool, True where step ``t`` ends an episode (None: no boundary).

    """
    _check_time_major("rewards", rewards)
    not_done = (
        torch.ones_like(rewards) if dones is None else (~dones.to(torch.bool)).to(rewards.dtype)
    )
    returns = torch.empty_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = rewards[t] + gamma * not_done[t] * running
        returns[t] = running
    return returns


def bootstrap_mask(dones: torch.Tensor, bootstrap_at_done: bool) -> torch.Tensor:
    """Float ``(T, B)`` mask: 1 where step ``t`` may bootstrap from row ``t + 1`` of a value table.

    For value tables of ``T + 1`` rows whose row ``T`` is the observation after the last step.
    Within an episode, always. At a done step before the last row, never: row ``t + 1`` then
    belongs to the next episode and the rollout does not keep the ended episode's final
    observation, so a mid-batch end is treated as terminal. At the last row, row ``T`` is the
    final observation itself, so a done there bootstraps iff ``bootstrap_at_done`` (LOQA's code
    bootstraps at the end of its fixed-length episodes, which are truncations).
    """
    mask = ~dones
    if bootstrap_at_done:
        mask = mask.clone()
        mask[-1] = True
    return mask.to(torch.float32)


def td0_advantages(
    rewards: torch.Tensor,
    values: torch.Tensor,
    gamma: float,
    dones: torch.Tensor | None = None,
    *,
    bootstrap_at_done: bool = True,
) -> torch.Tensor:
    """Detached TD(0) advantages ``A_t = r_t + gamma V(h_{t+1}) - V(h_t)``.

    Args:
        rewards: ``(T, B)``.
        values: ``(T + 1, B)``; row ``T`` is the value of the observation after the last step.
        gamma: discount.
        dones: ``(T, B)`` bool episode ends. A mid-batch end is terminal (no bootstrap); an end
            at the last row bootstraps from row ``T`` iff ``bootstrap_at_done``.
        bootstrap_at_done: see ``dones``.

    """
    if values.shape[0] != rewards.shape[0] + 1 or values.shape[1:] != rewards.shape[1:]:
        raise ValueError(
            f"values must be (T + 1, B) = {(rewards.shape[0] + 1, *rewards.shape[1:])}, "
            f"got {tuple(values.shape)}"
        )
    done = dones_or_default(dones, rewards)
    values = values.detach()
    mask = bootstrap_mask(done, bootstrap_at_done).to(values.dtype)
    return (rewards + gamma * mask * values[1:] - values[:-1]).detach()


#: critic regression targets of :func:`critic_targets`
CRITIC_TARGETS = ("gae", "td0", "mc", "interpolate")


def critic_targets(
    kind: str,
    rewards: torch.Tensor,
    values: torch.Tensor,
    advantages: torch.Tensor,
    dones: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """Regression targets ``(T, N)`` of a critic: ``gae``, ``td0``, ``mc`` or ``interpolate``.

    ``gae`` is ``advantages + values`` (lambda-returns); ``td0`` is ``r_t + gamma V(s_{t+1})``
    with no bootstrap past an episode's end; ``mc`` the Monte Carlo return; ``interpolate`` the
    mean of the TD(0) and Monte Carlo targets (the Advantage Alignment reference's
    ``critic_loss_mode: interpolate``). ``values`` usually come from a target critic.
    """
    if kind == "gae":
        return advantages + values
    not_done = (~dones).to(values.dtype)
    next_values = torch.cat([values[1:], torch.zeros_like(values[:1])])
    td0 = rewards + gamma * not_done * next_values
    if kind == "td0":
        return td0
    mc = discounted_returns(rewards, gamma, dones)
    if kind == "mc":
        return mc
    if kind == "interpolate":
        return 0.5 * (td0 + mc)
    raise ValueError(f"critic target must be one of {list(CRITIC_TARGETS)}, got {kind!r}")


def normalize_advantages(advantages: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Normalise ``(A - mean(A)) / (std(A) + eps)`` over the whole batch (unbiased std)."""
    return (advantages - advantages.mean()) / (advantages.std() + eps)
