"""Reproduction of the DiCE paper's IPD runs of LOLA-DiCE (Foerster et al., ICML 2018).

Not part of the test suite. Each run trains a preset for its 200 iterations into
``runs/reproduce_lola_dice/<label>_s<seed>/`` (a finished run is skipped, so the command can be
started again after an interruption) and the script prints, per variant, the mean over seeds of
the last iteration's reward per step of both agents, beside the reference's numbers (computed
from ``alshedivat/lola@0e8b13e:notebooks/dice/results/*/run-*/rets.npy``). Usage::

    python experiments/reproduce_lola_dice.py --seeds 0 1 2 3 4
    python experiments/reproduce_lola_dice.py --variants lola_2 naive --seeds 0 1 2 3 4

Two scores per agent: ``reward`` is the mean reward per step of the iteration's 64 games;
``normalised`` is ``(1 - gamma) sum_t gamma^t r_t``, the quantity the reference logs
(``rpg.py``: ``rets_all``), both from the games the current policies played at the start of the
last iteration.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from agents.algorithms import preset_config  # noqa: E402
from agents.training import read_metrics, train  # noqa: E402

ROOT = Path("runs/reproduce_lola_dice")

#: label -> (preset, overrides, the reference's (agent 1, agent 2) at the last epoch, if any)
VARIANTS: dict[str, tuple[str, dict, tuple[float, float] | None]] = {
    "lola_2": ("lola_dice_ipd", {}, (-1.14, -1.09)),
    "lola_1": ("lola_dice_ipd", {"inner_steps": 1}, (-1.26, -1.13)),
    "lola_3": ("lola_dice_ipd", {"inner_steps": 3}, (-1.14, -1.05)),
    "lola_2_om": ("lola_dice_ipd_om", {}, (-1.10, -1.09)),
    "naive": ("naive_dice_ipd", {}, (-1.99, -1.99)),
    # one imagined step as long as the two of lola_2 (not a reference run)
    "lola_1_lr02": ("lola_dice_ipd", {"inner_steps": 1, "lr_inner": 0.2}, None),
}


def run(label: str, seed: int) -> dict[str, float]:
    """Train one variant for one seed (or read the finished run); its last iteration's scores."""
    preset, overrides, _ = VARIANTS[label]
    run_dir = ROOT / f"{label}_s{seed}"
    timing = run_dir / "wall_clock.json"
    if not (run_dir / "checkpoints" / "final.pt").exists():
        config = preset_config(preset, seed=seed, **overrides)
        start = time.perf_counter()
        train(config, "lola_dice", run_dir, progress=False)
        timing.write_text(json.dumps({"seconds": time.perf_counter() - start}))
    metrics = read_metrics(run_dir / "metrics.csv")
    out = {
        key: metrics[key][-1]
        for key in ("reward_0", "reward_1", "normalised_return_0", "normalised_return_1")
    }
    out["seconds"] = json.loads(timing.read_text())["seconds"]
    return out


def main() -> None:
    """Run the chosen variants and seeds; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| variant | agent 1 (ours) | agent 2 (ours) | normalised (ours) | reference | s/run |")
    print("|---|---|---|---|---|---|")
    for label in args.variants:
        rows = [run(label, seed) for seed in args.seeds]
        columns = {key: np.array([row[key] for row in rows]) for key in rows[0]}

        def mean(key: str, columns: dict = columns) -> float:
            return float(columns[key].mean())

        def spread(key: str, columns: dict = columns) -> str:
            return f"{columns[key].mean():.2f} +- {columns[key].std():.2f}"

        reference = VARIANTS[label][2]
        shown = "-" if reference is None else f"{reference[0]:.2f} / {reference[1]:.2f}"
        print(
            f"| {label} | {spread('reward_0')} | {spread('reward_1')} | "
            f"{mean('normalised_return_0'):.2f} / {mean('normalised_return_1'):.2f} | "
            f"{shown} | {mean('seconds'):.0f} |",
            flush=True,
        )
        for seed, row in zip(args.seeds, rows, strict=True):
            print(
                f"|   seed {seed} | {row['reward_0']:.3f} | {row['reward_1']:.3f} | "
                f"{row['normalised_return_0']:.3f} / {row['normalised_return_1']:.3f} | | "
                f"{row['seconds']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
