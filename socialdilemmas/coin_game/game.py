"""The Coin Game as a :class:`BatchedGame` over the kernels in ``kernels.py``.

Rule presets, argument checks, reading and writing boards in the state array (for tests and
scripted setups), and the text and RGB pictures. The rules themselves live in the kernels.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from socialdilemmas.coin_game import kernels, strategies
from socialdilemmas.core.compile_notice import announce_cold_compile
from socialdilemmas.core.game import BatchedGame, MetricCounts, StepBuffers
from socialdilemmas.core.strategy import Strategy
from socialdilemmas.core.validation import check_choice, check_positive_int

#: Names of the observation planes, from the observer's side.
PLANE_LABELS = ("me", "other", "my coin", "other's coin")
#: Names of the actions, in the LOLA/POLA move table (index 4 only with ``rules="pax"``).
ACTION_NAMES = ("right", "left", "down", "up", "stay")


@dataclass(frozen=True)
class CoinGameRules:
    """One variant of the Coin Game's rules.

    Attributes:
        name: preset name, the value of the ``rules`` argument.
        num_coins: 1 (one coin whose owner alternates) or 2 (a red and a blue coin always present).
        num_actions: 4 moves, or 5 with "stay" as action 4.
        spawn_anywhere: coins (at reset and after a pickup) appear on any cell, possibly under a
            player or the other coin; otherwise only on cells no player occupies.
        source: where the variant comes from.

    """

    name: str
    num_coins: int
    num_actions: int
    spawn_anywhere: bool
    source: str


RULES: dict[str, CoinGameRules] = {
    rules.name: rules
    for rules in [
        CoinGameRules(
            "loqa",
            1,
            4,
            False,
            "LOQA/POLA family (also LOLA-DiCE and POLA's pytorch version): one coin, owner "
            "alternates on every pickup, first owner random, new coin on a cell without players.",
        ),
        CoinGameRules(
            "pax",
            2,
            5,
            True,
            "PAX/JaxMARL: a red and a blue coin always present, 5 actions (4 = stay), coins "
            "respawn uniformly over all cells.",
        ),
    ]
}

DEFAULT_PAYOFFS = (1.0, 1.0, -2.0)
#: Largest board: the kernels' 32-bit uniform draws and float row arithmetic stay exact far
#: beyond it, and an observation of this size is already 32 MiB.
MAX_GRID_SIZE = 1024


def check_payoffs(payoffs: object) -> np.ndarray:
    """Return ``payoffs`` as a read-only float64 ``[own, other, penalty]`` vector, or raise."""
    if isinstance(payoffs, (str, bytes)) or not isinstance(payoffs, (Sequence, np.ndarray)):
        raise TypeError(
            f"payoffs must be a sequence of 3 numbers (own coin, other's coin, penalty), "
            f"got {payoffs!r}"
        )
    values = list(np.asarray(payoffs, dtype=object).ravel())
    if np.ndim(payoffs) != 1 or len(values) != 3:
        raise ValueError(
            f"payoffs must be 3 numbers (own coin, other's coin, penalty), got {payoffs!r}"
        )
    for value in values:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"payoffs must be real numbers, got {payoffs!r}")
        if not math.isfinite(float(value)):
            raise ValueError(f"payoffs must be finite, got {payoffs!r}")
    table = np.array([float(v) for v in values], dtype=np.float64)
    table.setflags(write=False)
    return table


@dataclass(frozen=True)
class Board:
    """A readable snapshot of one game: positions as ``(row, column)``.

    Attributes:
        step: steps taken in the episode.
        players: positions of player_0 (red) and player_1 (blue).
        coins: ``(row, column, owner seat)`` of every coin on the board.

    """

    step: int
    players: tuple[tuple[int, int], tuple[int, int]]
    coins: tuple[tuple[int, int, int], ...]


class CoinGame(BatchedGame):
    """The Coin Game on a ``grid_size`` torus (see ``coin_game_v0`` for the rules).

    Args:
        grid_size: side of the square board, 2 to 1024.
        rules: ``"loqa"`` (default, one alternating coin) or ``"pax"`` (two coins, stay action).
        egocentric: re-centre every observation on the observer.
        payoffs: ``(own coin, other's coin, penalty to the owner)``, default ``(1, 1, -2)``.

    """

    state_width = kernels.STATE_WIDTH
    headline_metric = "own_coin_share"

    def __init__(
        self,
        grid_size: int = 3,
        rules: str = "loqa",
        egocentric: bool = False,
        payoffs: Sequence[float] = DEFAULT_PAYOFFS,
    ) -> None:
        self.grid_size = check_positive_int(grid_size, "grid_size", minimum=2)
        if self.grid_size > MAX_GRID_SIZE:
            raise ValueError(
                f"grid_size must be at most {MAX_GRID_SIZE} (each observation holds "
                f"8 * grid_size**2 floats), got {grid_size}"
            )
        self.rules = RULES[check_choice(rules, "rules", tuple(RULES))]
        if not isinstance(egocentric, (bool, np.bool_)):
            raise TypeError(f"egocentric must be True or False, got {egocentric!r}")
        self.egocentric = bool(egocentric)
        self.payoffs = check_payoffs(payoffs)
        self.params = kernels.make_params(
            self.grid_size,
            self.rules.num_coins,
            self.rules.num_actions,
            self.rules.spawn_anywhere,
            self.egocentric,
        )
        g = self.grid_size
        self.observation_space = spaces.Box(0.0, 1.0, shape=(4, g, g), dtype=np.float32)
        self.action_space = spaces.Discrete(self.rules.num_actions)
        self.info_fields = {"pickups": ((2, 2), np.int64)}

    # ---- kernels ----------------------------------------------------------------------------
    def reset_envs(self, state, rng, env_ids, buffers: StepBuffers) -> None:
        """Place players and coins at random (from each game's stream) and write the obs."""
        announce_cold_compile("Coin Game", kernels)
        kernels.reset_kernel(state, rng, env_ids, self.params, buffers.observations)
        buffers.info["pickups"][env_ids] = 0
        buffers.rewards[env_ids] = 0.0

    def step_envs(self, state, rng, actions, max_cycles, autoreset, buffers: StepBuffers) -> int:
        """Move both players, pay and respawn collected coins, write obs and pickups."""
        return kernels.step_kernel(
            state,
            rng,
            actions,
            self.params,
            self.payoffs,
            max_cycles,
            autoreset,
            buffers.observations,
            buffers.rewards,
            buffers.truncated,
            buffers.final_observations,
            buffers.info["pickups"],
        )

    # ---- per-agent views --------------------------------------------------------------------
    def agent_infos(self, buffers: StepBuffers, env: int) -> list[dict[str, Any]]:
        """Pickup counts of the last step, from each seat's side.

        ``own_coin_pickups``: coins of mine I collected; ``other_coin_pickups``: coins of the
        other player I collected; ``own_coin_taken_by_other``: coins of mine the other player
        collected (it cost me the penalty each time).
        """
        (mine_0, theirs_0), (theirs_1, mine_1) = buffers.info["pickups"][env].tolist()
        return [
            {
                "own_coin_pickups": mine_0,
                "other_coin_pickups": theirs_0,
                "own_coin_taken_by_other": theirs_1,
            },
            {
                "own_coin_pickups": mine_1,
                "other_coin_pickups": theirs_1,
                "own_coin_taken_by_other": theirs_0,
            },
        ]

    # ---- boards -----------------------------------------------------------------------------
    def board(self, state: np.ndarray, env: int) -> Board:
        """Read game ``env`` of ``state`` as a :class:`Board`."""
        row = state[env].tolist()
        coins = tuple(
            (row[base], row[base + 1], row[base + 2])
            for base in range(
                kernels.COIN_BASE,
                kernels.COIN_BASE + kernels.COIN_FIELDS * self.rules.num_coins,
                kernels.COIN_FIELDS,
            )
        )
        return Board(
            step=row[kernels.STEP],
            players=(
                (row[kernels.ROW0], row[kernels.COL0]),
                (row[kernels.ROW1], row[kernels.COL1]),
            ),
            coins=coins,
        )

    def set_board(
        self,
        state: np.ndarray,
        env: int,
        players: Sequence[Sequence[int]],
        coins: Sequence[Sequence[int]],
        step: int = 0,
        buffers: StepBuffers | None = None,
    ) -> None:
        """Write a hand-made position into game ``env`` (tests, scripted setups).

        Args:
            state: the state array of a batch.
            env: which game to overwrite.
            players: ``(row, column)`` of player_0 and player_1.
            coins: ``(row, column, owner seat)`` per coin; one coin under ``rules="loqa"``, the
                red (owner 0) then the blue (owner 1) coin under ``rules="pax"``.
            step: steps already taken in the episode.
            buffers: if given, its observations of ``env`` are rewritten to match.

        """
        g = self.grid_size
        if len(players) != 2:
            raise ValueError(f"players must hold 2 positions, got {players!r}")
        if len(coins) != self.rules.num_coins:
            raise ValueError(
                f"rules={self.rules.name!r} has {self.rules.num_coins} coin(s), got {coins!r}"
            )
        for position in players:
            if len(position) != 2 or not all(0 <= int(x) < g for x in position):
                raise ValueError(
                    f"player position must be (row, column) in [0, {g}), got {position!r}"
                )
        for k, coin in enumerate(coins):
            if (
                len(coin) != 3
                or not all(0 <= int(x) < g for x in coin[:2])
                or coin[2] not in (0, 1)
            ):
                raise ValueError(
                    f"coin must be (row, column, owner seat) with row, column in [0, {g}), "
                    f"got {coin!r}"
                )
            if self.rules.num_coins == 2 and int(coin[2]) != k:
                raise ValueError(
                    "under rules='pax' the first coin is owned by seat 0, the second by seat 1"
                )
        row = state[env]
        row[:] = 0
        row[kernels.STEP] = step
        (row[kernels.ROW0], row[kernels.COL0]), (row[kernels.ROW1], row[kernels.COL1]) = players
        for k, coin in enumerate(coins):
            base = kernels.COIN_BASE + kernels.COIN_FIELDS * k
            row[base : base + 3] = coin
        if buffers is not None:
            kernels.observe_kernel(
                state, np.array([env], dtype=np.int64), self.params, buffers.observations
            )

    # ---- rendering --------------------------------------------------------------------------
    # ---- what the literature measures ---------------------------------------------------------
    def metric_counts(self, observations, actions, rewards, info) -> MetricCounts:
        """Per seat: ``own_coin_share`` and ``pickups_per_step``.

        ``own_coin_share`` is own / (own + other's) coins picked up (LOQA's "own%");
        ``pickups_per_step`` counts coins of either colour picked up per step.
        """
        # pickups[t, b, picker, owner]: coins of ``owner`` collected by ``picker`` on step t
        pickups = info["pickups"].sum((0, 1)).astype(np.float64)
        own = np.diag(pickups).copy()
        total = pickups.sum(1)
        steps = np.full(2, float(rewards.shape[0] * rewards.shape[1]))
        return {"own_coin_share": (own, total), "pickups_per_step": (total, steps)}

    def strategies(self) -> dict[str, Callable[[], Strategy]]:
        """LOQA's always-cooperate and always-defect, POLA's tit-for-tat (single-coin rules)."""
        return {name: functools.partial(cls, self) for name, cls in strategies.STRATEGIES.items()}

    def render_ansi(self, state: np.ndarray, buffers: StepBuffers, env: int) -> str:
        """Text board: ``R``/``B`` players 0/1, ``r``/``b`` their coins, ``.`` an empty cell."""
        board = self.board(state, env)
        g = self.grid_size
        cells = [["" for _ in range(g)] for _ in range(g)]
        for (r, c), mark in zip(board.players, "RB", strict=True):
            cells[r][c] += mark
        for r, c, owner in board.coins:
            cells[r][c] += "rb"[owner]
        width = max(2, max(len(text) for line in cells for text in line))
        lines = [f"step {board.step}"]
        lines += [" ".join((text or ".").ljust(width) for text in line).rstrip() for line in cells]
        r0, r1 = buffers.rewards[env].tolist()
        lines.append(f"last rewards: player_0 {r0:g}, player_1 {r1:g}")
        return "\n".join(lines)

    def render_rgb(self, state: np.ndarray, buffers: StepBuffers, env: int) -> np.ndarray:
        """RGB picture (``32 * grid_size`` pixels square, uint8), drawn with NumPy only.

        Players are filled squares (red player_0, blue player_1; a shared cell is split left
        red, right blue); coins are discs of their owner's colour with a dark rim, on top.
        """
        board = self.board(state, env)
        cell = _CELL
        g = self.grid_size
        image = np.empty((g * cell, g * cell, 3), dtype=np.uint8)
        image[...] = _BACKGROUND
        image[::cell, :] = _GRID_LINE
        image[:, ::cell] = _GRID_LINE
        (p0r, p0c), (p1r, p1c) = board.players
        shared = (p0r, p0c) == (p1r, p1c)
        for seat, (r, c) in enumerate(board.players):
            top, left = r * cell + _MARGIN, c * cell + _MARGIN
            size = cell - 2 * _MARGIN
            if shared:
                half = size // 2
                left, size_c = (left, half) if seat == 0 else (left + half, size - half)
            else:
                size_c = size
            image[top : top + size, left : left + size_c] = _PLAYER_COLOURS[seat]
        for r, c, owner in board.coins:
            patch = image[r * cell : (r + 1) * cell, c * cell : (c + 1) * cell]
            patch[_COIN_RIM] = _COIN_RIM_COLOUR
            patch[_COIN_DISC] = _COIN_COLOURS[owner]
        return image


_CELL = 32
_MARGIN = 3
_BACKGROUND = np.array([235, 235, 235], dtype=np.uint8)
_GRID_LINE = np.array([160, 160, 160], dtype=np.uint8)
_PLAYER_COLOURS = np.array([[215, 48, 39], [49, 54, 189]], dtype=np.uint8)
_COIN_COLOURS = np.array([[252, 141, 89], [116, 173, 209]], dtype=np.uint8)
_COIN_RIM_COLOUR = np.array([40, 40, 40], dtype=np.uint8)


def _disc(radius: float) -> np.ndarray:
    """Boolean mask of a disc of ``radius`` pixels centred in a cell."""
    centre = (_CELL - 1) / 2.0
    y, x = np.mgrid[0:_CELL, 0:_CELL]
    return (y - centre) ** 2 + (x - centre) ** 2 <= radius**2


_COIN_RIM = _disc(_CELL * 0.3)
_COIN_DISC = _disc(_CELL * 0.3 - 2.0)
