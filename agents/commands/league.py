"""``socialdilemmas league``: a round robin of agents -> CSV, JSON and a heatmap PNG."""

from __future__ import annotations

import argparse
from pathlib import Path

from agents.commands._common import (
    AGENT_FORMS,
    RUN_FAILED,
    CommandError,
    add_game_arguments,
    check_budget,
    check_game,
    check_seed,
    check_writable,
    env_kwargs,
    load_agent_list,
    load_agents,
    report,
)

HELP = "round robin of agents (self-play included): league table as CSV, JSON and heatmap PNG"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the agents, the game and the output folder."""
    parser.add_argument(
        "agents",
        nargs="+",
        help=f"agents: {AGENT_FORMS}",
    )
    add_game_arguments(parser)
    parser.add_argument(
        "--one-seat",
        action="store_true",
        help="play each pair in one seat order only (default: both orders, pooled)",
    )
    parser.add_argument(
        "--metric",
        default="reward_per_step",
        help="table to print and plot (the CSV holds it too; the JSON holds every metric; "
        "default: %(default)s)",
    )
    parser.add_argument(
        "--seed-groups",
        action="store_true",
        help="agents with the same label (label=SPEC) are seeds of one algorithm: each cell "
        "averages every pair of seeds between two groups, the LOQA and AA papers' protocol, "
        "with each group's cross-seed and same-seed pairs also reported apart",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Load the agents, play every pair, write league (or seed_league) .csv, .json and .png.

    Every argument, the ``--metric`` name and the ``--out`` folder are checked before the first
    match, so a typo does not throw a finished league away.
    """
    # imported here, not at the top, so that ``league --help`` does not wait for torch
    from agents.evaluation import league
    from agents.evaluation.metrics import metric_names
    from agents.evaluation.seed_league import seed_league
    from agents.validation import NonFiniteError

    try:
        check_budget(args.episodes, args.num_envs)
        check_seed(args.seed)
        kwargs = env_kwargs(args.env_arg)
        known = metric_names(check_game(args.env, kwargs))
        if args.metric not in known:
            raise CommandError(f"--metric {args.metric!r} is not a metric of {args.env}: {known}")
        check_writable(args.out, "--out", folder=True)
        if args.seed_groups:
            groups: dict[str, list] = {}
            for agent in load_agent_list(
                args.agents, args.env, kwargs, args.trust_pickle, args.device
            ):
                groups.setdefault(agent.name, []).append(agent)
        else:
            agents = load_agents(args.agents, args.env, kwargs, args.trust_pickle, args.device)
    except CommandError as error:
        return report("league", error)
    play = seed_league if args.seed_groups else league
    try:
        result = play(
            groups if args.seed_groups else agents,
            args.env,
            episodes=args.episodes,
            num_envs=args.num_envs,
            seed=args.seed,
            both_seats=not args.one_seat,
            progress=not args.quiet,
            **kwargs,
        )
    except NonFiniteError as error:  # an agent's network produced NaN logits
        return report("league", error, RUN_FAILED)
    print(result.format(args.metric))
    try:
        written = result.save(args.out, metric=args.metric)
    except OSError as error:
        return report("league", error, RUN_FAILED)
    print("wrote " + ", ".join(str(path) for path in written))
    return 0
