"""``socialdilemmas evaluate``: one match between two agents, printed as a table."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from agents.commands._common import (
    AGENT_FORMS,
    RUN_FAILED,
    CommandError,
    add_game_arguments,
    check_budget,
    check_seed,
    check_writable,
    env_kwargs,
    load_agents,
    report,
)

HELP = "play two agents against each other and print rewards per step and the game's metrics"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the agents, the game and the outputs."""
    parser.add_argument(
        "agent_a",
        help=f"agent in seat 0: {AGENT_FORMS}",
    )
    parser.add_argument("agent_b", help="agent in seat 1 (same forms)")
    add_game_arguments(parser)
    parser.add_argument(
        "--both-seats", action="store_true", help="also play with seats exchanged and pool"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the result as JSON")


def run(args: argparse.Namespace) -> int:
    """Load both agents, play the match, print it (and write the JSON)."""
    # imported here, not at the top, so that ``evaluate --help`` does not wait for torch
    from agents.checkpoint import DiskWriteError, atomic_write_bytes
    from agents.evaluation import match
    from agents.validation import NonFiniteError

    try:
        check_budget(args.episodes, args.num_envs)
        check_seed(args.seed)
        kwargs = env_kwargs(args.env_arg)
        if args.json is not None:
            check_writable(args.json, "--json")
        agents = load_agents(
            [args.agent_a, args.agent_b], args.env, kwargs, args.trust_pickle, args.device
        )
    except CommandError as error:
        return report("evaluate", error)
    policy_a, policy_b = agents.values()
    try:
        result = match(
            policy_a,
            policy_b,
            args.env,
            episodes=args.episodes,
            num_envs=args.num_envs,
            seed=args.seed,
            both_seats=args.both_seats,
            **kwargs,
        )
    except NonFiniteError as error:  # an agent's network produced NaN logits
        return report("evaluate", error, RUN_FAILED)
    print(result.table())
    if args.json is not None:
        text = json.dumps(result.to_dict(), indent=2) + "\n"
        try:
            atomic_write_bytes(args.json, text.encode())
        except DiskWriteError as error:
            return report("evaluate", error, RUN_FAILED)
        print(f"wrote {args.json}")
    return 0
