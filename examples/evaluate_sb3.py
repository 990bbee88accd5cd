"""Train Stable-Baselines3 PPO in self-play on one of our games, then put it in a league.

One PPO model plays both seats of every game (parameter sharing) through
:class:`agents.sb3.SB3VecEnv`; the saved model is then loaded back as an agent spec
(``sb3:model.zip``) and compared with the scripted strategies and a plain callable.

Run: ``python examples/evaluate_sb3.py --env ipd_v0 --timesteps 50000 --out sb3_out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from agents.evaluation import league
from agents.loading import load_agent
from agents.sb3 import train_ppo_self_play
from agents.scripted import scripted_policy, strategy_names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="ipd_v0")
    parser.add_argument("--timesteps", type=int, default=50_000)
    parser.add_argument("--num-envs", type=int, default=16)
    parser.add_argument("--episodes", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("sb3_out"))
    args = parser.parse_args()
    torch.set_num_threads(1)

    model = train_ppo_self_play(args.env, args.timesteps, num_envs=args.num_envs, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / "ppo_self_play.zip")

    agents = {"ppo": load_agent(f"sb3:{args.out / 'ppo_self_play.zip'}", args.env)}
    agents.update({name: scripted_policy(name, args.env) for name in strategy_names(args.env)})
    space = agents["random"].action_space
    # a plain callable: the first action everywhere (cooperate / move right / claim nothing)
    agents["first_action"] = lambda obs: np.zeros((len(obs), *space.shape), dtype=np.int64)
    result = league(agents, args.env, episodes=args.episodes, seed=args.seed)
    print(result.format())
    for path in result.save(args.out):  # league.csv, league.json, league.png
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
