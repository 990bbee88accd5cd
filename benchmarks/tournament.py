"""Seconds per cell of the exact-game tournament: one ordered pair, all trials in one batch.

Plays each ordered pair of the registered exact-game learners once (``--trials`` trials x
``--steps`` simultaneous updates, the MeVa tournament's 1024 x 300 by default) on one thread and
prints a table of wall-clock seconds per cell. The target: a 1024 x 300 cell in under 10 s on
one core.

    python benchmarks/tournament.py                          # IPD, 1024 x 300
    python benchmarks/tournament.py --game chicken_meva --trials 256
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

# run from a checkout without installing, like the other benchmarks
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.algorithms.exact import ExactGame  # noqa: E402
from agents.algorithms.exact.registry import EXACT_LEARNERS, make_exact_learner  # noqa: E402
from agents.evaluation.tournament import play_pair  # noqa: E402


def main() -> None:
    """Time every ordered pair and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="ipd", help="payoff preset (default: %(default)s)")
    parser.add_argument("--trials", type=int, default=1024, help="trials per cell")
    parser.add_argument("--steps", type=int, default=300, help="updates per trial")
    parser.add_argument(
        "--learners",
        nargs="+",
        default=["naive", "lola", "lola_lookahead"],
        choices=sorted(EXACT_LEARNERS),
        help="registered learners (mmaml meta-trains first, outside the timed cells)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    game = ExactGame(args.game)
    learners = {name: make_exact_learner(name) for name in args.learners}
    play_pair(learners[args.learners[0]], learners[args.learners[0]], game, 8, 2)  # warm-up
    print(f"{args.game}: seconds per cell, {args.trials} trials x {args.steps} steps, 1 thread")
    width = max(16, *(len(name) + 2 for name in learners))
    print("row \\ column".ljust(width) + "".join(name.rjust(width) for name in learners))
    for row, row_learner in learners.items():
        cells = []
        for column_learner in learners.values():
            start = time.perf_counter()
            play_pair(row_learner, column_learner, game, args.trials, args.steps)
            cells.append(f"{time.perf_counter() - start:.2f}".rjust(width))
        print(row.ljust(width) + "".join(cells), flush=True)


if __name__ == "__main__":
    main()
