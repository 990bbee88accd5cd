"""Seconds to train one MeVa model, and a tournament cell with MeVa in it (one thread).

Times ``--outer-steps`` outer steps of the tournament recipe (``meva_tournament``: batch 128,
100 agent steps in strides of 10, 64 quantiles, width 128) for each opponent kind, splits one
outer step into its parts, extrapolates to the recipe's 1001 outer steps, and times a
MeVa-vs-naive tournament cell (``--trials`` x 300 updates) with an untrained model (the cost
does not depend on the weights). The targets: one model in at most 10 minutes, a cell in under
10 s.

    python benchmarks/meva_training.py
    python benchmarks/meva_training.py --outer-steps 5 --opponents meva
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from agents.algorithms.exact import ExactGame, NaiveLearner  # noqa: E402
from agents.algorithms.meva.learner import MevaLearner  # noqa: E402
from agents.algorithms.meva.presets import meva_tournament  # noqa: E402
from agents.algorithms.meva.training import MetaValueTrainer  # noqa: E402
from agents.evaluation.tournament import play_pair  # noqa: E402


def seconds(function, repeats: int = 1) -> float:
    """Mean wall-clock seconds of ``function()`` over ``repeats`` calls."""
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    """Time the training and a cell and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outer-steps", type=int, default=3, help="outer steps timed per kind")
    parser.add_argument("--opponents", nargs="+", default=["naive", "lola", "meva"])
    parser.add_argument("--trials", type=int, default=1024, help="trials of the timed cell")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("MeVa, tournament recipe (IPD), 1 thread")
    print(
        f"{'opponent':<10}{'s/outer step':>14}{'agent step ms':>15}{'update ms':>11}"
        f"{'1001 steps min':>16}"
    )
    for opponent in args.opponents:
        config = meva_tournament("ipd", opponent)
        trainer = MetaValueTrainer(config)
        trainer.outer_step()  # warm-up
        per_outer = seconds(trainer.outer_step, args.outer_steps)
        x = torch.randn(config.batch_size, 2, 5, dtype=torch.float64)
        gammas = torch.rand(config.batch_size, 2, dtype=torch.float64)
        agent = seconds(functools.partial(trainer.agent_steps, x, gammas, True), 20)
        update = seconds(functools.partial(trainer.learn_from, x), 3) - config.stride * agent
        print(
            f"{opponent:<10}{per_outer:>14.2f}{1e3 * agent:>15.1f}{1e3 * update:>11.0f}"
            f"{per_outer * config.outer_steps / 60:>16.1f}",
            flush=True,
        )
    game = ExactGame("ipd")
    meva = MevaLearner()
    for kind in ("naive",):
        model = MetaValueTrainer(meva_tournament("ipd", kind)).model()
        meva.add_model(model)
    cell = seconds(lambda: play_pair(meva, NaiveLearner(), game, args.trials, 300))
    print(f"tournament cell MeVa vs naive, {args.trials} trials x 300 updates: {cell:.1f} s")


if __name__ == "__main__":
    main()
