"""Reproduction runs of Advantage Alignment: IPD and Negotiation, reported in docs/results.md.

Each seed trains a preset from :data:`agents.algorithms.PRESETS` into its own run folder (with
checkpoints, so an interrupted run resumes with ``socialdilemmas train --resume``), then is
evaluated with :func:`agents.evaluation.match`: self-play, against always-defect and against
always-cooperate (1024 episodes each, evaluation seed 12345). Results go to
``<out>/<game>_results.json`` and a markdown table is printed.

Usage (from the repository root; one torch thread)::

    python experiments/reproduce_aa.py ipd --seeds 0 1 2 3 4 5 6 7 8 9
    python experiments/reproduce_aa.py negotiation --seeds 0 --preset aa_negotiation
    python experiments/reproduce_aa.py negotiation --seeds 0 --preset ppo_negotiation
    python experiments/reproduce_aa.py ipd --curve   # evaluate every stored checkpoint too
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from agents.algorithms import (  # noqa: E402
    get_algorithm,  # noqa: E402
    preset_algorithm,
    preset_config,
)
from agents.checkpoint import load_policy, restore_learner  # noqa: E402
from agents.evaluation import match  # noqa: E402
from agents.scripted import scripted_policy  # noqa: E402
from agents.training import resume, train  # noqa: E402

EVAL_EPISODES = 1024
EVAL_SEED = 12345
STATES = ("CC", "CD", "DC", "DD", "start")


def policy_table(checkpoint: Path) -> dict[str, float]:
    """Exact P(cooperate | state) of a memory-one (MLP) IPD policy, read off its network."""
    policy = load_policy(checkpoint)
    eye = torch.eye(5)
    with torch.no_grad():
        dist, _ = policy.network(eye[None], torch.zeros(1, 5, dtype=torch.bool))
        p = dist.log_prob(torch.zeros(1, 5, dtype=torch.long)).exp()[0]
    return {state: float(v) for state, v in zip(STATES, p, strict=True)}


def evaluate(checkpoint: Path, env_id: str, env_kwargs: dict) -> dict[str, float]:
    """Self-play and scripted matches of the checkpoint's seat-0 policy."""
    policy = load_policy(checkpoint, name="learner")
    out: dict[str, float] = {}
    result = match(policy, policy, env_id, episodes=EVAL_EPISODES, seed=EVAL_SEED, **env_kwargs)
    out["self_play"] = sum(result.rewards) / 2
    for key, values in result.metrics.items():
        out[f"self_{key}"] = sum(values) / 2
    for name in ("always_defect", "always_cooperate"):
        other = scripted_policy(name, env_id, **env_kwargs)
        result = match(
            policy,
            other,
            env_id,
            episodes=EVAL_EPISODES,
            seed=EVAL_SEED,
            both_seats=True,
            **env_kwargs,
        )
        out[f"vs_{name}"] = result.rewards[0]
        out[f"{name}_gets"] = result.rewards[1]
    return out


def run_seed(preset: str, seed: int, out: Path, overrides: dict) -> dict[str, float]:
    """Train (or resume, or reuse) one seed of ``preset``; return timing and evaluation."""
    run_dir = out / f"{preset}_s{seed}"
    final = run_dir / "checkpoints" / "final.pt"
    algorithm = preset_algorithm(preset)
    start = time.perf_counter()
    torch.set_num_threads(1)
    if not final.exists():
        checkpoints = sorted((run_dir / "checkpoints").glob("iter_*.pt"))
        if checkpoints:
            resume(checkpoints[-1], run_dir=run_dir, progress=False)
        else:
            config = preset_config(preset, seed=seed, **overrides)
            train(config, algorithm, run_dir=run_dir, progress=False)
    seconds = time.perf_counter() - start
    learner = restore_learner(final)
    c = learner.config
    # learner.iteration, not c.iterations: a run with stop_reward may end early
    steps = learner.iteration * c.num_envs * learner.env.max_cycles
    metrics_file = run_dir / "metrics.csv"
    train_seconds = seconds
    if metrics_file.exists():  # the training time itself, also for a reused run
        from agents.training import read_metrics

        train_seconds = float(sum(read_metrics(metrics_file)["seconds"]))
    result = {
        "seed": seed,
        "iterations": learner.iteration,
        "train_seconds": train_seconds,
        "env_steps": steps,
        "env_steps_per_second": steps / train_seconds,
        **evaluate(final, c.env_id, c.env_kwargs),
    }
    if c.env_id == "ipd_v0" and c.encoder == "mlp":
        result.update({f"p_cooperate|{k}": v for k, v in policy_table(final).items()})
    return result


def ipd_verdict(row: dict[str, float]) -> bool:
    """Tit-for-tat-like: cooperates after CC and after being cooperated with, retaliates."""
    return (
        row["p_cooperate|CC"] >= 0.9
        and row["p_cooperate|DC"] >= 0.3
        and row["p_cooperate|CD"] <= 0.2
        and row["p_cooperate|DD"] <= 0.2
    )


def curve(preset: str, seeds: list[int], out: Path) -> list[dict[str, float]]:
    """Evaluate every ``iter_*.pt`` checkpoint of each seed's run (the course of training)."""
    rows = []
    for seed in seeds:
        for checkpoint in sorted((out / f"{preset}_s{seed}" / "checkpoints").glob("iter_*.pt")):
            config = restore_learner(checkpoint).config
            row = {"seed": seed, "iteration": int(checkpoint.stem.split("_")[1])}
            row.update(evaluate(checkpoint, config.env_id, config.env_kwargs))
            if config.env_id == "ipd_v0" and config.encoder == "mlp":
                row.update({f"p_cooperate|{k}": v for k, v in policy_table(checkpoint).items()})
                row["tft_like"] = float(ipd_verdict(row))
            rows.append(row)
            print(json.dumps(row), flush=True)
    (out / f"{preset}_curve.json").write_text(json.dumps(rows, indent=1) + "\n")
    return rows


def main() -> None:
    """Parse arguments, run the seeds, write the JSON and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("game", choices=["ipd", "negotiation", "coin"])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--preset", default=None, help="preset (default: aa_<game>)")
    parser.add_argument("--out", default="runs/reproduce_aa", help="folder of the run folders")
    parser.add_argument("--set", default="{}", help="JSON config overrides, e.g. iterations")
    parser.add_argument(
        "--curve", action="store_true", help="after training, also evaluate every stored checkpoint"
    )
    args = parser.parse_args()
    preset = args.preset or f"aa_{args.game}"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    get_algorithm(preset_algorithm(preset))
    rows = []
    for seed in args.seeds:
        row = run_seed(preset, seed, out, json.loads(args.set))
        if args.game == "ipd":
            row["tft_like"] = float(ipd_verdict(row))
        rows.append(row)
        print(json.dumps(row), flush=True)
    (out / f"{preset}_results.json").write_text(json.dumps(rows, indent=1) + "\n")
    if args.curve:
        curve(preset, args.seeds, out)
    columns = [k for k in rows[0] if k not in ("env_steps",) and not k.startswith("self_p_")]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(f"{row[k]:.3g}" for k in columns) + " |")


if __name__ == "__main__":
    main()
