"""The ``socialdilemmas`` command line: one subcommand per module in :data:`COMMANDS`.

Each command module exposes ``HELP`` (one line, repeated in :data:`COMMANDS` so that the top
level's ``--help`` imports nothing), ``add_arguments(parser)`` (or ``add_arguments(parser,
argv)`` when its options depend on the command line, as ``train --algo NAME`` does) and
``run(args) -> int``. Only the module of the command being run is imported; if it needs a
package that is not installed (torch without the ``agents`` extra), the command stops with a
message naming the extra to install instead of a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import sys
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from agents import EXTRA_HINT


class Command(NamedTuple):
    """A subcommand: the module implementing it and its one-line help."""

    module: str
    help: str


#: subcommand -> its module and help line (kept equal to the module's HELP by a test)
COMMANDS: dict[str, Command] = {
    "train": Command(
        "agents.commands.train", "train a learner (PPO, AA, LOQA, ...) and write a run folder"
    ),
    "evaluate": Command(
        "agents.commands.evaluate",
        "play two agents against each other and print rewards per step and the game's metrics",
    ),
    "league": Command(
        "agents.commands.league",
        "round robin of agents (self-play included): league table as CSV, JSON and heatmap PNG",
    ),
    "tournament": Command(
        "agents.commands.tournament",
        "exact-game tournament of learners (naive, LOLA, ...) from random starts: CSV, JSON, PNG",
    ),
    "exploit": Command(
        "agents.commands.exploit",
        "train a best response against a frozen agent and print both rewards per step",
    ),
    "baselines": Command(
        "agents.commands.baselines",
        "list the trained agents shipped with the package (agent spec baseline:NAME)",
    ),
}

#: packages of the ``agents`` extra: a command missing one names the extra to install
EXTRA_PACKAGES = {"torch", "stable_baselines3", "matplotlib", "tqdm"}


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """Build the parser; only the subcommand named in ``argv`` (if any) gets its arguments."""
    parser = argparse.ArgumentParser(
        prog="socialdilemmas",
        description="Train, evaluate and compare agents on social dilemmas.",
        epilog="'socialdilemmas COMMAND --help' shows a command's options.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    argv = list(argv)
    position = next((i for i, word in enumerate(argv) if not word.startswith("-")), None)
    chosen = None if position is None else argv[position]
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.help, description=command.help)
        if name != chosen:
            continue
        module = _load(command.module)
        if len(inspect.signature(module.add_arguments).parameters) > 1:
            module.add_arguments(sub, argv[position + 1 :])
        else:
            module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def _load(module_name: str):
    with _naming_a_missing_extra():
        return importlib.import_module(module_name)


@contextlib.contextmanager
def _naming_a_missing_extra() -> Iterator[None]:
    """Turn an ImportError of a package of the ``agents`` extra into a message naming it."""
    try:
        yield
    except ImportError as error:
        if error.name in EXTRA_PACKAGES:
            raise SystemExit(
                f"socialdilemmas: this command needs the 'agents' extra ({error.name} is "
                f"missing): {EXTRA_HINT}"
            ) from None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``socialdilemmas`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    with _naming_a_missing_extra():  # commands import what they need when they run
        return int(args._run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
