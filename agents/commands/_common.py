"""What the commands share: the game's arguments, agent loading, and one-line errors.

A mistake on the command line (an unknown agent, a bad env argument, an unwritable output, a
misspelt ``--metric``) raises :class:`CommandError`; each command's ``run`` turns it into one
line on stderr and exit code 2 (:func:`report`), before any match is played or any run starts.
A failure while running (a full disk, a diverged training run) is reported the same way with
exit code 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

#: exit code of a bad command line (argparse's own) and of a run that failed
USAGE_ERROR, RUN_FAILED = 2, 1

#: the forms an agent can be given in, for the commands' help
AGENT_FORMS = (
    "a scripted strategy of the game (always_defect, tit_for_tat, ..., random), "
    "baseline:NAME (a trained agent shipped with the package: 'socialdilemmas baselines' "
    "lists them), module:factory, path/to/file.py:factory, sb3:model.zip or a checkpoint "
    "path; label=SPEC names it in tables"
)


class CommandError(Exception):
    """A mistake in the command line: printed as one line, exit code 2."""


def report(command: str, error: BaseException, code: int = USAGE_ERROR) -> int:
    """Print ``error`` as one ``socialdilemmas <command>: error: ...`` line; return ``code``."""
    message = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    message = " ".join(message.split()) or type(error).__name__
    print(f"socialdilemmas {command}: error: {message}", file=sys.stderr)
    return code


def add_game_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the game, its arguments, the match budget, the seed and ``--trust-pickle``."""
    parser.add_argument("--env", required=True, help="game id, e.g. ipd_v0, coin_game_v0")
    parser.add_argument(
        "--env-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an argument of the env (repeatable); VALUE is read as JSON when it parses, "
        "e.g. --env-arg max_cycles=20 --env-arg payoffs=ipd_3051",
    )
    parser.add_argument(
        "--episodes",
        type=int,
        default=32,
        help="episodes per match and seat order (default: %(default)s)",
    )
    parser.add_argument(
        "--num-envs", type=int, default=None, help="games side by side (default: all episodes)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of every match (default: %(default)s)"
    )
    parser.add_argument(
        "--device",
        default="cpu",
        help="where checkpoint agents act: cpu, cuda, ... or auto (CUDA when available); the "
        "games run on the CPU (default: cpu)",
    )
    add_trust_pickle_argument(parser)


def add_trust_pickle_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--trust-pickle``."""
    parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="let stable-baselines3 unpickle sb3: model files, which runs any code stored in "
        "them; only for files you trust. Without it an SB3 model is rebuilt from its weights "
        "and the game's spaces, and a model that cannot be rebuilt that way is refused",
    )


def check_budget(episodes: int, num_envs: int | None) -> None:
    """Raise CommandError unless ``episodes`` is positive and ``num_envs`` divides it."""
    if episodes < 1:
        raise CommandError(f"--episodes must be at least 1, got {episodes}")
    if num_envs is not None and (num_envs < 1 or episodes % num_envs):
        raise CommandError(
            f"--num-envs must be a positive divisor of --episodes ({episodes}), got {num_envs}"
        )


def check_seed(seed: int) -> None:
    """Raise CommandError unless ``seed`` is a valid game seed (non-negative, below 2**64)."""
    from socialdilemmas._rng import MAX_SEED

    if not 0 <= seed <= MAX_SEED:
        raise CommandError(f"--seed must be in [0, 2**64), got {seed}")


def env_kwargs(pairs: list[str]) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` strings (VALUE as JSON if possible, else as a string)."""
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"--env-arg expects KEY=VALUE, got {pair!r}")
        try:
            kwargs[key] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key] = value
    return kwargs


def check_game(env_id: str, kwargs: dict[str, Any]) -> Any:
    """Build the game of ``env_id`` with ``kwargs``; CommandError naming a bad id or argument."""
    from agents.scripted import make_game

    try:
        return make_game(env_id, **kwargs)
    except (KeyError, ValueError, TypeError) as error:  # wrong env id or --env-arg
        raise CommandError(
            str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
        ) from None


def check_writable(path: Path, option: str, folder: bool = False) -> None:
    """Raise CommandError unless ``path`` (a file, or a folder with ``folder``) can be written.

    Checked before the work that produces it, so an unwritable output does not throw the work
    away. A folder is created; a file is not (nor truncated).
    """
    try:
        if folder:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):
                pass
        else:
            if path.is_dir():
                raise CommandError(f"{option} {path} is a folder; give a file name")
            path.parent.mkdir(parents=True, exist_ok=True)
            existed = path.exists()
            with open(path, "a"):
                pass
            if not existed:
                path.unlink()
    except OSError as error:
        reason = os.strerror(error.errno).lower() if error.errno else str(error)
        raise CommandError(f"{option} {path} cannot be written: {reason}") from None


def load_agents(
    specs: list[str],
    env_id: str,
    kwargs: dict[str, Any],
    trust_pickle: bool = False,
    device: str = "cpu",
) -> dict[str, Any]:
    """Load each agent spec; return ``{unique name: policy}`` in the given order.

    A bad spec, env id or env argument raises :class:`CommandError` with a one-line message.
    """
    from agents.evaluation.league import name_policies

    return name_policies(load_agent_list(specs, env_id, kwargs, trust_pickle, device))


def load_agent_list(
    specs: list[str],
    env_id: str,
    kwargs: dict[str, Any],
    trust_pickle: bool = False,
    device: str = "cpu",
) -> list[Any]:
    """Load each agent spec, in order, keeping their names (``label=SPEC`` sets one)."""
    from agents.devices import resolve_device
    from agents.loading import AgentSpecError, load_agent

    check_game(env_id, kwargs)
    try:
        resolve_device(device)
    except (TypeError, ValueError) as error:
        raise CommandError(f"--device: {error}") from None
    agents = []
    for spec in specs:
        try:
            agents.append(
                load_agent(spec, env_id, trust_pickle=trust_pickle, device=device, **kwargs)
            )
        except (AgentSpecError, KeyError) as error:  # a user's typo: a message, not a traceback
            raise CommandError(str(error.args[0])) from None
    return agents
