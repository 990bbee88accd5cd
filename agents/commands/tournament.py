"""``socialdilemmas tournament``: every pair of exact-game learners -> table, CSV, JSON, PNG."""

from __future__ import annotations

import argparse
from pathlib import Path

from agents.commands._common import RUN_FAILED, CommandError, check_writable, report

HELP = "exact-game tournament of learners (naive, LOLA, ...) from random starts: CSV, JSON, PNG"

LEARNER_FORMS = (
    "a registered exact-game learner (naive, lola, lola_lookahead, mmaml: it meta-trains "
    "first, about 50 min per game at its reference settings; meva: plays with trained "
    "models, see --meva-models), or module:factory or "
    "path/to/file.py:factory returning an agents.algorithms.exact.ExactLearner; "
    "label=SPEC names it in the table"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the learners, the game, the budget and the output folder."""
    parser.add_argument(
        "learners", nargs="*", default=["naive", "lola"], help=f"learners: {LEARNER_FORMS}"
    )
    parser.add_argument(
        "--game",
        default="ipd",
        help="payoff preset of the iterated 2x2 game: ipd, matching_pennies, chicken_meva "
        "(MeVa's chicken), ... (default: %(default)s)",
    )
    parser.add_argument(
        "--gamma", type=float, default=0.96, help="discount of the game (default: %(default)s)"
    )
    parser.add_argument(
        "--trials", type=int, default=1024, help="games per pair (default: %(default)s)"
    )
    parser.add_argument(
        "--steps", type=int, default=300, help="simultaneous updates (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the initial parameters (default: 0)"
    )
    parser.add_argument(
        "--meva-models",
        type=Path,
        default=None,
        help="folder of trained MeVa models named <game>_vs_<opponent>[_seat1]_s<seed>.pt, as "
        "experiments/reproduce_meva.py writes them (default: the models bundled with the package)",
    )
    parser.add_argument(
        "--meva-seeds",
        type=int,
        nargs="+",
        default=None,
        help="which models (training seeds) MeVa plays with; trials are dealt to them in turn "
        "(default: 0)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--quiet", action="store_true", help="no line per finished pair")


def load_learner(spec: str):
    """``(label, learner)`` for a registered name or a ``module:factory`` spec."""
    from agents.algorithms.exact import ExactLearner
    from agents.algorithms.exact.registry import EXACT_LEARNERS, make_exact_learner

    label, sep, rest = spec.partition("=")
    if not sep:
        label, rest = spec, spec
    if rest in EXACT_LEARNERS:
        return label, make_exact_learner(rest)
    module_name, colon, attribute = rest.rpartition(":")
    if not colon or not module_name or not attribute:
        raise CommandError(
            f"unknown learner {rest!r}: give one of {sorted(EXACT_LEARNERS)} or module:factory"
        )
    from agents.loading import AgentSpecError, _import

    try:
        factory = getattr(_import(module_name, rest), attribute)
        learner = factory()
    except AgentSpecError as error:
        raise CommandError(str(error).replace("agent ", "learner ", 1)) from None
    except Exception as error:  # noqa: BLE001 - the user's factory failing, as one line
        raise CommandError(f"learner {rest!r}: {type(error).__name__}: {error}") from None
    if not isinstance(learner, ExactLearner):
        raise CommandError(f"learner {rest!r} is not an ExactLearner: {learner!r}")
    return label, learner


def check_meva_models(learners: dict, game, folder: Path | None, seeds: list[int] | None) -> None:
    """Point the MeVa learners at ``folder`` and ``seeds`` and load every model they will need.

    Loading before any game is played makes a missing model fail at once, not after the cells
    before it. ``learners`` is updated in place (a MeVa learner is rebuilt with the new config).
    """
    from dataclasses import replace

    from agents.algorithms.meva.learner import MevaLearner, opponent_kind

    kinds = sorted({opponent_kind(learner) for learner in learners.values()})
    for label, learner in list(learners.items()):
        if not isinstance(learner, MevaLearner):
            continue
        changes = {}
        if folder is not None:
            changes["model_dir"] = str(folder)
        if seeds is not None:
            changes["seeds"] = tuple(seeds)
        if changes:
            learner = learners[label] = MevaLearner(replace(learner.config, **changes))
        try:
            for kind in kinds:
                for seat in (0, 1):
                    learner.models_for(kind, seat, game)
        except (FileNotFoundError, ValueError) as error:
            raise CommandError(str(error)) from None


def run(args: argparse.Namespace) -> int:
    """Check every argument, play every ordered pair, print the table and write the files."""
    from agents.algorithms.exact import ExactGame
    from agents.evaluation.tournament import tournament
    from agents.validation import NonFiniteError

    try:
        if args.trials < 1:
            raise CommandError(f"--trials must be at least 1, got {args.trials}")
        if args.steps < 0:
            raise CommandError(f"--steps must be at least 0, got {args.steps}")
        if args.seed < 0:
            raise CommandError(f"--seed must be at least 0, got {args.seed}")
        try:
            game = ExactGame(args.game, gamma=args.gamma)
        except ValueError as error:
            raise CommandError(f"--game/--gamma: {error}") from None
        learners = dict(load_learner(spec) for spec in args.learners)
        if len(learners) < len(args.learners):
            raise CommandError("two learners have the same label; name them with label=SPEC")
        check_meva_models(learners, game, args.meva_models, args.meva_seeds)
        check_writable(args.out, "--out", folder=True)
    except CommandError as error:
        return report("tournament", error)
    try:
        result = tournament(learners, game, args.trials, args.steps, args.seed, not args.quiet)
    except NonFiniteError as error:
        return report("tournament", error, RUN_FAILED)
    print(result.format())
    try:
        written = result.save(args.out)
    except OSError as error:
        return report("tournament", error, RUN_FAILED)
    print("wrote " + ", ".join(str(path) for path in written))
    return 0
