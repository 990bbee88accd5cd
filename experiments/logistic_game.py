"""The Logistic Game of the MeVa paper (Cooijmans et al. 2023, section 5.1): basins of B.

Not part of the test suite. Two steps::

    # the meta-value model: 5001 updates, resumable (run the same command again to continue)
    python experiments/logistic_game.py train

    # every method x parameter from the 29 x 29 grid: the table and the endpoint plot
    python experiments/logistic_game.py evaluate [--partial]

``train`` writes a training checkpoint to ``runs/logistic_game/meva.training.pt`` every 50
updates and the model to ``runs/logistic_game/meva.pt`` at the end. ``evaluate`` reads the
model (``--partial``: the network of the training checkpoint as it stands, its update count
written in the table), runs naive learning, LOLA and HOLA-2 at each alpha of
:data:`~agents.algorithms.meva.logistic.LOLA_ALPHAS` and MeVa at each gamma of
:data:`~agents.algorithms.meva.logistic.MEVA_GAMMAS` for 200 steps of step size 1, prints
the fraction of starts that end in B's quadrant, writes it to ``docs/logistic_game.csv``
and draws the endpoints (white: both players > 0) to ``docs/images/logistic_game.png``.
COLA is out of scope.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from agents.algorithms.meva.logistic import (  # noqa: E402
    LOLA_ALPHAS,
    MEVA_GAMMAS,
    LogisticMetaValueModel,
    LogisticMevaConfig,
    LogisticMevaTrainer,
    basin_of_b_fraction,
    follow,
    hola_field,
    lola_field,
    naive_field,
    start_grid,
)

RUNS = Path("runs/logistic_game")
TABLE = Path("docs/logistic_game.csv")
FIGURE = Path("docs/images/logistic_game.png")


def train(args: argparse.Namespace) -> None:
    """Train (or finish training) the meta-value model."""
    config = LogisticMevaConfig(outer_steps=args.outer_steps, seed=args.seed)
    started = time.perf_counter()
    model = LogisticMevaTrainer(config).train(
        checkpoint=args.runs / "meva.training.pt", checkpoint_every=50, progress=True
    )
    model.save(args.runs / "meva.pt")
    print(f"trained in {time.perf_counter() - started:.0f} s (this session)", flush=True)


def load_model(args: argparse.Namespace) -> tuple[LogisticMetaValueModel, int]:
    """The model to evaluate and the number of updates it was trained for."""
    if not args.partial:
        model = LogisticMetaValueModel.load(args.runs / "meva.pt")
        return model, model.config.outer_steps
    config = LogisticMevaConfig(outer_steps=args.outer_steps, seed=args.seed)
    trainer = LogisticMevaTrainer(config)
    trainer.resume(args.runs / "meva.training.pt")
    return trainer.model(), trainer.step


def evaluate(args: argparse.Namespace) -> None:
    """Every method x parameter from the grid: the table, the CSV and the figure."""
    model, updates = load_model(args)
    grid = start_grid(args.grid_points)
    runs = [("naive", "-", naive_field())]
    runs += [("LOLA", f"alpha={alpha:g}", lola_field(alpha)) for alpha in LOLA_ALPHAS]
    runs += [("HOLA-2", f"alpha={alpha:g}", hola_field(alpha, 2)) for alpha in LOLA_ALPHAS]
    runs += [("MeVa", f"gamma={gamma:g}", model.field(gamma)) for gamma in MEVA_GAMMAS]
    rows, endpoints = [], {}
    for method, parameter, field in runs:
        started = time.perf_counter()
        ends = follow(field, grid, steps=args.steps)
        fraction = basin_of_b_fraction(ends)
        endpoints[(method, parameter)] = ends
        rows.append((method, parameter, fraction))
        print(
            f"{method:7s} {parameter:12s} basin of B {fraction:.3f} "
            f"({time.perf_counter() - started:.1f} s)",
            flush=True,
        )
    args.table.parent.mkdir(parents=True, exist_ok=True)
    with open(args.table, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["method", "parameter", "basin_of_b", "meva_updates"])
        for method, parameter, fraction in rows:
            writer.writerow(
                [method, parameter, f"{fraction:.4f}", updates if method == "MeVa" else ""]
            )
    plot(endpoints, args.figure, updates)
    print(f"MeVa model: {updates} updates; wrote {args.table} and {args.figure}")


def plot(endpoints: dict, path: Path, updates: int) -> None:
    """One panel per method x parameter (rows: LOLA, HOLA-2, MeVa), white where B is reached."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [
        [("LOLA", f"alpha={a:g}") for a in LOLA_ALPHAS],
        [("HOLA-2", f"alpha={a:g}") for a in LOLA_ALPHAS],
        [("MeVa", f"gamma={g:g}") for g in MEVA_GAMMAS],
    ]
    figure, axes = plt.subplots(len(rows), len(rows[0]), figsize=(14, 6.4), squeeze=False)
    for i, row in enumerate(rows):
        for j, key in enumerate(row):
            reached = (endpoints[key] > 0).all(-1).to(torch.float32)
            ax = axes[i, j]
            # imshow's rows are y: transpose the (x, y) grid so x runs left to right
            ax.imshow(
                reached.T.numpy(), cmap="gray", vmin=0, vmax=1, origin="lower", extent=(-10, 10) * 2
            )
            ax.set_title(f"{key[0]} {key[1]}\nB: {float(reached.mean()):.2f}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    figure.suptitle(
        "Logistic Game: starts (29 x 29 on [-10, 10]^2) whose 200 steps end in B's quadrant "
        f"(white); MeVa after {updates} updates",
        fontsize=10,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=60)
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the step it names."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["train", "evaluate"])
    parser.add_argument("--runs", type=Path, default=RUNS, help="folder of the model")
    parser.add_argument("--table", type=Path, default=TABLE, help="CSV of basin fractions")
    parser.add_argument("--figure", type=Path, default=FIGURE, help="PNG of the endpoints")
    parser.add_argument("--outer-steps", type=int, default=5001, help="updates of the model")
    parser.add_argument("--seed", type=int, default=2, help="seed of the model")
    parser.add_argument(
        "--grid-points", type=int, default=29, help="starts per side of the grid (the paper: 29)"
    )
    parser.add_argument("--steps", type=int, default=200, help="learning steps from each start")
    parser.add_argument(
        "--partial", action="store_true", help="evaluate the training checkpoint as it stands"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    {"train": train, "evaluate": evaluate}[args.step](args)


if __name__ == "__main__":
    main()
