"""``socialdilemmas train``: train a learner from the command line, or resume a run.

Every config field of every registered algorithm is an option (see ``--help``); only the
options typed change the chosen algorithm's defaults::

    socialdilemmas train --algo ppo --env ipd_v0 --num-envs 256 --iterations 100
    socialdilemmas train --algo ppo --env coin_game_v0 --self-play --run-dir runs/coin
    socialdilemmas train --resume runs/coin/checkpoints/iter_000050.pt
    socialdilemmas train --preset aa_ipd --seed 3     # a named preset; options override it
"""

from __future__ import annotations

import argparse
import sys

from agents.algorithms import ALGORITHMS
from agents.config_cli import add_config_arguments, all_field_names, given_fields

HELP = "train a learner (naive actor-critic, PPO, ...) and write a run folder"

#: config fields that a resumed run may change
RESUMABLE_OVERRIDES = ("iterations",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``train``: the algorithm, the run folder, resume, and every config field."""
    from agents.algorithms.presets import PRESETS

    parser.add_argument(
        "--algo", choices=sorted(ALGORITHMS), default=None,
        help="algorithm (default: the preset's, else ppo)",
    )
    parser.add_argument(
        "--preset", choices=sorted(PRESETS), default=None,
        help="start from these named hyperparameters (agents/algorithms/presets.py); the "
        "options typed override them",
    )
    parser.add_argument(
        "--run-dir", default=None,
        help="run folder (default: runs/<algo>_<env>_s<seed>_<date-time>; on resume, the "
        "checkpoint's own run folder)",
    )
    parser.add_argument(
        "--resume", metavar="PATH", default=None,
        help="continue the run saved in this checkpoint (only --iterations may change)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_config_arguments(
        parser,
        {name: config for name, (config, _) in ALGORITHMS.items()},
        aliases={"env_id": ["--env"]},
    )


def run(args: argparse.Namespace) -> int:
    """Train (or resume) and print where the run folder is."""
    from agents.checkpoint import CheckpointError
    from agents.training import resume, train

    names = all_field_names(config for config, _ in ALGORITHMS.values())
    given = given_fields(args, names)
    try:
        if args.resume:
            fixed = sorted(set(given) - set(RESUMABLE_OVERRIDES))
            if fixed:
                return _error(
                    f"a resumed run keeps its config; cannot change {fixed} with --resume"
                )
            learner = resume(
                args.resume, run_dir=args.run_dir, iterations=given.get("iterations"),
                progress=not args.no_progress,
            )
        else:
            algo, values = _algorithm_and_values(args, given)
            config = ALGORITHMS[algo][0].from_dict(values)
            learner = train(config, algo, run_dir=args.run_dir, progress=not args.no_progress)
    except (CheckpointError, ValueError, KeyError, FileExistsError, FileNotFoundError) as error:
        return _error(str(error.args[0]) if isinstance(error, KeyError) else str(error))
    print(f"trained {learner.iteration} iterations; run folder: {learner.run_dir}")
    return 0


def _algorithm_and_values(
    args: argparse.Namespace, given: dict
) -> tuple[str, dict]:
    """The algorithm to train and its config values: the preset's (if any) updated by ``given``."""
    from agents.algorithms.presets import PRESETS

    if getattr(args, "preset", None) is None:
        return args.algo or "ppo", given
    preset = PRESETS[args.preset]
    if args.algo is not None and args.algo != preset.algorithm:
        raise ValueError(
            f"preset {args.preset!r} is for --algo {preset.algorithm}, not {args.algo}"
        )
    return preset.algorithm, {**preset.values, **given}


def _error(message: str) -> int:
    print(f"socialdilemmas train: error: {message}", file=sys.stderr)
    return 2
