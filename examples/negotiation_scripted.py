"""Scripted strategies against each other in the Negotiation Game, on the vector env.

Plays every pairing of always-cooperate (AC), always-defect (AD) and tit-for-tat (TFT) for one
episode in a batch of games and prints each player's mean reward per round and the share of the
best joint reward the pair achieved. Run: ``python examples/negotiation_scripted.py``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

import socialdilemmas
from socialdilemmas.negotiation import strategies

# every policy: (observations, previous observations or None, rng) -> claims
Policy = Callable[[np.ndarray, "np.ndarray | None", np.random.Generator], np.ndarray]

POLICIES: dict[str, Policy] = {
    "AC": lambda obs, previous, rng: strategies.always_cooperate(obs, rng),
    "AD": lambda obs, previous, rng: strategies.always_defect(obs),
    "TFT": strategies.tit_for_tat,
}


def play(first: str, second: str, num_envs: int, rounds: int, seed: int) -> tuple[float, ...]:
    """Mean reward per round of both players and the mean share of the best joint reward."""
    vec = socialdilemmas.make_vec("negotiation_v0", num_envs, seed=seed, max_cycles=rounds)
    rng = np.random.default_rng(seed)
    observations, _ = vec.reset()
    previous = None
    rewards_sum = np.zeros(2)
    achieved = 0.0
    for _ in range(rounds):
        actions = np.stack(
            [
                POLICIES[name](
                    observations[:, seat], None if previous is None else previous[:, seat], rng
                )
                for seat, name in enumerate((first, second))
            ],
            axis=1,
        )
        previous = observations
        observations, rewards, _, _, info = vec.step(actions)
        rewards_sum += rewards.mean(axis=0)
        achieved += float((rewards.sum(axis=1) / info["max_welfare"]).mean())
    return rewards_sum[0] / rounds, rewards_sum[1] / rounds, achieved / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=1024, help="games played at once")
    parser.add_argument("--rounds", type=int, default=50, help="rounds per episode")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{'pair':<10}{'reward p0':>10}{'reward p1':>10}{'welfare share':>15}")
    for first in POLICIES:
        for second in POLICIES:
            r0, r1, share = play(first, second, args.num_envs, args.rounds, args.seed)
            print(f"{first + ' v ' + second:<10}{r0:>10.3f}{r1:>10.3f}{share:>15.3f}")


if __name__ == "__main__":
    main()
