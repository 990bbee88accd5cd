"""Payoff tables of the iterated 2x2 games, as named presets.

A table has shape ``(2, 2, 2)``: ``table[a0, a1] = (reward of player_0, reward of player_1)``
when ``player_0`` plays ``a0`` and ``player_1`` plays ``a1``. Action 0 is the first action of the
game (cooperate, heads, stag, swerve, ...), action 1 the second. Presets are built by
:func:`payoff_table` and never read as globals inside compiled code.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MatrixGamePreset:
    """A named 2x2 game: its payoff table, action names and where the numbers come from."""

    name: str
    rewards: tuple[tuple[tuple[float, float], tuple[float, float]], ...]
    action_names: tuple[str, str]
    source: str

    def table(self) -> np.ndarray:
        """The payoff table as a fresh ``(2, 2, 2)`` float64 array."""
        return np.array(self.rewards, dtype=np.float64)


def _pd(cc: float, cd: float, dc: float, dd: float) -> tuple:
    """Symmetric 2x2 table from player_0's rewards for CC, CD, DC, DD."""
    return ((cc, cc), (cd, dc)), ((dc, cd), (dd, dd))


_F = 1.33  # POLA's contribution factor

PRESETS: dict[str, MatrixGamePreset] = {
    preset.name: preset
    for preset in [
        MatrixGamePreset(
            "ipd",
            _pd(-1.0, -3.0, 0.0, -2.0),
            ("cooperate", "defect"),
            "LOLA convention (Foerster et al. 2018; also PAX, M-FOS, LOQA): CC -1, CD -3, "
            "DC 0, DD -2. The default.",
        ),
        MatrixGamePreset(
            "ipd_3051",
            _pd(3.0, 0.0, 5.0, 1.0),
            ("cooperate", "defect"),
            "Axelrod's R=3, S=0, T=5, P=1 (PAX in_the_matrix configs).",
        ),
        MatrixGamePreset(
            "ipd_pola",
            _pd(_F - 1.0, _F / 2.0 - 1.0, _F / 2.0, 0.0),
            ("cooperate", "defect"),
            "POLA's contribution-factor IPD, f=1.33 (Zhao et al. 2022): CC f-1, CD f/2-1, "
            "DC f/2, DD 0. POLA's code indexes D first; here C is action 0 as everywhere else.",
        ),
        MatrixGamePreset(
            "matching_pennies",
            (((1.0, -1.0), (-1.0, 1.0)), ((-1.0, 1.0), (1.0, -1.0))),
            ("heads", "tails"),
            "LOLA convention: player_0 wins +1 when the coins match, player_1 wins +1 when "
            "they differ (M-FOS uses the opposite sign).",
        ),
        MatrixGamePreset(
            "stag_hunt",
            (((4.0, 4.0), (1.0, 3.0)), ((3.0, 1.0), (2.0, 2.0))),
            ("stag", "hare"),
            "PAX test table: SS 4, SH (1,3), HS (3,1), HH 2.",
        ),
        MatrixGamePreset(
            "chicken",
            (((0.0, 0.0), (-1.0, 1.0)), ((1.0, -1.0), (-2.0, -2.0))),
            ("swerve", "straight"),
            "PAX test table: both swerve 0, swerve vs straight (-1, 1), crash (-2, -2).",
        ),
        MatrixGamePreset(
            "chicken_meva",
            (((0.0, 0.0), (-1.0, 1.0)), ((1.0, -1.0), (-100.0, -100.0))),
            ("swerve", "straight"),
            "Meta-Value Learning's chicken (MetaValueLearning/MetaValueLearning@107c709 "
            "matrix.ipynb, PAYOFF_MATRICES): both swerve 0, swerve vs straight (-1, 1), "
            "crash (-100, -100).",
        ),
        MatrixGamePreset(
            "battle_of_sexes",
            (((3.0, 2.0), (0.0, 0.0)), ((0.0, 0.0), (2.0, 3.0))),
            ("opera", "football"),
            "PAX test table: both opera (3, 2), both football (2, 3), mismatch (0, 0).",
        ),
    ]
}

#: Presets that are prisoner's dilemmas, offered by ``ipd_v0``.
PRISONERS_DILEMMA_PRESETS = ("ipd", "ipd_3051", "ipd_pola")


def payoff_table(payoffs: str | object) -> tuple[np.ndarray, tuple[str, str]]:
    """Resolve ``payoffs`` (a preset name or a 2x2x2 table) to ``(table, action_names)``.

    Raises ValueError naming the problem for an unknown preset, a table of the wrong shape, a
    table of something other than real numbers (bool, complex, strings) or a table with NaN or
    infinite entries.
    """
    if isinstance(payoffs, str):
        if payoffs not in PRESETS:
            raise ValueError(f"unknown payoff preset {payoffs!r}; presets are {sorted(PRESETS)}")
        preset = PRESETS[payoffs]
        return preset.table(), preset.action_names
    try:
        # Python numbers stay themselves (dtype=object): a cast would take True, "3" and the
        # real part of 3+1j as numbers
        raw = (
            np.asarray(payoffs)
            if hasattr(payoffs, "__array__")  # ndarrays, tensors
            else np.asarray(payoffs, dtype=object)
        )
    except (TypeError, ValueError) as error:
        raise ValueError(f"payoffs must be a preset name or a (2, 2, 2) table: {error}") from None
    if raw.shape != (2, 2, 2):
        raise ValueError(
            "payoffs must have shape (2, 2, 2): table[a0, a1] = (reward of player_0, reward of "
            f"player_1); got shape {raw.shape}"
        )
    if raw.dtype.kind == "O":
        real = all(
            isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in raw.flat
        )
    else:
        real = raw.dtype.kind in "iuf"
    if not real:
        raise ValueError(
            "payoffs must be a preset name or a (2, 2, 2) table of real numbers (int or float), "
            f"got a table of {raw.dtype}: {raw.tolist()!r}"
        )
    table = raw.astype(np.float64)
    if not np.all(np.isfinite(table)):
        raise ValueError(f"payoffs must be finite numbers, got {table.tolist()}")
    return table, ("action_0", "action_1")
