"""The ``socialdilemmas`` command line: one subcommand per module in :data:`COMMANDS`.

Each command module exposes ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. The modules are imported when the parser is built; if one needs a
package that is not installed (torch without the ``agents`` extra), the command stops with a
message naming the extra to install instead of a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from agents import EXTRA_HINT

#: subcommand -> module implementing it
COMMANDS: dict[str, str] = {
    "train": "agents.commands.train",
    "evaluate": "agents.commands.evaluate",
    "league": "agents.commands.league",
}


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every subcommand's arguments."""
    parser = argparse.ArgumentParser(
        prog="socialdilemmas",
        description="Train, evaluate and compare agents on social dilemmas.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = _load(module_name)
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def _load(module_name: str):
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        if error.name in {"torch", "stable_baselines3", "matplotlib", "tqdm"}:
            raise SystemExit(
                f"socialdilemmas: this command needs the 'agents' extra ({error.name} is "
                f"missing): {EXTRA_HINT}"
            ) from None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``socialdilemmas`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(args._run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
