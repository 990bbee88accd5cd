"""Scripted strategies against each other in the Coin Game, on the vector env.

Plays every pairing of always-cooperate (AC), always-defect (AD) and uniform random moves for
one episode in a batch of games and prints each player's mean reward per step and the share of
the coins it collected that were its own (the "% own coin" of the LOLA/LOQA papers).
Run: ``python examples/coin_game_scripted.py``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

import socialdilemmas
from socialdilemmas.coin_game import strategies

# every policy: (own-perspective observations (n, 4, g, g), rng) -> moves (n,)
Policy = Callable[[np.ndarray, np.random.Generator], np.ndarray]

POLICIES: dict[str, Policy] = {
    "AC": strategies.always_cooperate,
    "AD": strategies.always_defect,
    "random": lambda obs, rng: rng.integers(0, 4, size=len(obs)),
}


def play(first: str, second: str, num_envs: int, steps: int, seed: int) -> tuple[float, ...]:
    """Mean reward per step of both players and their own-coin shares."""
    pair = (first, second)
    vec = socialdilemmas.make_vec("coin_game_v0", num_envs, seed=seed, max_cycles=steps)
    rng = np.random.default_rng(seed)
    observations, _ = vec.reset()
    rewards_sum = np.zeros(2)
    pickups = np.zeros((2, 2), dtype=np.int64)  # [picker, owner]
    for _ in range(steps):
        actions = np.stack(
            [POLICIES[name](observations[:, seat], rng) for seat, name in enumerate(pair)], axis=1
        )
        observations, rewards, _, _, info = vec.step(actions)
        rewards_sum += rewards.mean(axis=0)
        pickups += info["pickups"].sum(axis=0)
    own_share = [pickups[seat, seat] / max(pickups[seat].sum(), 1) for seat in range(2)]
    return rewards_sum[0] / steps, rewards_sum[1] / steps, own_share[0], own_share[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=1024, help="games played at once")
    parser.add_argument("--steps", type=int, default=50, help="steps per episode")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{'pair':<14}{'reward p0':>10}{'reward p1':>10}{'own p0':>8}{'own p1':>8}")
    for first in POLICIES:
        for second in POLICIES:
            r0, r1, own0, own1 = play(first, second, args.num_envs, args.steps, args.seed)
            pair = f"{first} v {second}"
            print(f"{pair:<14}{r0:>10.3f}{r1:>10.3f}{own0:>8.2f}{own1:>8.2f}")


if __name__ == "__main__":
    main()
