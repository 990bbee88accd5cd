"""Evaluate your own agent: a plain Python function in a match and a league.

The agent is "win-stay, lose-shift" (Pavlov) for the Iterated Prisoner's Dilemma, written as a
function of a batch of observations: it cooperates after CC and DD and defects after CD and DC.
The script plays it against tit-for-tat, then runs a league against the scripted strategies and
writes the table (CSV, JSON) and a heatmap PNG.

Run: ``python examples/evaluate_callable.py --out league_out``. The same agent works from the
command line through its factory::

    socialdilemmas league examples/evaluate_callable.py:make_agent tit_for_tat always_defect \
        --env ipd_v0 --out league_out
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from agents.evaluation import league, match
from agents.scripted import SCRIPTED_NAMES, scripted_policy

# observation: one-hot of the last joint action [CC, CD, DC, DD, start], own action first
DEFECT_AFTER = np.array([0, 1, 1, 0, 0], dtype=np.float32)  # shift after a mismatch


def pavlov(observations: np.ndarray) -> np.ndarray:
    """Win-stay, lose-shift for a batch: 0 (cooperate) after CC, DD and at the start."""
    return (observations @ DEFECT_AFTER > 0.5).astype(np.int64)


def make_agent(env_id: str):
    """Return the agent for ``env_id`` (the factory ``socialdilemmas evaluate/league`` call)."""
    if env_id not in ("ipd_v0", "matrix_game_v0"):
        raise ValueError(f"pavlov plays the iterated 2x2 games, not {env_id}")
    return pavlov


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("league_out"))
    args = parser.parse_args()

    result = match(
        pavlov,
        scripted_policy("tit_for_tat", "ipd_v0"),
        "ipd_v0",
        episodes=args.episodes,
        seed=args.seed,
    )
    print(result.table(), end="\n\n")

    agents = {"pavlov": pavlov}
    agents.update({name: scripted_policy(name, "ipd_v0") for name in SCRIPTED_NAMES})
    table = league(agents, "ipd_v0", episodes=args.episodes, seed=args.seed)
    print(table.format())
    for path in table.save(args.out):  # league.csv, league.json, league.png
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
