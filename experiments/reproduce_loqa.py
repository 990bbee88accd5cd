"""Reproduction runs of LOQA (Aghajohari et al., ICLR 2024): IPD and Coin Game, resumable.

Not part of the test suite. Each run writes ``runs/reproduce_loqa/<game>_<preset>_s<seed>/``
(``metrics.csv``, ``eval.csv``, ``checkpoints/``) and can be interrupted and started again with
the same command: it continues from the newest checkpoint (every random draw derives from
``(seed, iteration)``, so the continued run is the uninterrupted one). Usage::

    python experiments/reproduce_loqa.py ipd --seeds 0 1 2 3 4 5 6 7 8 9
    nice -n 5 python experiments/reproduce_loqa.py coin --preset loqa_coin_cpu --seeds 0 1 2
    nice -n 5 python experiments/reproduce_loqa.py coin --preset aa_nb_coin_cpu --seeds 0 1 2
    nice -n 5 python experiments/reproduce_loqa.py coin --preset loqa_naive_coin_cpu --seeds 0

``aa_nb_coin_cpu`` is the AA paper's Coin Game Advantage Alignment (LOQA's estimator with the
opponent model's normaliser stop-gradiented, "AA-NB"); ``naive_coin_cpu`` is ``coin_cpu``
without the opponent term, the naive contrast on the same budget.

The IPD run reports, per seed, the learned P(cooperate | state), the self-play reward per step
(greedy exploration off) and the reward against always-defect; the Coin Game run evaluates every
``--eval-every`` iterations in self-play and against the scripted always-defect and
always-cooperate agents (mean reward per step and own-coin share, both seat orders).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from agents.algorithms import preset_config  # noqa: E402
from agents.algorithms.loqa import LOQALearner  # noqa: E402
from agents.checkpoint import restore_learner, save_checkpoint  # noqa: E402
from agents.evaluation import match  # noqa: E402
from agents.nn import NetworkPolicy  # noqa: E402
from agents.scripted import scripted_policy  # noqa: E402
from agents.training import _MetricsWriter, _truncate_metrics  # noqa: E402

ROOT = Path("runs/reproduce_loqa")


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest ``iter_*.pt`` of a run folder, or None."""
    found = sorted((run_dir / "checkpoints").glob("iter_*.pt"))
    return found[-1] if found else None


def evaluate(learner: LOQALearner, episodes: int, seed: int = 0) -> dict[str, float]:
    """Self-play and scripted matches of the current agent (both seat orders, sampling)."""
    env_id, kwargs = learner.config.env_id, learner.config.env_kwargs
    policy = NetworkPolicy(learner.agents[0].network, name="loqa")  # type: ignore[arg-type]
    out: dict[str, float] = {}
    self_play = match(policy, policy, env_id, episodes=episodes, seed=seed, **kwargs)
    out["self_reward"] = self_play.rewards[0]
    for name in ("always_defect", "always_cooperate"):
        opponent = scripted_policy(name, env_id, **kwargs)
        result = match(
            policy, opponent, env_id, episodes=episodes, seed=seed, both_seats=True, **kwargs
        )
        short = "ad" if name == "always_defect" else "ac"
        out[f"vs_{short}_reward"] = result.rewards[0]
        out[f"{short}_reward"] = result.rewards[1]
        if "own_coin_share" in result.metrics:
            out[f"vs_{short}_own_share"] = result.metrics["own_coin_share"][0]
    for key, values in self_play.metrics.items():
        if key in ("own_coin_share", "cooperation_rate") or key.startswith("p_cooperate"):
            out[f"self_{key}"] = values[0]
    return out


def train_run(
    run_dir: Path, config, eval_every: int, eval_episodes: int, checkpoint_every: int
) -> LOQALearner:
    """Train (or continue) one run, evaluating and checkpointing as it goes."""
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = latest_checkpoint(run_dir)
    if checkpoint is not None:
        learner = restore_learner(checkpoint, iterations=config.iterations)
        print(f"resuming {run_dir} from iteration {learner.iteration}", flush=True)
    else:
        learner = LOQALearner(config)
    for name in ("metrics.csv", "eval.csv"):
        _truncate_metrics(run_dir / name, learner.iteration)
    metrics_writer = _MetricsWriter(run_dir / "metrics.csv")
    eval_writer = _MetricsWriter(run_dir / "eval.csv")
    steps = config.num_envs * learner.env.max_cycles
    try:
        while learner.iteration < config.iterations:
            start = time.perf_counter()
            metrics = learner.train_iteration()
            metrics["seconds"] = time.perf_counter() - start
            metrics["env_steps_per_s"] = steps / metrics["seconds"]
            metrics_writer.write(metrics)
            it = learner.iteration
            if it % eval_every == 0 or it == config.iterations:
                result = {"iteration": float(it), **evaluate(learner, eval_episodes)}
                eval_writer.write(result)
                print({k: round(v, 3) for k, v in result.items()}, flush=True)
            if it % checkpoint_every == 0 or it == config.iterations:
                save_checkpoint(learner, run_dir / "checkpoints" / f"iter_{it:06d}.pt")
                for old in sorted((run_dir / "checkpoints").glob("iter_*.pt"))[:-2]:
                    old.unlink()  # keep the two newest: each holds the agent buffer
    finally:
        metrics_writer.close()
        eval_writer.close()
    return learner


def table_logits(learner: LOQALearner) -> list[float]:
    """P(cooperate | CC, CD, DC, DD, start) of a tabular IPD actor."""
    weight = learner.agents[0].network.actor_logits.weight.detach()  # type: ignore[union-attr]
    return torch.softmax(weight.T, dim=-1)[:, 0].tolist()


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the requested reproduction."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("game", choices=("ipd", "coin"))
    parser.add_argument(
        "--preset", default=None, help="LOQA preset (default loqa_ipd_cpu / loqa_coin_cpu)"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--eval-every", type=int, default=None)
    parser.add_argument("--eval-episodes", type=int, default=256)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="FIELD=VALUE",
        help="config overrides, e.g. lr=0.01 (Python literals)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    preset = args.preset or ("loqa_ipd_cpu" if args.game == "ipd" else "loqa_coin_cpu")
    overrides = {}
    for item in args.set:
        key, value = item.split("=", 1)
        overrides[key] = eval(value, {})  # noqa: S307 - a developer's command line
    if args.iterations is not None:
        overrides["iterations"] = args.iterations
    rows = []
    for seed in args.seeds:
        config = preset_config(preset, seed=seed, checkpoint_every=0, **overrides)
        run_dir = ROOT / f"{args.game}_{preset}_s{seed}"
        eval_every = args.eval_every or (config.iterations if args.game == "ipd" else 250)
        start = time.perf_counter()
        learner = train_run(run_dir, config, eval_every, args.eval_episodes, args.checkpoint_every)
        wall = time.perf_counter() - start
        row = {"seed": seed, "wall_s": round(wall, 1)}
        if args.game == "ipd":
            row |= dict(
                zip(
                    ("pC_CC", "pC_CD", "pC_DC", "pC_DD", "pC_start"),
                    (round(p, 3) for p in table_logits(learner)),
                    strict=True,
                )
            )
        row |= {k: round(v, 3) for k, v in evaluate(learner, args.eval_episodes).items()}
        rows.append(row)
        print(row, flush=True)
    if len(rows) > 1:
        spread = {}
        for key in rows[0]:
            if key != "seed":
                values = torch.tensor([float(row[key]) for row in rows], dtype=torch.float64)
                spread[key] = f"{values.mean():.3f} +- {values.std():.3f}"
        print(f"mean +- sd over seeds {args.seeds}: {spread}", flush=True)
    out = ROOT / f"summary_{args.game}_{preset}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a", newline="") as file:
        writer = csv.DictWriter(file, list(rows[0]))
        if file.tell() == 0:
            writer.writeheader()
        writer.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
