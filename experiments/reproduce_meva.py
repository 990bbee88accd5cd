"""Reproduction runs of Meta-Value Learning (Cooijmans et al. 2023): models, ablation, tournament.

Not part of the test suite. Three steps, each resumable (a run stopped part way continues from
its newest checkpoint when the same command is run again; every draw comes from the run's
seeded generator, so the continued run is the uninterrupted one)::

    # the tournament's models: one per game, opponent kind, seat and seed (1001 outer steps)
    python experiments/reproduce_meva.py train --game ipd --opponent naive lola meva --seeds 0
    python experiments/reproduce_meva.py train --game matching_pennies --opponent naive --seats 0 1

    # the ablation table (IPD self-play, 500 outer steps): final short-horizon TD error
    python experiments/reproduce_meva.py ablation --variants default fixed_gamma --seeds 0 1 2

    # a model from a run part way through (its newest training checkpoint), e.g. to bundle it
    python experiments/reproduce_meva.py export --game ipd --opponent naive meva --to DIR

    # the tournament with MeVa, from the models trained above
    python experiments/reproduce_meva.py tournament --game ipd --learners naive lola mmaml meva

Models go to ``runs/reproduce_meva/models/<game>_vs_<opponent>[_seat1]_s<seed>.pt`` (the names
:class:`agents.algorithms.meva.MevaLearner` reads; ``--models`` changes the folder), training
checkpoints beside them (``*.training.pt``, every 25 outer steps), the ablation's TD errors
to ``runs/reproduce_meva/ablation.csv`` and the tournament to
``runs/reproduce_meva/tournament_<game>/``.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from agents.algorithms.meva.learner import model_file_name  # noqa: E402
from agents.algorithms.meva.presets import ABLATIONS, meva_ablation, meva_tournament  # noqa: E402
from agents.algorithms.meva.training import MetaValueTrainer  # noqa: E402

RUNS = Path("runs/reproduce_meva")


def train_models(args: argparse.Namespace) -> None:
    """Train (or finish training) every requested tournament model."""
    for game in args.game:
        for opponent in args.opponent:
            for seat in args.seats if opponent != "meva" else [0]:
                for seed in args.seeds:
                    config = meva_tournament(game, opponent, seed, seat)
                    path = args.models / model_file_name(game, opponent, seat, seed)
                    if path.is_file():
                        print(f"{path} exists; skipped", flush=True)
                        continue
                    started = time.perf_counter()
                    print(f"training {path.name}", flush=True)
                    model = MetaValueTrainer(config).train(
                        checkpoint=path.with_suffix(".training.pt"),
                        checkpoint_every=25,
                        progress=True,
                    )
                    model.save(path)
                    print(f"wrote {path} ({time.perf_counter() - started:.0f} s)", flush=True)


def export_models(args: argparse.Namespace) -> None:
    """Write the model of each finished run, or of the newest checkpoint of an unfinished one."""
    from agents.algorithms.meva.training import MetaValueModel

    args.to.mkdir(parents=True, exist_ok=True)
    for game in args.game:
        for opponent in args.opponent:
            for seat in args.seats if opponent != "meva" else [0]:
                for seed in args.seeds:
                    name = model_file_name(game, opponent, seat, seed)
                    finished = args.models / name
                    source = (
                        finished if finished.is_file() else finished.with_suffix(".training.pt")
                    )
                    if not source.is_file():
                        print(f"no run for {name}; skipped")
                        continue
                    model = MetaValueModel.load(source)
                    model.save(args.to / name)
                    print(
                        f"wrote {args.to / name} ({model.trained_steps} of "
                        f"{model.config.outer_steps} outer steps)"
                    )


def ablation(args: argparse.Namespace) -> None:
    """Train the ablation variants and append each run's final TD error to the CSV."""
    folder = RUNS / "ablation"
    table = RUNS / "ablation.csv"
    done = set()
    if table.is_file():
        with table.open() as file:
            done = {(row["variant"], int(row["seed"])) for row in csv.DictReader(file)}
    for variant in args.variants:
        for seed in args.seeds:
            if (variant, seed) in done:
                continue
            started = time.perf_counter()
            trainer = MetaValueTrainer(meva_ablation(variant, seed))
            trainer.train(checkpoint=folder / f"{variant}_s{seed}.training.pt", progress=True)
            seconds = time.perf_counter() - started
            new = not table.is_file()
            with table.open("a", newline="") as file:
                writer = csv.writer(file)
                if new:
                    writer.writerow(["variant", "seed", "final_td_error", "seconds"])
                writer.writerow([variant, seed, f"{trainer.td_errors[-1]:.4f}", f"{seconds:.0f}"])
            print(f"{variant} seed {seed}: TD error {trainer.td_errors[-1]:.4f}", flush=True)


def tournament(args: argparse.Namespace) -> None:
    """Play the tournament with the trained models through the library's command."""
    from agents.cli import main

    for game in args.game:
        out = RUNS / f"tournament_{game}"
        argv = ["tournament", *args.learners, "--game", game, "--out", str(out)]
        argv += ["--meva-models", str(args.models), "--meva-seeds", *map(str, args.seeds)]
        argv += ["--trials", str(args.trials)]
        if main(argv) != 0:
            raise SystemExit(f"the tournament on {game} failed")


def main() -> None:
    """Parse the command line and run the step asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    for name in ("train", "export", "ablation", "tournament"):
        step = sub.add_parser(name)
        step.add_argument("--seeds", type=int, nargs="+", default=[0])
        step.add_argument("--models", type=Path, default=RUNS / "models")
        if name != "ablation":
            step.add_argument("--game", nargs="+", default=["ipd"])
    for name in ("train", "export"):
        step = sub.choices[name]
        step.add_argument("--opponent", nargs="+", default=["naive", "lola", "meva"])
        step.add_argument("--seats", type=int, nargs="+", default=[0])
    sub.choices["export"].add_argument("--to", type=Path, required=True)
    sub.choices["ablation"].add_argument("--variants", nargs="+", default=list(ABLATIONS))
    play = sub.choices["tournament"]
    play.add_argument("--learners", nargs="+", default=["naive", "lola", "mmaml", "meva"])
    play.add_argument("--trials", type=int, default=1024)
    args = parser.parse_args()
    torch.set_num_threads(1)
    steps = {"train": train_models, "export": export_models, "ablation": ablation}
    steps["tournament"] = tournament
    steps[args.step](args)


if __name__ == "__main__":
    main()
