"""The exact, differentiable value of memory-one policies in iterated 2x2 games (torch).

A player's parameters are five logits of the probability of playing **action 0** (cooperate,
heads, stag, swerve, opera) in each state, seen from the player's **own view**, in the layout of
the env's observation (and of :mod:`socialdilemmas.matrix.exact`), so that ``sigmoid(x)[obs]``
is directly a policy of the env::

    x = [logit P(0 | CC), logit P(0 | CD), logit P(0 | DC), logit P(0 | DD), logit P(0 | start)]

where CD means "I played C (action 0), the other played D (action 1)".

State orderings, written down once
----------------------------------

============================  ============================  ===========================
state, player's own view      env observation, exact.py,    MeVa code (``matrix.ipynb``,
                              these parameters              ``MetaValueLearning@107c709``)
============================  ============================  ===========================
CC (both played action 0)     0                             4
CD (I: 0, other: 1)           1                             3
DC (I: 1, other: 0)           2                             2
DD (both played action 1)     3                             1
start (nothing played yet)    4                             0
============================  ============================  ===========================

- MeVa numbers actions the other way round (0 = D, 1 = C) and stores logits of P(C), which is
  P(our action 0): the same numbers, so converting is the index permutation above (a reversal,
  its own inverse): :func:`to_meva_layout`, :func:`from_meva_layout`.
- Both codes hold each player's parameters in its own view. To build the joint Markov chain,
  player_1's entries are re-indexed by player_0's view, which swaps CD and DC
  (:data:`socialdilemmas.matrix.exact.SWAP_VIEW` here, ``pi[1, (0, 1, 3, 2, 4)]`` in MeVa's
  layout).

The value
---------

With the joint action ``s`` in player_0's view (CC, CD, DC, DD) as the Markov state, ``d0`` the
distribution of the first joint action and ``P`` the 4x4 transition matrix,

    f_i(x_0, x_1) = (1 - gamma) d0^T (I - gamma P)^-1 r_i,

the discounted *average* reward per step (-1 for mutual cooperation and -2 for mutual defection
in the IPD), as the MeVa code normalises it. It is computed through the discounted state
occupancy ``y = (I - gamma P)^-T d0`` (one batched :func:`torch.linalg.solve`), so both players'
values come from one solve, and it is differentiable twice by autograd.
:func:`socialdilemmas.matrix.exact.exact_values` solves for the per-state values instead; the
two formulations are tested against each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from socialdilemmas.matrix.exact import SWAP_VIEW
from socialdilemmas.matrix.payoffs import payoff_table

#: the MeVa index of each of our entries (and, the permutation being a reversal, the other way)
MEVA_LAYOUT = (4, 3, 2, 1, 0)

#: step sizes of the MeVa code for the presets where it differs from 1 / (1 - gamma): its
#: chicken punishes a crash with -100, so it uses 1 "to match LOLA/M-FOS learning rates"
REFERENCE_LEARNING_RATES = {"chicken_meva": 1.0}


def to_meva_layout(x: torch.Tensor) -> torch.Tensor:
    """Reorder parameters ``(..., 5)`` from our layout to MeVa's ``[start, DD, DC, CD, CC]``."""
    return x[..., list(MEVA_LAYOUT)]


def from_meva_layout(x: torch.Tensor) -> torch.Tensor:
    """Reorder parameters ``(..., 5)`` from MeVa's ``[start, DD, DC, CD, CC]`` to ours."""
    return x[..., list(MEVA_LAYOUT)]


@dataclass(frozen=True)
class ExactGame:
    """An iterated 2x2 game whose players' returns are computed in closed form.

    Args:
        payoffs: a preset of :data:`socialdilemmas.matrix.payoffs.PRESETS` or a ``(2, 2, 2)``
            table ``table[a0, a1] = (r0, r1)``, exactly as the env takes it.
        gamma: discount of the iterated game, in [0, 1).
    """

    payoffs: str | object = "ipd"
    gamma: float = 0.96
    rewards: torch.Tensor = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        gamma = float(self.gamma)
        if not 0.0 <= gamma < 1.0:
            raise ValueError(f"gamma must be in [0, 1), got {self.gamma!r}")
        table, _ = payoff_table(self.payoffs)
        if not isinstance(self.payoffs, str):
            nested = tuple(tuple(tuple(cell) for cell in row) for row in table.tolist())
            object.__setattr__(self, "payoffs", nested)  # hashable, and valid to re-check
        object.__setattr__(self, "gamma", gamma)
        # rows CC, CD, DC, DD of player_0's view, columns the two players
        object.__setattr__(
            self, "rewards", torch.as_tensor(table.reshape(4, 2), dtype=torch.float64)
        )

    @property
    def name(self) -> str:
        """The preset name, or ``"custom"`` for a table."""
        return self.payoffs if isinstance(self.payoffs, str) else "custom"

    @property
    def reference_learning_rate(self) -> float:
        """The step size the MeVa code uses: 1 / (1 - gamma), except where it says otherwise."""
        return REFERENCE_LEARNING_RATES.get(self.name, 1.0 / (1.0 - self.gamma))

    def table(self) -> np.ndarray:
        """The payoff table ``(2, 2, 2)``."""
        return self.rewards.numpy().reshape(2, 2, 2).copy()

    def values(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        """Both players' normalised returns ``(..., 2)`` for logits ``x0``, ``x1`` ``(..., 5)``.

        ``x0`` is player_0's parameters and ``x1`` player_1's, each in its own view; leading
        axes broadcast (a batch of trials). Differentiable; float64 throughout.
        """
        if x0.shape[-1] != 5 or x1.shape[-1] != 5:
            raise ValueError(
                f"parameters must have 5 entries in the last axis, got {tuple(x0.shape)} and "
                f"{tuple(x1.shape)}"
            )
        p = torch.sigmoid(x0.to(torch.float64))
        q = torch.sigmoid(x1.to(torch.float64))[..., list(SWAP_VIEW)]  # player_0's view
        p, q = torch.broadcast_tensors(p, q)
        # the joint distribution over (CC, CD, DC, DD) given each player's P(action 0)
        joint = torch.stack([p * q, p * (1 - q), (1 - p) * q, (1 - p) * (1 - q)], -1)
        start, transition = joint[..., 4, :], joint[..., :4, :]  # (..., 4), (..., 4, 4)
        eye = torch.eye(4, dtype=torch.float64, device=transition.device)
        system = (eye - self.gamma * transition).transpose(-1, -2)
        occupancy = torch.linalg.solve(system, start.unsqueeze(-1)).squeeze(-1)
        rewards = self.rewards.to(transition.device)
        return (1.0 - self.gamma) * occupancy @ rewards

    def swapped(self) -> ExactGame:
        """The game with its players' seats exchanged (itself when the game is symmetric).

        Player 0 of the result gets what player 1 got: ``table'[a, b] = table[b, a]`` with the
        two rewards exchanged. A learner trained in seat 0 of the swapped game has in effect
        been trained in seat 1 of this one.
        """
        table = self.table()
        swapped = table.transpose(1, 0, 2)[..., ::-1]
        if np.array_equal(swapped, table):
            return self
        return ExactGame(swapped.copy(), self.gamma)

    def seat(self, seat: int) -> SeatView:
        """The game as player ``seat`` sees it: values ordered (own, other)."""
        return SeatView(self, seat)


@dataclass(frozen=True)
class SeatView:
    """One seat of an :class:`ExactGame`: :meth:`values` takes and returns (own, other)."""

    game: ExactGame
    seat: int

    def __post_init__(self) -> None:
        if self.seat not in (0, 1):
            raise ValueError(f"seat must be 0 or 1, got {self.seat!r}")

    def values(self, own: torch.Tensor, other: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(f_own, f_other)``, each of the batch shape, for this seat's and the other's logits."""
        if self.seat == 0:
            both = self.game.values(own, other)
            return both[..., 0], both[..., 1]
        both = self.game.values(other, own)
        return both[..., 1], both[..., 0]
