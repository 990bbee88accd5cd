"""Scripted reference strategies of the Negotiation Game, in batch, from own-first observations.

The rules are functions that read nothing but observations (``(15,)`` or ``(n, 15)``, the
layout of ``negotiation_v0``) and return integer claims (``(3,)`` or ``(n, 3)`` int64), valid
actions in both the discrete and the continuous env; :class:`AlwaysCooperate`,
:class:`AlwaysDefect` and :class:`TitForTat` play them (coin flips from the seed given to
``reset``), and :meth:`NegotiationGame.strategies` lists them.

* :func:`always_cooperate` (AA's ``AlwaysCooperateAgent``): claim 5 of every item I value
  strictly more than the other player, 0 of every item I value strictly less, and on a tie
  5 or 0 by a fair coin flip.
* :func:`always_defect` (AA's ``AlwaysDefectAgent``): claim 5 of everything.
* :func:`tit_for_tat`: cooperate in the first round; afterwards play always-cooperate's claims
  if the other player's last proposal was cooperative (:func:`is_cooperative`), and
  always-defect's claims otherwise.

Expected rewards per high-contrast round (each item worth 5 to one player, 1 to the other):
AC-AC 0.5/0.5, AD-AD 0.3/0.3, AC-AD 0.25/0.55.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from socialdilemmas.core.strategy import RandomTieBreaks, Strategy
from socialdilemmas.negotiation.kernels import (
    MAX_CLAIM,
    NUM_ITEMS,
    OBS_MY_VALUES,
    OBS_SIZE,
    OBS_THEIR_CLAIMS,
    OBS_THEIR_VALUES,
)

# column blocks of an observation (see the observation table of negotiation_v0)
MY_VALUES = slice(OBS_MY_VALUES, OBS_MY_VALUES + NUM_ITEMS)
THEIR_VALUES = slice(OBS_THEIR_VALUES, OBS_THEIR_VALUES + NUM_ITEMS)
THEIR_CLAIMS = slice(OBS_THEIR_CLAIMS, OBS_THEIR_CLAIMS + NUM_ITEMS)

# Claims reach the observation as float32(claim / 10); reading them back can be off by float32
# rounding, far below any meaningful difference in a claim.
_CLAIM_SLACK = 1e-5


def _as_batch(observations: np.ndarray) -> tuple[np.ndarray, bool]:
    """View ``observations`` as ``(n, 15)``; also say whether a single one was given."""
    array = np.asarray(observations)
    single = array.ndim == 1
    batch = array[None] if single else array
    if batch.ndim != 2 or batch.shape[1] != OBS_SIZE:
        raise ValueError(
            f"observations must have shape ({OBS_SIZE},) or (n, {OBS_SIZE}), got {array.shape}"
        )
    return batch, single


def always_cooperate(observations: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Claim 5 where my value is strictly higher, 0 where lower, 5 or 0 by coin flip on a tie.

    Args:
        observations: ``(15,)`` or ``(n, 15)`` own-first observations.
        rng: source of the tie-breaking coin flips; one flip is drawn per item and game whether
            or not it is needed, so the stream advances the same way for every observation.

    Returns:
        int64 claims, ``(3,)`` or ``(n, 3)``.

    """
    batch, single = _as_batch(observations)
    mine = batch[:, MY_VALUES]
    theirs = batch[:, THEIR_VALUES]
    coin = rng.integers(0, 2, size=mine.shape, dtype=np.int64)
    claim_it = np.where(mine > theirs, 1, np.where(mine < theirs, 0, coin))
    claims = claim_it * MAX_CLAIM
    return claims[0] if single else claims


def always_defect(observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Claim 5 of every item.

    Args:
        observations: ``(15,)`` or ``(n, 15)`` own-first observations (only their number is used).
        rng: accepted so that every strategy here is called the same way; nothing is drawn.

    Returns:
        int64 claims, ``(3,)`` or ``(n, 3)``, all 5.

    """
    batch, single = _as_batch(observations)
    claims = np.full((batch.shape[0], NUM_ITEMS), MAX_CLAIM, dtype=np.int64)
    return claims[0] if single else claims


def is_cooperative(
    claims: np.ndarray,
    maker_values: np.ndarray,
    other_values: np.ndarray,
    tolerance: float = 0.0,
) -> np.ndarray:
    """Whether each proposal leaves the other player the items that are worth more to it.

    A proposal is cooperative when, on every item its maker values strictly less than the other
    player does, it claims at most ``tolerance``. Items valued equally may be claimed freely (on a
    tie always-cooperate flips a coin). Always-cooperate's proposals are cooperative,
    always-defect's are not (unless no item is valued more by the other player), and a proposal
    of all zeros always is.

    Args:
        claims: ``(n, 3)`` claims of the proposals' makers.
        maker_values: ``(n, 3)`` the makers' values of the round the proposals were made in.
        other_values: ``(n, 3)`` the other player's values of that round.
        tolerance: largest claim still counted as leaving an item alone (0 by default: any
            claim on the other player's item counts as defection).

    Returns:
        ``(n,)`` bool.

    """
    claims = np.asarray(claims, dtype=np.float64)
    theirs = np.asarray(maker_values) < np.asarray(other_values)
    grabbed = theirs & (claims > tolerance + _CLAIM_SLACK)
    return ~grabbed.any(axis=-1)


def tit_for_tat(
    observations: np.ndarray,
    previous_observations: np.ndarray | None,
    rng: np.random.Generator,
    tolerance: float = 0.0,
) -> np.ndarray:
    """Cooperate first, then copy whether the other player's last proposal was cooperative.

    The observation holds the claims of the round just played but the values of the *upcoming*
    round, so judging the last proposal needs the values it was made under: those of the
    previous observation. The caller keeps that observation (a memory of one step).

    At the start of an episode the observed claims are all zero, which counts as cooperative,
    so a stale ``previous_observations`` from the episode before does no harm and a vector env's
    automatic resets need no special care.

    Args:
        observations: ``(15,)`` or ``(n, 15)`` own-first observations of this round.
        previous_observations: the observations of the round before, same shape, or None in the
            first round (then every game cooperates).
        rng: source of always-cooperate's tie-breaking coin flips.
        tolerance: passed to :func:`is_cooperative`.

    Returns:
        int64 claims, ``(3,)`` or ``(n, 3)``: always-cooperate's or always-defect's.

    """
    batch, single = _as_batch(observations)
    cooperate = always_cooperate(batch, rng)
    if previous_observations is None:
        claims = cooperate
    else:
        previous, _ = _as_batch(previous_observations)
        if previous.shape != batch.shape:
            raise ValueError(
                f"previous_observations must have the shape of observations {batch.shape}, "
                f"got {previous.shape}"
            )
        trusted = is_cooperative(
            batch[:, THEIR_CLAIMS].astype(np.float64) * 10.0,
            previous[:, THEIR_VALUES],
            previous[:, MY_VALUES],
            tolerance,
        )
        claims = np.where(trusted[:, None], cooperate, MAX_CLAIM)
    return claims[0] if single else claims


# ---- the scripted players -----------------------------------------------------------------------
class AlwaysCooperate(RandomTieBreaks):
    """Claims the items it values more (AA's ``AlwaysCooperateAgent``)."""

    name = "always_cooperate"

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """AC's claims in every game."""
        return always_cooperate(observations, self._rng)


class AlwaysDefect(RandomTieBreaks):
    """Claims 5 of every item (AA's ``AlwaysDefectAgent``)."""

    name = "always_defect"

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """AD's claims in every game."""
        return always_defect(observations, self._rng)


class TitForTat(RandomTieBreaks):
    """Cooperates first, then answers the other player's last proposal in kind.

    Keeps each game's previous observation (the values the last proposals were made under).
    """

    name = "tit_for_tat"

    def __init__(self) -> None:
        super().__init__()
        self._previous: np.ndarray | None = None

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Forget the previous round of every game."""
        super().reset(num_envs, seed)
        self._previous = None

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """TFT's claims; an episode's first observation shows no claims, so it cooperates."""
        previous = self._previous
        if previous is not None and previous.shape != observations.shape:
            previous = None
        claims = tit_for_tat(observations, previous, self._rng)
        self._previous = np.array(observations, copy=True)
        return claims


#: strategy name -> factory
STRATEGIES: dict[str, Callable[[], Strategy]] = {
    "always_cooperate": AlwaysCooperate,
    "always_defect": AlwaysDefect,
    "tit_for_tat": TitForTat,
}
