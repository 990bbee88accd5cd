"""The Advantage Alignment estimator: the aligned advantage ``A*`` from both seats' advantages.

Duque et al., "Advantage Alignment Algorithms", ICLR 2025; reference code
``jduquevan/advantage-alignment`` (branch ``eg`` @e99df9c for the 2-player AA/PAA, ``master``
@2065e43 for the Melting Pot N-player PAA). Pure functions over time-major ``(T, B)`` tensors
(one seat of :class:`agents.rollout.Trajectory`).

* ``episode_starts[t, b]`` is True where step ``t`` opens an episode of game ``b``; every
  accumulation over time restarts there, so a batch may hold several consecutive episodes.
* Advantages passed in are already computed (GAE, TD(0), Monte Carlo) and are treated as
  constants: every function detaches them.
* "Agent" (index 1 in the papers) is the learner; "opponent" (index 2) is the other seat.
* AA and PAA need only the agent's log-probabilities of its own actions and two scalar
  advantages, so they apply unchanged to continuous actions (any differentiable density).
"""

from __future__ import annotations

import torch

from agents.algorithms.core.returns import normalize_advantages

__all__ = ["aligned_advantages", "discounted_past_advantages", "mean_past_advantages"]


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

    Paper form (default; the README of ``jduquevan/advantage-alignment@e99df9c``)::

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
