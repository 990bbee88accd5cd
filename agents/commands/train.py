"""``socialdilemmas train``: train a learner from the command line, or resume a run.

Every config field of every registered algorithm is an option (see ``--help``); only the
options typed change the chosen algorithm's defaults::

    socialdilemmas train --algo ppo --env ipd_v0 --num-envs 256 --iterations 100
    socialdilemmas train --algo ppo --env coin_game_v0 --self-play --run-dir runs/coin
    socialdilemmas train --resume runs/coin/checkpoints/iter_000050.pt
    socialdilemmas train --preset aa_ipd --seed 3     # a named preset; options override it
    socialdilemmas train --algo ppo --env ipd_v0 --opponent tit_for_tat

``--opponent`` takes any agent spec of ``socialdilemmas evaluate`` (a scripted name,
``module:factory``, ``sb3:model.zip``, a checkpoint): it plays seat 1 and only seat 0 learns;
give it again with ``--resume``.
"""

from __future__ import annotations

import argparse

from agents.algorithms import ALGORITHMS, PRESETS
from agents.commands._common import (
    RUN_FAILED,
    CommandError,
    add_trust_pickle_argument,
    check_game,
    env_kwargs,
    report,
)
from agents.config_cli import add_config_arguments, all_field_names, given_fields

HELP = "train a learner (naive actor-critic, PPO, ...) and write a run folder"

#: config fields that a resumed run may change
RESUMABLE_OVERRIDES = ("iterations", "device")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``train``: the algorithm, the run folder, resume, and every config field."""
    parser.add_argument(
        "--algo",
        choices=sorted(ALGORITHMS),
        default=None,
        help="algorithm (default: the preset's, else ppo)",
    )
    parser.add_argument(
        "--preset",
        default=None,
        metavar="NAME",
        help="start from these named hyperparameters, one of "
        f"{', '.join(sorted(PRESETS))}; the options typed override them",
    )
    parser.add_argument(
        "--run-dir",
        default=None,
        help="run folder (default: runs/<algo>_<env>_s<seed>_<date-time>; on resume, the "
        "checkpoint's own run folder)",
    )
    parser.add_argument(
        "--resume",
        metavar="PATH",
        default=None,
        help="continue the run saved in this checkpoint (only --iterations may change)",
    )
    parser.add_argument(
        "--env-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an argument of the env, as for evaluate and league (repeatable; merged into "
        "--env-kwargs)",
    )
    parser.add_argument(
        "--opponent",
        metavar="SPEC",
        default=None,
        help="a fixed opponent in seat 1 (scripted name, module:factory, sb3:model.zip or a "
        "checkpoint); only seat 0 learns",
    )
    add_trust_pickle_argument(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_config_arguments(
        parser,
        {name: config for name, (config, _) in ALGORITHMS.items()},
        aliases={"env_id": ["--env"]},
    )


def run(args: argparse.Namespace) -> int:
    """Train (or resume) and print where the run folder is.

    Exit codes: 0 done; 2 a bad argument, agent, checkpoint or run folder (nothing was
    trained); 1 the run failed on the way (it diverged, or the disk is full), after saving what
    it could.
    """
    from agents.checkpoint import (
        CheckpointError,
        DiskWriteError,
        checkpoint_config,
        read_checkpoint,
    )
    from agents.loading import AgentSpecError, load_agent
    from agents.training import resume, train
    from agents.validation import NonFiniteError

    names = all_field_names(config for config, _ in ALGORITHMS.values())
    given = given_fields(args, names)
    try:
        if args.env_arg:
            given["env_kwargs"] = {**given.get("env_kwargs", {}), **env_kwargs(args.env_arg)}
        if args.resume:
            if args.preset:
                raise CommandError("a resumed run keeps its config; --preset cannot be combined")
            fixed = sorted(set(given) - set(RESUMABLE_OVERRIDES))
            if fixed:
                raise CommandError(
                    f"a resumed run keeps its config; cannot change {fixed} with --resume"
                )
            opponent = None
            if args.opponent:
                saved = checkpoint_config(read_checkpoint(args.resume), args.resume)
                opponent = load_agent(
                    args.opponent,
                    saved.env_id,
                    trust_pickle=args.trust_pickle,
                    **saved.env_kwargs,
                )
            learner = resume(
                args.resume,
                run_dir=args.run_dir,
                iterations=given.get("iterations"),
                progress=not args.no_progress,
                opponent=opponent,
                device=given.get("device"),
            )
        else:
            algo, values = _algorithm_and_values(args, given)
            config = ALGORITHMS[algo][0].from_dict(values)
            # the env's arguments are checked here, so a typo is one line, not a traceback
            check_game(config.env_id, config.env_kwargs)
            opponent = (
                load_agent(
                    args.opponent,
                    config.env_id,
                    trust_pickle=args.trust_pickle,
                    **config.env_kwargs,
                )
                if args.opponent
                else None
            )
            learner = train(
                config,
                algo,
                run_dir=args.run_dir,
                progress=not args.no_progress,
                opponent=opponent,
            )
    except (NonFiniteError, DiskWriteError) as error:  # the run started and failed
        return report("train", error, RUN_FAILED)
    except (
        CommandError,
        AgentSpecError,
        CheckpointError,
        ValueError,
        KeyError,
        FileExistsError,
        FileNotFoundError,
    ) as error:
        return report("train", error)
    print(f"trained {learner.iteration} iterations; run folder: {learner.run_dir}")
    return 0


def _algorithm_and_values(args: argparse.Namespace, given: dict) -> tuple[str, dict]:
    """The algorithm to train and its config values: the preset's (if any) updated by ``given``."""
    from agents.algorithms import get_preset, preset_algorithm

    if getattr(args, "preset", None) is None:
        return args.algo or "ppo", given
    preset = get_preset(args.preset)
    algorithm = preset_algorithm(args.preset)
    if args.algo is not None and args.algo != algorithm:
        raise ValueError(f"preset {args.preset!r} is for --algo {algorithm}, not {args.algo}")
    return algorithm, {**preset.config().to_dict(), **given}
