"""The exact-game tournament of the MeVa paper: every pair of learners, from random starts.

For each ordered pair (row learner in seat 0, column learner in seat 1), ``trials`` independent
games start from each learner's initial parameters (N(0, 1) logits by default), both learners
update simultaneously ``steps`` times, and the cell is the exact return of the final parameters:
mean and standard error over the trials (MetaValueLearning/MetaValueLearning@107c709
``matrix.ipynb::tournament``: 300 steps, 1024 trials). All trials of a cell are one batch.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from agents.algorithms.exact.interface import ExactLearner
from agents.algorithms.exact.value import ExactGame
from agents.validation import NonFiniteError


@dataclass
class TournamentResult:
    """Returns of every ordered pair: ``mean[i, j, s]``, seat ``s``'s return in ``i`` vs ``j``.

    Seat 0 is the row learner, seat 1 the column learner; ``sem`` is the standard error of the
    mean over the trials and ``seconds[i, j]`` the time the cell took.
    """

    names: list[str]
    mean: np.ndarray
    sem: np.ndarray
    seconds: np.ndarray
    game: str
    gamma: float
    trials: int
    steps: int
    seed: int

    def format(self) -> str:
        """The table of the row learner's return, ``mean ~ sem``, as aligned text."""
        width = max(16, *(len(name) + 2 for name in self.names))
        lines = [
            f"{self.game}: return of the row learner against the column learner "
            f"({self.trials} trials x {self.steps} steps, mean ~ SEM)",
            "".ljust(width) + "".join(name.rjust(width) for name in self.names),
        ]
        for i, name in enumerate(self.names):
            cells = (
                f"{self.mean[i, j, 0]:+.2f} ~ {self.sem[i, j, 0]:.2f}".rjust(width)
                for j in range(len(self.names))
            )
            lines.append(name.ljust(width) + "".join(cells))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Plain data (lists and numbers), what :meth:`to_json` writes."""
        return {
            "game": self.game,
            "gamma": self.gamma,
            "trials": self.trials,
            "steps": self.steps,
            "seed": self.seed,
            "names": list(self.names),
            "row_return": self.mean[..., 0].tolist(),
            "row_return_sem": self.sem[..., 0].tolist(),
            "column_return": self.mean[..., 1].tolist(),
            "column_return_sem": self.sem[..., 1].tolist(),
            "seconds": self.seconds.tolist(),
        }

    def to_csv(self, path: str | Path) -> Path:
        """One line per ordered pair: row, column, both returns and their standard errors."""
        path = Path(path)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["row", "column", "row_return", "row_sem", "column_return", "column_sem"]
            )
            for i, row in enumerate(self.names):
                for j, column in enumerate(self.names):
                    writer.writerow(
                        [
                            row,
                            column,
                            self.mean[i, j, 0],
                            self.sem[i, j, 0],
                            self.mean[i, j, 1],
                            self.sem[i, j, 1],
                        ]
                    )
        return path

    def to_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    def heatmap_png(self, path: str | Path) -> Path:
        """The row learner's return as an annotated heatmap."""
        from agents.evaluation.plots import heatmap_png

        title = f"{self.game}: row learner's return ({self.trials} trials, {self.steps} steps)"
        return heatmap_png(self.mean[..., 0], self.names, path, title=title)

    def save(self, folder: str | Path) -> list[Path]:
        """Write ``tournament.csv``, ``tournament.json`` and ``tournament.png`` into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        return [
            self.to_csv(folder / "tournament.csv"),
            self.to_json(folder / "tournament.json"),
            self.heatmap_png(folder / "tournament.png"),
        ]


def play_pair(
    row: ExactLearner,
    column: ExactLearner,
    game: ExactGame,
    trials: int = 1024,
    steps: int = 300,
    seed: int = 0,
) -> torch.Tensor:
    """The final exact returns ``(trials, 2)`` of ``row`` (seat 0) against ``column`` (seat 1).

    Both start from their :meth:`~ExactLearner.initial_parameters`, drawn from one generator
    seeded with ``seed`` (row first), so every cell with the same learners' starts sees the same
    draws; then both update simultaneously ``steps`` times.
    """
    generator = torch.Generator().manual_seed(seed)
    x_row = row.initial_parameters(trials, game, generator)
    x_column = column.initial_parameters(trials, game, generator)
    seat_0, seat_1 = game.seat(0), game.seat(1)
    for step in range(steps):
        x_row, x_column = (
            row.update(seat_0, x_row, x_column, column),
            column.update(seat_1, x_column, x_row, row),
        )
        if not (torch.isfinite(x_row).all() and torch.isfinite(x_column).all()):
            raise NonFiniteError(
                f"{type(row).__name__} vs {type(column).__name__}: parameters became "
                f"non-finite at step {step + 1}"
            )
    with torch.no_grad():
        return game.values(x_row, x_column)


def tournament(
    learners: Mapping[str, ExactLearner] | Sequence[ExactLearner],
    game: ExactGame | str = "ipd",
    trials: int = 1024,
    steps: int = 300,
    seed: int = 0,
    progress: bool = False,
) -> TournamentResult:
    """Play every ordered pair of ``learners`` (self-pairs included) on ``game``.

    Args:
        learners: ``{name: learner}``, or learners named by their ``name``; any
            :class:`ExactLearner` works.
        game: an :class:`ExactGame` or a payoff preset name (gamma 0.96).
        trials: independent games per cell (the MeVa tournament: 1024).
        steps: simultaneous updates per game (the MeVa tournament: 300).
        seed: seed of every cell's initial parameters.
        progress: print one line per finished cell.
    """
    import time

    if isinstance(game, str):
        game = ExactGame(game)
    if not isinstance(learners, Mapping):
        learners = {learner.name: learner for learner in learners}
    if not learners:
        raise ValueError("learners must not be empty")
    for name, learner in learners.items():
        if not isinstance(learner, ExactLearner):
            raise TypeError(f"learner {name!r} is not an ExactLearner: {learner!r}")
    for label, value, low in (("trials", trials, 1), ("steps", steps, 0), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{label} must be an integer >= {low}, got {value!r}")
    names = list(learners)
    for name in names:  # once per learner and game: a meta-learner trains here
        learners[name].prepare(game, torch.Generator().manual_seed(seed))
    k = len(names)
    mean, sem = np.zeros((k, k, 2)), np.zeros((k, k, 2))
    seconds = np.zeros((k, k))
    for i, row in enumerate(names):
        for j, column in enumerate(names):
            start = time.perf_counter()
            returns = play_pair(learners[row], learners[column], game, trials, steps, seed)
            seconds[i, j] = time.perf_counter() - start
            returns = returns.numpy()
            mean[i, j] = returns.mean(0)
            sem[i, j] = returns.std(0, ddof=1) / np.sqrt(trials) if trials > 1 else 0.0
            if progress:
                print(
                    f"{row} vs {column}: {mean[i, j, 0]:+.3f} / {mean[i, j, 1]:+.3f} "
                    f"({seconds[i, j]:.1f} s)",
                    flush=True,
                )
    return TournamentResult(names, mean, sem, seconds, game.name, game.gamma, trials, steps, seed)
