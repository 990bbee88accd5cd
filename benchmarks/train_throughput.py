"""Training throughput of the naive learners: environment steps per second, learning included.

Runs a few PPO iterations per setting (after one warm-up iteration, which also compiles the
kernels) and prints, per setting, env steps per second (B games x T steps per iteration, over
the whole iteration: rollout + update) and where the time goes: the environment's ``step``
calls, the rest of the rollout (acting: the policy networks), and the update.

    python benchmarks/train_throughput.py                 # Coin Game and IPD, 512 x 50
    python benchmarks/train_throughput.py --iterations 10 --envs coin_game_v0
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

# run from a checkout without installing, like benchmarks/env_throughput.py
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import socialdilemmas  # noqa: E402
from agents.algorithms import get_algorithm  # noqa: E402

SETTINGS = [
    # env, algorithm, overrides of the config defaults
    ("coin_game_v0", "ppo", {}),
    ("coin_game_v0", "ppo", {"self_play": True}),
    ("coin_game_v0", "ppo", {"share_encoder": False}),
    ("coin_game_v0", "ppo", {"update_epochs": 4}),
    ("coin_game_v0", "ppo", {"encoder": "mlp"}),
    ("coin_game_v0", "actor_critic", {}),
    ("ipd_v0", "ppo", {}),
    ("ipd_v0", "ppo", {"encoder": "mlp"}),
]


def measure(env_id: str, algo: str, overrides: dict, args) -> dict[str, float]:
    config_class, learner_class = get_algorithm(algo)
    config = config_class(
        env_id=env_id,
        num_envs=args.num_envs,
        env_kwargs={"max_cycles": args.max_cycles},
        iterations=args.iterations + 1,
        **overrides,
    )
    learner = learner_class(config)
    env_seconds = [0.0]
    step = learner.env.step

    def timed_step(actions):
        start = time.perf_counter()
        out = step(actions)
        env_seconds[0] += time.perf_counter() - start
        return out

    learner.env.step = timed_step
    learner.train_iteration()  # warm-up
    env_seconds[0] = 0.0
    collect_seconds = update_seconds = 0.0
    for _ in range(args.iterations):
        start = time.perf_counter()
        trajectory = learner.collect()
        middle = time.perf_counter()
        learner.update(trajectory)
        learner.iteration += 1
        end = time.perf_counter()
        collect_seconds += middle - start
        update_seconds += end - middle
    total = collect_seconds + update_seconds
    steps = args.iterations * args.num_envs * args.max_cycles
    return {
        "steps_per_s": steps / total,
        "env": env_seconds[0] / total,
        "acting": (collect_seconds - env_seconds[0]) / total,
        "update": update_seconds / total,
        "s_per_iter": total / args.iterations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=512)
    parser.add_argument("--max-cycles", type=int, default=50)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--envs", nargs="+", default=None, help="env ids to include")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    registered = set(socialdilemmas.env_ids())
    print(
        f"defaults: GRU encoder (dense 64, 64 then GRU 64) shared by actor and critic, two "
        f"independent learners, PPO 2 epochs x 4 minibatches; "
        f"{args.num_envs} games x {args.max_cycles} steps per iteration, "
        f"{args.iterations} timed iterations, torch threads {args.threads}"
    )
    header = (
        f"| {'env':<14} | {'algo':<12} | {'changed from the defaults':<26} | "
        f"{'env steps/s':>11} | {'s/iter':>6} | {'env':>5} | {'acting':>6} | {'update':>6} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for env_id, algo, overrides in SETTINGS:
        if env_id not in registered or (args.envs and env_id not in args.envs):
            continue
        r = measure(env_id, algo, overrides, args)
        changed = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "-"
        print(
            f"| {env_id:<14} | {algo:<12} | {changed:<26} | "
            f"{r['steps_per_s']:>11,.0f} | {r['s_per_iter']:>6.2f} | {r['env']:>5.1%} | "
            f"{r['acting']:>6.1%} | {r['update']:>6.1%} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
