"""``socialdilemmas train``: train a learner from the command line, or resume a run.

The config fields of the chosen algorithm (``--algo NAME`` or a preset's; PPO by default) are
options (``train --algo NAME --help`` lists them); only the options typed change its defaults::

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
import dataclasses
import textwrap

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

HELP = "train a learner (PPO, AA, LOQA, ...) and write a run folder"

#: config fields that a resumed run may change
RESUMABLE_OVERRIDES = ("iterations", "device")

#: the algorithm trained when neither --algo nor --preset names one
DEFAULT_ALGORITHM = "ppo"


def chosen_algorithm(argv: list[str]) -> str | None:
    """The algorithm ``argv`` asks for, through ``--algo NAME`` or ``--preset NAME``; else None.

    Read before parsing, so that only that algorithm's config fields become options. An unknown
    name is left for the parser to reject with its list of choices.
    """
    from agents.algorithms import preset_algorithm

    values: dict[str, str] = {}
    for i, word in enumerate(argv):
        for option in ("--algo", "--preset"):
            if word == option and i + 1 < len(argv):
                values[option] = argv[i + 1]
            elif word.startswith(option + "="):
                values[option] = word.partition("=")[2]
    if values.get("--algo") in ALGORITHMS:
        return values["--algo"]
    if values.get("--preset") in PRESETS:
        return preset_algorithm(values["--preset"])
    return None


def add_arguments(parser: argparse.ArgumentParser, argv: list[str] = ()) -> None:
    """Options of ``train``: the algorithm, the run folder, resume, and the config fields.

    With ``--algo NAME`` (or a preset) every config field of that algorithm is an option and
    ``--help`` lists them; without, ``--help`` lists the fields every algorithm shares (the
    fields of the default algorithm, PPO, are all accepted) and the algorithms and presets.
    """
    from agents.algorithms.core.config import LearnerConfig

    algorithm = chosen_algorithm(list(argv))
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _algorithms_and_presets() if algorithm is None else None
    parser.add_argument(
        "--algo",
        choices=sorted(ALGORITHMS),
        default=None,
        help=f"algorithm (default: the preset's, else {DEFAULT_ALGORITHM}); "
        "'train --algo NAME --help' lists its options",
    )
    parser.add_argument(
        "--preset",
        default=None,
        metavar="NAME",
        help="start from these named hyperparameters (listed below without --algo); the "
        "options typed override them",
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
        help="continue the run saved in this checkpoint (only --iterations and --device may "
        "change)",
    )
    parser.add_argument(
        "--env-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an argument of the env (repeatable), as for evaluate and league; VALUE is read "
        "as JSON when it parses, e.g. --env-arg max_cycles=50 --env-arg continuous=true",
    )
    parser.add_argument(
        "--opponent",
        metavar="SPEC",
        default=None,
        help="a fixed opponent in seat 1 (scripted name, baseline:NAME, module:factory, "
        "sb3:model.zip or a checkpoint); only seat 0 learns",
    )
    add_trust_pickle_argument(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    shown = algorithm or DEFAULT_ALGORITHM
    config_class = ALGORITHMS[shown].config_class
    common = {f.name for f in dataclasses.fields(LearnerConfig)}
    add_config_arguments(
        parser,
        {shown: config_class},
        aliases={"env_id": ["--env"]},
        exclude={"env_kwargs"},  # one way to give the env's arguments: --env-arg
        hidden=() if algorithm else {f.name for f in dataclasses.fields(config_class)} - common,
        title=f"{shown} config"
        if algorithm
        else f"config shared by every algorithm (defaults shown: {shown}'s)",
    )


def _algorithms_and_presets() -> str:
    """The epilog of ``train --help``: the algorithms, then each preset with its description."""
    lines = ["algorithms (train --algo NAME --help lists one's options):"]
    lines += [f"  {name}" for name in sorted(ALGORITHMS)]
    lines += ["", "presets (train --preset NAME; options typed override them):"]
    for name in sorted(PRESETS):
        description = textwrap.shorten(PRESETS[name].description, 140, placeholder=" ...")
        lines += textwrap.wrap(
            f"{name}: {description}", 96, initial_indent="  ", subsequent_indent="      "
        )
    return "\n".join(lines)


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
        return args.algo or DEFAULT_ALGORITHM, given
    preset = get_preset(args.preset)
    algorithm = preset_algorithm(args.preset)
    if args.algo is not None and args.algo != algorithm:
        raise ValueError(f"preset {args.preset!r} is for --algo {algorithm}, not {args.algo}")
    return algorithm, {**preset.config().to_dict(), **given}
