"""Exact infinite-horizon discounted values of memory-one policies in iterated 2x2 games.

A memory-one policy is 5 probabilities of playing action 0 ("cooperate"), one per observation
of the env, **in the observer's own view** (the layout of the env's observation):

    p = [P(C | CC), P(C | CD), P(C | DC), P(C | DD), P(C | start)]

where CD means "I cooperated, the other defected". Tit-for-tat is ``[1, 0, 1, 0, 1]`` for
either seat. (LOLA indexes both agents' parameters from agent 1's view and M-FOS puts the start
state first; :func:`from_agent1_view` converts the former.)

With the joint action ``s`` in player_0's view as the Markov state and ``P`` its 4x4 transition
matrix, the discounted value is ``V_i = s0 @ inv(I - gamma P) @ R_i = sum_t gamma^t E[r_i,t]``;
multiply by ``1 - gamma`` for the average reward per step (-1 = mutual cooperation in the IPD).

:func:`exact_values` works on NumPy arrays and, unchanged, on torch tensors (it is differentiable
there, which is what exact LOLA needs): the array module is picked from the input's type.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from socialdilemmas.matrix.game import OTHER_VIEW
from socialdilemmas.matrix.payoffs import payoff_table

#: own-view index of each state as seen by player_1, given player_0's view (CD <-> DC swap)
SWAP_VIEW = OTHER_VIEW


def _namespace(x: Any):
    if type(x).__module__.startswith("torch"):
        import torch

        return torch
    return np


def from_agent1_view(p_player_1: Any) -> Any:
    """Convert player_1's probabilities from agent-1 indexing (LOLA) to its own view."""
    return p_player_1[..., list(SWAP_VIEW)]


def exact_values(p0: Any, p1: Any, payoffs: str | object = "ipd", gamma: float = 0.96) -> Any:
    """Discounted values ``(..., 2)`` of memory-one policies ``p0``, ``p1`` (shape ``(..., 5)``).

    Args:
        p0: player_0's probabilities of action 0, own view, shape ``(..., 5)``.
        p1: player_1's probabilities of action 0, own view, same shape.
        payoffs: preset name or ``(2, 2, 2)`` table, as for the env.
        gamma: discount in [0, 1).

    Returns:
        ``V[..., i] = sum_t gamma^t E[r_i,t]`` for both players (NumPy or torch, like the input).
    """
    if not 0.0 <= gamma < 1.0:
        raise ValueError(f"gamma must be in [0, 1), got {gamma}")
    xp = _namespace(p0)
    if p0.shape[-1] != 5 or p1.shape[-1] != 5:
        raise ValueError(
            f"policies must have 5 entries in the last axis, got {p0.shape}, {p1.shape}"
        )
    table, _ = payoff_table(payoffs)
    rewards = table.reshape(4, 2)  # rows CC, CD, DC, DD from player_0's view
    q1 = p1[..., list(SWAP_VIEW)]  # player_1's probabilities indexed by player_0's view
    if xp is np:
        p0, q1 = np.asarray(p0, dtype=np.float64), np.asarray(q1, dtype=np.float64)
        reward_matrix = rewards
    else:
        reward_matrix = xp.as_tensor(rewards, dtype=p0.dtype, device=p0.device)

    def joint(x, y):  # distribution over CC, CD, DC, DD
        return xp.stack([x * y, x * (1 - y), (1 - x) * y, (1 - x) * (1 - y)], -1)

    start = joint(p0[..., 4], q1[..., 4])  # (..., 4)
    transition = joint(p0[..., :4], q1[..., :4])  # (..., 4 from, 4 to)
    eye = (
        xp.eye(4, dtype=transition.dtype)
        if xp is np
        else xp.eye(4, dtype=transition.dtype, device=transition.device)
    )
    system = eye - gamma * transition
    # an explicit batch axis: NumPy < 2 does not broadcast a matrix right-hand side in solve
    rhs = xp.broadcast_to(reward_matrix, (*system.shape[:-1], 2))
    per_state = xp.linalg.solve(system, rhs)  # (..., 4, 2)
    return (start[..., :, None] * per_state).sum(-2)


def average_rewards(p0: Any, p1: Any, payoffs: str | object = "ipd", gamma: float = 0.96) -> Any:
    """``(1 - gamma) * exact_values(...)``: the discounted average reward per step."""
    return (1.0 - gamma) * exact_values(p0, p1, payoffs, gamma)
