"""``socialdilemmas league``: a round robin of agents -> CSV, JSON and a heatmap PNG."""

from __future__ import annotations

import argparse
from pathlib import Path

from agents.commands._common import add_game_arguments, check_budget, env_kwargs, load_agents
from agents.evaluation import league

HELP = "round robin of agents (self-play included): league table as CSV, JSON and heatmap PNG"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the agents, the game and the output folder."""
    parser.add_argument(
        "agents", nargs="+",
        help="agents (scripted name, module:factory, file.py:factory, sb3:model.zip or a "
        "checkpoint; label=SPEC to name it)",
    )
    add_game_arguments(parser)
    parser.add_argument(
        "--one-seat", action="store_true",
        help="play each pair in one seat order only (default: both orders, pooled)",
    )
    parser.add_argument(
        "--metric", default="reward_per_step",
        help="table to print and plot (the CSV holds it too; the JSON holds every metric)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Load the agents, play every pair, write league.csv, league.json and league.png."""
    check_budget(args.episodes, args.num_envs)
    kwargs = env_kwargs(args.env_arg)
    agents = load_agents(args.agents, args.env, kwargs)
    result = league(
        agents, args.env, episodes=args.episodes, num_envs=args.num_envs, seed=args.seed,
        both_seats=not args.one_seat, progress=not args.quiet, **kwargs,
    )
    print(result.format(args.metric))
    written = result.save(args.out, metric=args.metric)
    print("wrote " + ", ".join(str(path) for path in written))
    return 0
