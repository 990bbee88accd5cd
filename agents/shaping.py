"""Opponent-shaping estimators: Advantage Alignment (AA), Proximal AA (PAA) and shared helpers.

Pure functions over time-major ``(T, B)`` tensors (``T`` steps of ``B`` games, the layout of
:class:`agents.rollout.Trajectory` with one seat selected), plus two small stateful helpers: a
Polyak/EMA target update and :class:`AgentReplayBuffer`, the buffer of past selves that LOQA and
AA sample opponents from. LOQA's own pieces live in :mod:`agents.algorithms.loqa_parts`.

Conventions used throughout:

* ``episode_starts[t, b]`` is True where step ``t`` opens an episode of game ``b``; ``dones[t, b]``
  is True where step ``t`` ends it. Every accumulation over time restarts at an episode start,
  so a batch may hold several consecutive episodes of a game.
* Advantages passed in are already computed (GAE, TD(0) or Monte Carlo, whatever the learner
  uses) and are treated as constants: every function detaches them.
* "Agent" (index 1 in the papers) is the learner; "opponent" (index 2) is the other seat.
* AA and PAA need only the agent's log-probabilities of its own actions and two scalar
  advantages, so they apply unchanged to continuous actions (any differentiable density;
  ALGORITHMS.md section 5). The ``eg`` code's clamp of continuous log-probs at -10 is the
  caller's choice.

References: Duque et al., "Advantage Alignment Algorithms", ICLR 2025, and its code
``jduquevan/advantage-alignment`` (branches ``eg`` for 2-player AA/PAA, ``master`` for the
Melting Pot N-player PAA), as digested in ``shared/spec/ALGORITHMS.md`` sections 2.5, 2.6 and 6.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

__all__ = [
    "AgentReplayBuffer",
    "AlignedLoss",
    "aa_policy_loss",
    "aa_policy_loss_code",
    "aligned_advantages",
    "discounted_past_advantages",
    "discounted_returns",
    "magic_box",
    "mean_past_advantages",
    "normalize_advantages",
    "paa_loss",
    "polyak_update",
    "ppo_clipped_loss",
]


# --------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------


def _check_time_major(name: str, x: torch.Tensor, like: torch.Tensor | None = None) -> None:
    if x.dim() != 2:
        raise ValueError(f"{name} must be (T, B), got shape {tuple(x.shape)}")
    if like is not None and x.shape != like.shape:
        raise ValueError(f"{name} has shape {tuple(x.shape)}, expected {tuple(like.shape)}")


def _starts_or_default(episode_starts: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    """Episode starts as a bool (T, B) tensor; None means one episode opening at t = 0."""
    if episode_starts is None:
        starts = torch.zeros(like.shape, dtype=torch.bool, device=like.device)
        starts[0] = True
        return starts
    _check_time_major("episode_starts", episode_starts, like)
    return episode_starts.to(device=like.device, dtype=torch.bool)


def magic_box(x: torch.Tensor) -> torch.Tensor:
    """DiCE's magic box ``box(x) = exp(x - stop_grad(x))``: value 1, gradient ``box(x) * dx``.

    Foerster et al. 2018 (DiCE); used by LOQA's ``differentiable_loaded_dice_returns``.
    """
    return torch.exp(x - x.detach())


def discounted_returns(
    rewards: torch.Tensor, gamma: float, dones: torch.Tensor | None = None
) -> torch.Tensor:
    """Monte Carlo returns ``R_t = r_t + gamma * (1 - done_t) * R_{t+1}``, ``R_T = r_T``.

    Nothing is bootstrapped after the last row (as LOQA's ``discounted_returns``); a done step
    cuts the sum so returns never leak across episodes.

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


def normalize_advantages(advantages: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Normalise ``(A - mean(A)) / (std(A) + eps)`` over the whole batch (unbiased std).

    This is the Melting Pot PAA code's normalisation (``master:train.py::actor_losses``), applied
    to every seat's advantages before the alignment term is formed.
    """
    return (advantages - advantages.mean()) / (advantages.std() + eps)


@torch.no_grad()
def polyak_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """In place: ``target <- (1 - tau) * target + tau * source`` for every parameter.

    Buffers (e.g. batch-norm statistics) are copied. The two reference codebases state the
    same update with opposite names: AA's ``update_target_network`` uses ``tau = 0.005``;
    LOQA's ``target_ema_gamma = 0.99`` is ``tau = 1 - 0.99 = 0.01``.
    (The learners' infrastructure had no target helper when this was written; if one lands,
    keep a single one.)
    """
    if not 0.0 <= tau <= 1.0:
        raise ValueError(f"tau must be in [0, 1], got {tau}")
    for t_param, s_param in zip(target.parameters(), source.parameters(), strict=True):
        t_param.lerp_(s_param, tau)
    for t_buf, s_buf in zip(target.buffers(), source.buffers(), strict=True):
        t_buf.copy_(s_buf)


# --------------------------------------------------------------------------------------------
# Advantage Alignment
# --------------------------------------------------------------------------------------------


def discounted_past_advantages(
    advantages: torch.Tensor, gamma: float, episode_starts: torch.Tensor | None = None
) -> torch.Tensor:
    """``S_t = sum_{k<t} gamma^(t-k) A_k`` over the earlier steps of the same episode.

    The exponent convention is the paper/README one (``jduquevan/advantage-alignment``
    README): the most recent past step ``k = t - 1`` has weight ``gamma^1``, and ``S_t = 0``
    at an episode's first step. Computed by the recursion ``S_t = gamma * (S_{t-1} + A_{t-1})``.

    Args:
        advantages: ``(T, B)`` agent advantages ``A1``.
        gamma: discount.
        episode_starts: ``(T, B)`` bool; None means one episode per column starting at ``t = 0``.

    """
    _check_time_major("advantages", advantages)
    starts = _starts_or_default(episode_starts, advantages)
    out = torch.empty_like(advantages)
    running = torch.zeros_like(advantages[0])
    for t in range(advantages.shape[0]):
        if t > 0:
            running = gamma * (running + advantages[t - 1])
        running = torch.where(starts[t], torch.zeros_like(running), running)
        out[t] = running
    return out


def mean_past_advantages(
    advantages: torch.Tensor, episode_starts: torch.Tensor | None = None
) -> torch.Tensor:
    """``M_t = (sum_{k<t} A_k) / n_t``, the mean of the earlier advantages of the same episode.

    ``n_t`` is the number of earlier steps in the episode (``t`` for an episode starting at 0),
    and ``M_t = 0`` at an episode's first step. This is the 2-player code's running mean
    (``eg:train.py::linear_aa_loss``: ``cumsum(A_1s[:, :-1]) / arange(1, T)`` paired with
    ``A_2s[:, 1:]``, the k < t pairing) and the Melting Pot code's ``aa_terms``. No gamma.
    Note the ``eg`` code itself sums across episode boundaries of its 50-step window; pass
    ``episode_starts=None`` (one "episode" per column) to reproduce that.
    """
    _check_time_major("advantages", advantages)
    starts = _starts_or_default(episode_starts, advantages)
    out = torch.empty_like(advantages)
    total = torch.zeros_like(advantages[0])
    count = torch.zeros_like(advantages[0])
    for t in range(advantages.shape[0]):
        if t > 0:
            total = total + advantages[t - 1]
            count = count + 1
        total = torch.where(starts[t], torch.zeros_like(total), total)
        count = torch.where(starts[t], torch.zeros_like(count), count)
        out[t] = torch.where(count > 0, total / count.clamp(min=1), torch.zeros_like(total))
    return out


def aligned_advantages(
    agent_advantages: torch.Tensor,
    opponent_advantages: torch.Tensor,
    beta: float,
    gamma: float,
    episode_starts: torch.Tensor | None = None,
    *,
    running_mean: bool = False,
    normalize: bool = False,
) -> torch.Tensor:
    """Compute the aligned advantage ``A*`` of Advantage Alignment (detached).

    Paper form (default; the README of ``jduquevan/advantage-alignment``, ALGORITHMS.md 2.5)::

        A*_t = A1_t + beta * gamma * (sum_{k<t} gamma^(t-k) A1_k) * A2_t

    so the past advantage ``A1_k`` enters with weight ``beta * gamma^(t-k+1)`` (the README's
    extra gamma prefactor is kept literally). Code form (``running_mean=True``; 2-player ``eg``
    code and Melting Pot ``master`` code)::

        A*_t = A1_t + beta * ((sum_{k<t} A1_k) / t) * A2_t

    with no gamma. Both sums run over earlier steps of the same episode only and are empty
    (zero shaping term) at an episode's first step. ``normalize=True`` first applies the Melting
    Pot code's ``(A - mean) / (std + 1e-8)`` to ``A1`` and ``A2`` separately (each over its
    whole batch), so the plain term ``A1_t`` is normalised too, as there.

    Args:
        agent_advantages: ``(T, B)`` ``A1``, from the agent's critic and rewards.
        opponent_advantages: ``(T, B)`` ``A2``, from the opponent's critic and rewards (for
            ``N`` players, the sum of the other players' advantages, as the Melting Pot code).
        beta: alignment weight (``aa_weight`` in the code).
        gamma: discount (unused with ``running_mean=True``).
        episode_starts: ``(T, B)`` bool; None means one episode per column starting at 0.
        running_mean: use the code's running mean instead of the paper's discounted sum.
        normalize: normalise both advantages over the batch first (Melting Pot code).

    Returns:
        ``(T, B)`` ``A*``, detached (it weights a score-function term; no gradient flows
        through advantages).

    """
    _check_time_major("agent_advantages", agent_advantages)
    _check_time_major("opponent_advantages", opponent_advantages, agent_advantages)
    a1 = agent_advantages.detach()
    a2 = opponent_advantages.detach()
    if normalize:
        a1, a2 = normalize_advantages(a1), normalize_advantages(a2)
    if running_mean:
        past = mean_past_advantages(a1, episode_starts)
        return a1 + beta * past * a2
    past = discounted_past_advantages(a1, gamma, episode_starts)
    return a1 + beta * gamma * past * a2


def aa_policy_loss(
    log_probs: torch.Tensor,
    aligned: torch.Tensor,
    entropy: torch.Tensor | None = None,
    entropy_coef: float = 0.0,
) -> torch.Tensor:
    """AA's policy-gradient loss ``-mean_{t,b}(A*_t * log pi1(a_t|s_t)) - c_H * mean(H)``.

    Its gradient is the paper's estimator ``E[sum_t A*_t grad log pi1(a_t|s_t)]`` (up to the
    ``1 / (T B)`` of the mean). With code-form ``A*`` (``running_mean=True``) this equals
    :func:`aa_policy_loss_code` except that the code averages its alignment term over the
    ``T - 1`` non-first steps instead of all ``T`` (a factor ``(T - 1) / T`` on ``beta``, see
    there).

    Args:
        log_probs: ``(T, B)`` ``log pi1(a_t|s_t)`` of the actions taken, with gradient.
        aligned: ``(T, B)`` ``A*`` from :func:`aligned_advantages` (detached here anyway).
        entropy: optional ``(T, B)`` policy entropy, with gradient.
        entropy_coef: weight of the entropy bonus.

    """
    _check_time_major("log_probs", log_probs)
    _check_time_major("aligned", aligned, log_probs)
    loss = -(aligned.detach() * log_probs).mean()
    if entropy is not None:
        loss = loss - entropy_coef * entropy.mean()
    return loss


def aa_policy_loss_code(
    log_probs: torch.Tensor,
    agent_advantages: torch.Tensor,
    opponent_advantages: torch.Tensor,
    aa_weight: float,
    episode_starts: torch.Tensor | None = None,
) -> torch.Tensor:
    """Compute the 2-player code's (non-proximal) AA loss ``loss_1 + aa_weight * loss_2``.

    ``eg:train.py::actor_loss`` / ``linear_aa_loss``::

        loss_1 = -mean_{all t}(A1_t log pi1(a_t))
        loss_2 = -mean_{t not first in its episode}(M_t A2_t log pi1(a_t)),  M_t = mean_{k<t} A1_k

    ``loss_2`` is averaged over the non-first steps only (``T - 1`` per episode), so for one
    ``T``-step episode per column this equals ``aa_policy_loss(log_probs, A*)`` with code-form
    ``A*`` and ``beta = aa_weight * T / (T - 1)``. The entropy term is left to the caller
    (the code subtracts ``entropy_beta * H`` separately).
    """
    _check_time_major("log_probs", log_probs)
    a1 = agent_advantages.detach()
    a2 = opponent_advantages.detach()
    _check_time_major("agent_advantages", a1, log_probs)
    _check_time_major("opponent_advantages", a2, log_probs)
    starts = _starts_or_default(episode_starts, log_probs)
    loss_1 = -(a1 * log_probs).mean()
    shaped = mean_past_advantages(a1, starts) * a2 * log_probs
    not_first = ~starts
    if not bool(not_first.any()):
        return loss_1
    loss_2 = -shaped[not_first].mean()
    return loss_1 + aa_weight * loss_2


# --------------------------------------------------------------------------------------------
# Proximal Advantage Alignment
# --------------------------------------------------------------------------------------------


def ppo_clipped_loss(
    log_probs: torch.Tensor,
    old_log_probs: torch.Tensor,
    advantages: torch.Tensor,
    clip_range: float,
    *,
    log_ratio_clamp: float | None = None,
    unclipped_uses_log_prob: bool = False,
) -> torch.Tensor:
    """PPO's clipped surrogate loss ``-mean(min(rho_t A_t, clip(rho_t, 1-eps, 1+eps) A_t))``.

    ``rho_t = exp(log pi(a_t) - stop_grad(log pi_old(a_t)))`` (Schulman et al. 2017).

    Args:
        log_probs: ``(T, B)`` log-probabilities under the policy being optimised (gradient).
        old_log_probs: ``(T, B)`` log-probabilities under the policy that collected the data.
        advantages: ``(T, B)`` advantages (``A*`` for PAA), detached here.
        clip_range: ``eps``.
        log_ratio_clamp: if given, clamp ``log rho`` to ``[-c, c]`` before exponentiating, as
            the Melting Pot PAA code does with ``c = 10`` (guards ``exp`` overflow).
        unclipped_uses_log_prob: reproduce the 2-player ``eg`` code's quirk, whose unclipped
            branch is ``A * log pi`` instead of ``A * rho``
            (``min(A * clip(rho), A * log_ps)``). Off by default: it is not PPO.

    """
    _check_time_major("log_probs", log_probs)
    _check_time_major("old_log_probs", old_log_probs, log_probs)
    _check_time_major("advantages", advantages, log_probs)
    adv = advantages.detach()
    log_ratio = log_probs - old_log_probs.detach()
    if log_ratio_clamp is not None:
        log_ratio = log_ratio.clamp(-log_ratio_clamp, log_ratio_clamp)
    ratio = torch.exp(log_ratio)
    clipped = ratio.clamp(1.0 - clip_range, 1.0 + clip_range) * adv
    unclipped = (log_probs if unclipped_uses_log_prob else ratio) * adv
    return -torch.min(unclipped, clipped).mean()


class AlignedLoss(NamedTuple):
    """A PAA loss with its parts (for logging)."""

    loss: torch.Tensor
    """total loss to minimise"""
    surrogate: torch.Tensor
    """the clipped surrogate term (already negated)"""
    entropy: torch.Tensor
    """mean entropy (0 when none was given)"""
    aligned: torch.Tensor
    """the ``(T, B)`` aligned advantages used"""


def paa_loss(
    log_probs: torch.Tensor,
    old_log_probs: torch.Tensor,
    agent_advantages: torch.Tensor,
    opponent_advantages: torch.Tensor,
    beta: float,
    gamma: float,
    clip_range: float,
    episode_starts: torch.Tensor | None = None,
    entropy: torch.Tensor | None = None,
    entropy_coef: float = 0.0,
    *,
    running_mean: bool = False,
    normalize: bool = False,
    log_ratio_clamp: float | None = None,
    unclipped_uses_log_prob: bool = False,
) -> AlignedLoss:
    """Proximal Advantage Alignment: PPO's clipped surrogate with ``A*`` in place of ``A``.

    ``L = -mean_t[min(rho_t A*_t, clip(rho_t, 1-eps, 1+eps) A*_t)] - c_H * mean(H)`` (paper
    Eqs. 9-10 as digested in ALGORITHMS.md 2.6; Melting Pot code ``integrated_aa`` mode, whose
    settings are ``running_mean=True, normalize=True, log_ratio_clamp=10``). ``A*`` comes from
    :func:`aligned_advantages` (paper form by default). The 2-player ``eg`` code's quirk is
    available as ``unclipped_uses_log_prob=True`` (see :func:`ppo_clipped_loss`); the ``eg``
    code also keeps the ``A1`` and alignment terms as two separately clipped losses, which for
    this objective differs only in where the ``min`` is taken and is not reproduced.
    """
    aligned = aligned_advantages(
        agent_advantages,
        opponent_advantages,
        beta,
        gamma,
        episode_starts,
        running_mean=running_mean,
        normalize=normalize,
    )
    surrogate = ppo_clipped_loss(
        log_probs,
        old_log_probs,
        aligned,
        clip_range,
        log_ratio_clamp=log_ratio_clamp,
        unclipped_uses_log_prob=unclipped_uses_log_prob,
    )
    mean_entropy = entropy.mean() if entropy is not None else surrogate.new_zeros(())
    return AlignedLoss(
        loss=surrogate - entropy_coef * mean_entropy,
        surrogate=surrogate,
        entropy=mean_entropy,
        aligned=aligned,
    )


# --------------------------------------------------------------------------------------------
# Agent replay buffer
# --------------------------------------------------------------------------------------------


class AgentReplayBuffer:
    """A FIFO buffer of past parameter snapshots of an agent, sampled uniformly.

    LOQA (``push_to_rb`` / ``sample_agent_params``) pushes a snapshot every ``update_freq``
    iterations (every 10, capacity 10000) and pits each episode of a batch against a uniformly
    sampled past self; AA's ``AgentReplayBuffer`` does the same for a fraction of episodes.
    Snapshots are detached CPU clones of a ``state_dict`` (cheap for the small actors used
    here); when full, the oldest is dropped. Sampling is with replacement and reproducible given
    a ``torch.Generator`` or ``numpy.random.Generator``.

    Args:
        capacity: most snapshots kept.
        push_every: :meth:`maybe_push` pushes on iterations divisible by this.

    """

    def __init__(self, capacity: int, push_every: int = 1) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        if push_every < 1:
            raise ValueError(f"push_every must be at least 1, got {push_every}")
        self.capacity = int(capacity)
        self.push_every = int(push_every)
        self._snapshots: list[dict[str, torch.Tensor]] = []
        self._next = 0  # slot the next push overwrites once full
        self.num_pushed = 0

    def __len__(self) -> int:
        return len(self._snapshots)

    def push(self, state: nn.Module | Mapping[str, torch.Tensor]) -> None:
        """Store a detached CPU copy of ``state`` (a module or its ``state_dict``)."""
        state_dict = state.state_dict() if isinstance(state, nn.Module) else state
        snapshot = {
            name: (
                value.detach().to("cpu", copy=True)
                if isinstance(value, torch.Tensor)
                else copy.deepcopy(value)
            )
            for name, value in state_dict.items()
        }
        if len(self._snapshots) < self.capacity:
            self._snapshots.append(snapshot)
        else:
            self._snapshots[self._next] = snapshot
            self._next = (self._next + 1) % self.capacity
        self.num_pushed += 1

    def maybe_push(self, state: nn.Module | Mapping[str, torch.Tensor], iteration: int) -> bool:
        """Push on iterations ``0, push_every, 2 * push_every, ...``; return whether it did."""
        if iteration % self.push_every != 0:
            return False
        self.push(state)
        return True

    def _ordered(self) -> list[dict[str, torch.Tensor]]:
        """Snapshots oldest first."""
        return self._snapshots[self._next :] + self._snapshots[: self._next]

    def get(self, index: int) -> dict[str, torch.Tensor]:
        """Snapshot ``index``, counted from the oldest kept (0) to the newest (``len - 1``)."""
        return self._ordered()[index]

    def sample_indices(
        self, n: int, generator: torch.Generator | np.random.Generator | None = None
    ) -> torch.Tensor:
        """``n`` uniform indices (with replacement) into :meth:`get`, as an int64 tensor."""
        if not self._snapshots:
            raise RuntimeError("the agent replay buffer is empty: push a snapshot first")
        size = len(self._snapshots)
        if isinstance(generator, np.random.Generator):
            return torch.from_numpy(generator.integers(0, size, size=n).astype(np.int64))
        return torch.randint(0, size, (n,), generator=generator)

    def sample(
        self, n: int, generator: torch.Generator | np.random.Generator | None = None
    ) -> list[dict[str, torch.Tensor]]:
        """``n`` snapshots drawn uniformly with replacement (one per episode, say)."""
        ordered = self._ordered()
        return [ordered[i] for i in self.sample_indices(n, generator).tolist()]

    def state_dict(self) -> dict:
        """Everything needed to restore the buffer (for checkpoints), oldest snapshot first."""
        return {
            "capacity": self.capacity,
            "push_every": self.push_every,
            "num_pushed": self.num_pushed,
            "snapshots": self._ordered(),
        }

    def load_state_dict(self, state: Mapping) -> None:
        """Restore from :meth:`state_dict`."""
        self.capacity = int(state["capacity"])
        self.push_every = int(state["push_every"])
        self.num_pushed = int(state["num_pushed"])
        self._snapshots = list(state["snapshots"])[-self.capacity :]
        self._next = 0
