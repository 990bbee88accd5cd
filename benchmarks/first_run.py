"""What a newcomer waits for: the first ``socialdilemmas train`` run, cold and warm, per game.

For each game, runs ``socialdilemmas train --algo ppo --env GAME`` (the defaults: 256 games x
50 steps, GRU, one torch thread) in a fresh process, first with an empty Numba cache (what a
fresh install sees) and then with that cache populated, and prints per game the range over
``--repeats`` runs of:

* the wall-clock of the whole run (import, kernel compile on a cold cache, building the
  learner, the iterations, the final checkpoint and plot), cold and warm;
* their difference, the cost of compiling the kernels on a fresh install;
* the median seconds per iteration after the first (from ``metrics.csv``).

    python benchmarks/first_run.py                      # all three games, 3 repeats
    python benchmarks/first_run.py --games ipd_v0 --repeats 5

The documented timings (README.md, docs/train-the-baselines.md, docs/performance.md) quote
these ranges.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GAMES = ("ipd_v0", "coin_game_v0", "negotiation_v0")


def train_once(game: str, iterations: int, cache_dir: str, run_dir: Path) -> tuple[float, float]:
    """(wall-clock seconds of the run, median seconds per iteration after the first)."""
    command = [
        sys.executable,
        "-c",
        "from agents.cli import main; raise SystemExit(main())",
        "train",
        "--algo",
        "ppo",
        "--env",
        game,
        "--iterations",
        str(iterations),
        "--no-progress",
        "--run-dir",
        str(run_dir),
    ]
    environ = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run(command, env=environ, check=True, capture_output=True)
    total = time.perf_counter() - start
    with (run_dir / "metrics.csv").open(newline="") as file:
        seconds = [float(row["seconds"]) for row in csv.DictReader(file)]
    return total, statistics.median(seconds[1:])


def span(values: list[float]) -> str:
    """'0.41-0.52' (or '0.41' when they round alike)."""
    low, high = f"{min(values):.2f}", f"{max(values):.2f}"
    return low if low == high else f"{low}-{high}"


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", nargs="*", default=list(GAMES), help="env ids")
    parser.add_argument("--repeats", type=int, default=3, help="runs per game and cache state")
    parser.add_argument("--iterations", type=int, default=6, help="iterations per run (>= 2)")
    args = parser.parse_args()
    if args.iterations < 2:
        parser.error("--iterations must be at least 2 (one to start, one or more to time)")
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"repeats={args.repeats}, iterations={args.iterations}\n"
    )
    print(
        f"| game | run of {args.iterations} iterations, cold cache (s) | same, warm cache (s) "
        "| compile (cold - warm, s) | s/iteration |"
    )
    print("|---|---:|---:|---:|---:|")
    for game in args.games:
        cold, warm, per_iteration = [], [], []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as scratch:
                for label, times in (("cold", cold), ("warm", warm)):
                    total, median = train_once(
                        game, args.iterations, scratch, Path(scratch) / label
                    )
                    times.append(total)
                    per_iteration.append(median)
        compile_seconds = [c - w for c, w in zip(cold, warm, strict=True)]
        print(
            f"| {game} | {span(cold)} | {span(warm)} | {span(compile_seconds)} "
            f"| {span(per_iteration)} |"
        )


if __name__ == "__main__":
    main()
