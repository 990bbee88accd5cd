"""Arguments shared by the evaluation commands: the game, its arguments, the match budget."""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_game_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--env``, ``--env-arg``, ``--episodes``, ``--num-envs`` and ``--seed``."""
    parser.add_argument("--env", required=True, help="game id, e.g. ipd_v0, coin_game_v0")
    parser.add_argument(
        "--env-arg", action="append", default=[], metavar="KEY=VALUE",
        help="an argument of the env (repeatable); VALUE is read as JSON when it parses, "
        "e.g. --env-arg max_cycles=20 --env-arg payoffs=ipd_3051",
    )
    parser.add_argument(
        "--episodes", type=int, default=32, help="episodes per match and seat order"
    )
    parser.add_argument(
        "--num-envs", type=int, default=None, help="games side by side (default: all episodes)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of every match")


def check_budget(episodes: int, num_envs: int | None) -> None:
    """Exit with a message unless ``episodes`` is positive and ``num_envs`` divides it."""
    if episodes < 1:
        raise SystemExit(f"socialdilemmas: --episodes must be at least 1, got {episodes}")
    if num_envs is not None and (num_envs < 1 or episodes % num_envs):
        raise SystemExit(
            f"socialdilemmas: --num-envs must be a positive divisor of --episodes "
            f"({episodes}), got {num_envs}"
        )


def env_kwargs(pairs: list[str]) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` strings (VALUE as JSON if possible, else as a string)."""
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"socialdilemmas: --env-arg expects KEY=VALUE, got {pair!r}")
        try:
            kwargs[key] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key] = value
    return kwargs


def load_agents(specs: list[str], env_id: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Load each agent spec; return ``{unique name: policy}`` in the given order.

    A bad spec, env id or env argument exits with a one-line message (``SystemExit``), not a
    traceback.
    """
    from agents.evaluation.league import name_policies
    from agents.loading import AgentSpecError, load_agent
    from agents.scripted import make_game

    try:
        make_game(env_id, **kwargs)
    except (KeyError, ValueError, TypeError) as error:  # wrong env id or --env-arg
        raise SystemExit(f"socialdilemmas: {error.args[0] if error.args else error}") from None
    agents = []
    for spec in specs:
        try:
            agents.append(load_agent(spec, env_id, **kwargs))
        except (AgentSpecError, KeyError) as error:  # a user's typo: a message, not a traceback
            raise SystemExit(f"socialdilemmas: {error.args[0]}") from None
    return name_policies(agents)
