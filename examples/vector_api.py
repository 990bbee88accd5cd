"""The vector API: thousands of IPD games at once, NumPy in and out.

Tit-for-tat (read straight off the memory-one observation) plays a 30%-random defector in 4096
games; prints the mean reward per step of each seat and the throughput.

Run: python examples/vector_api.py [--num-envs 4096] [--episodes 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import socialdilemmas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=4096)
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    vec = socialdilemmas.make_vec("ipd_v0", args.num_envs, seed=args.seed, copy=False)
    rng = np.random.default_rng(args.seed)
    observations, _ = vec.reset()  # (num_envs, 2, 5): [CC, CD, DC, DD, start], own action first
    total = np.zeros(2)
    steps = args.episodes * vec.max_cycles
    start = time.perf_counter()
    actions = np.zeros((args.num_envs, 2), dtype=np.int64)
    for _ in range(steps):
        opponent_defected = observations[:, 0, 1] + observations[:, 0, 3]  # CD or DD
        actions[:, 0] = opponent_defected > 0.5  # tit-for-tat in seat 0
        actions[:, 1] = rng.random(args.num_envs) < 0.3  # defects 30% of the time in seat 1
        observations, rewards, terminations, truncations, info = vec.step(actions)
        total += rewards.sum(axis=0)
    elapsed = time.perf_counter() - start
    mean = total / (steps * args.num_envs)
    print(f"tit-for-tat {mean[0]:.3f} vs 30%-defector {mean[1]:.3f} reward per step")
    print(f"{steps * args.num_envs / elapsed / 1e6:.1f} M env-steps/s (including the policies)")


if __name__ == "__main__":
    main()
