"""The training loop and the ``train`` command: run folders, resuming, errors."""

from __future__ import annotations

import json

import pytest
import torch

from agents.algorithms.actor_critic import ActorCriticConfig
from agents.algorithms.ppo import PPOConfig, PPOLearner
from agents.checkpoint import load_policy, restore_learner
from agents.cli import main
from agents.scripted import scripted_policy
from agents.training import learned_reward, plot_learning_curves, read_metrics, resume, train

SMALL = {
    "env_id": "ipd_v0",
    "env_kwargs": {"max_cycles": 4},
    "num_envs": 8,
    "hidden_sizes": (8,),
    "gru_size": 8,
    "num_minibatches": 2,
}


def test_train_writes_the_run_folder(tmp_path):
    run = tmp_path / "run"
    learner = train(PPOConfig(**SMALL, iterations=4, checkpoint_every=2), "ppo", run, False)
    assert learner.iteration == 4 and learner.run_dir == run
    assert sorted(p.name for p in run.iterdir()) == [
        ".lock",
        "checkpoints",
        "config.json",
        "learning_curves.png",
        "metrics.csv",
    ]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "final.pt",
        "iter_000002.pt",
        "iter_000004.pt",
    ]
    saved = json.loads((run / "config.json").read_text())
    assert saved["algorithm"] == "ppo" and saved["config"]["num_envs"] == 8
    metrics = read_metrics(run / "metrics.csv")
    assert metrics["iteration"] == [1.0, 2.0, 3.0, 4.0]
    assert metrics["env_steps"][-1] == 4 * 8 * 4
    assert {"reward_0", "reward_1", "cooperation_rate", "policy_loss"} <= set(metrics)
    assert (run / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(FileExistsError, match="already holds a run"):
        train(PPOConfig(**SMALL, iterations=1), "ppo", run, False)


def test_learning_curves_give_each_loss_its_own_labelled_panel(tmp_path):
    """A value loss near 100 must not share an axis with a policy loss near 0.01."""
    metrics = tmp_path / "metrics.csv"
    metrics.write_text(
        "iteration,reward_0,reward_1,cooperation_rate,policy_loss,value_loss,entropy\n"
        "1,-2,-2,0.5,0.01,120,1.3\n2,-1.5,-1.6,0.7,-0.02,90,1.2\n"
    )
    figure = plot_learning_curves(metrics, tmp_path / "curves.png", title="ppo on ipd_v0: run")
    panels = {axes.get_title(): axes for axes in figure.axes}
    assert list(panels) == ["rewards", "cooperation rate", "policy loss", "value loss", "entropy"]
    assert all(axes.get_ylabel() and axes.get_xlabel() == "iteration" for axes in figure.axes)
    assert [line.get_label() for line in panels["value loss"].get_lines()] == ["value_loss"]
    assert figure.get_suptitle() == "ppo on ipd_v0: run"
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_wrong_config_class_for_the_algorithm(tmp_path):
    with pytest.raises(TypeError, match="takes a PPOConfig"):
        train(ActorCriticConfig(iterations=1), "ppo", tmp_path / "run", False)


def comparable(metrics):
    return {k: v for k, v in metrics.items() if k != "seconds"}


def test_resuming_continues_exactly_like_an_uninterrupted_run(tmp_path):
    whole = train(PPOConfig(**SMALL, iterations=4), "ppo", tmp_path / "whole", False)
    train(PPOConfig(**SMALL, iterations=4, checkpoint_every=2), "ppo", tmp_path / "cut", False)
    # pretend the run died after iteration 2: resume from that checkpoint
    resumed = resume(tmp_path / "cut" / "checkpoints" / "iter_000002.pt", progress=False)
    assert resumed.iteration == 4
    assert comparable(read_metrics(tmp_path / "cut" / "metrics.csv")) == comparable(
        read_metrics(tmp_path / "whole" / "metrics.csv")
    )
    for a, b in zip(whole.agents, resumed.agents, strict=True):
        for x, y in zip(a.network.parameters(), b.network.parameters(), strict=True):
            assert torch.equal(x, y)


def test_resume_can_extend_a_finished_run(tmp_path):
    train(PPOConfig(**SMALL, iterations=2), "ppo", tmp_path / "run", False)
    learner = resume(tmp_path / "run" / "checkpoints" / "final.pt", iterations=3, progress=False)
    assert learner.iteration == 3
    assert read_metrics(tmp_path / "run" / "metrics.csv")["iteration"] == [1.0, 2.0, 3.0]
    assert restore_learner(tmp_path / "run" / "checkpoints" / "final.pt").iteration == 3


def test_stop_reward_ends_the_run_at_the_first_iteration_above_it(tmp_path):
    whole = train(PPOConfig(**SMALL, iterations=6), "ppo", tmp_path / "whole", False)
    rows = read_metrics(tmp_path / "whole" / "metrics.csv")
    means = [0.5 * (a + b) for a, b in zip(rows["reward_0"], rows["reward_1"], strict=True)]
    best = max(range(len(means)), key=means.__getitem__)  # first iteration at the maximum
    threshold = means[best] - 1e-6
    stopped = train(
        PPOConfig(**SMALL, iterations=6, stop_reward=threshold), "ppo", tmp_path / "stop", False
    )
    assert stopped.iteration == best + 1 and whole.iteration == 6
    assert restore_learner(tmp_path / "stop" / "checkpoints" / "final.pt").iteration == best + 1
    kept = comparable(read_metrics(tmp_path / "stop" / "metrics.csv"))
    assert kept == {k: v[: best + 1] for k, v in comparable(rows).items()}
    # a threshold no iteration reaches changes nothing
    never = train(PPOConfig(**SMALL, iterations=3, stop_reward=1e6), "ppo", tmp_path / "n", False)
    assert never.iteration == 3


def test_stop_reward_compares_the_learning_seats_and_rejects_non_finite_values():
    learner = PPOLearner(PPOConfig(**SMALL, iterations=1))
    metrics = {"reward_0": 1.0, "reward_1": 3.0}
    assert learned_reward(learner, metrics) == 2.0
    always_defect = scripted_policy("always_defect", "ipd_v0")
    against_fixed = PPOLearner(PPOConfig(**SMALL, iterations=1), opponent=always_defect)
    assert learned_reward(against_fixed, metrics) == 1.0
    with pytest.raises(ValueError, match="stop_reward must be (a )?finite"):
        PPOConfig(**SMALL, stop_reward=float("inf"))


def test_anneal_lr_decays_every_rate_linearly_and_resumes_exactly(tmp_path):
    from agents.algorithms.advantage_alignment import AdvantageAlignmentConfig
    from agents.algorithms.loqa import LOQAConfig, LOQALearner

    config = PPOConfig(**SMALL, iterations=4, anneal_lr=True, lr=0.01, checkpoint_every=2)
    whole = train(config, "ppo", tmp_path / "whole", False)
    assert read_metrics(tmp_path / "whole" / "metrics.csv")["lr_factor"] == [1, 0.75, 0.5, 0.25]
    # the last update ran at lr / 4; the initial rate stays in the optimizer for checkpoints
    group = whole.agents[0].optimizer.param_groups[0]
    assert group["lr"] == pytest.approx(0.0025) and group["initial_lr"] == 0.01
    train(config, "ppo", tmp_path / "cut", False)
    resumed = resume(tmp_path / "cut" / "checkpoints" / "iter_000002.pt", progress=False)
    for a, b in zip(
        whole.agents[0].network.parameters(), resumed.agents[0].network.parameters(), strict=True
    ):
        assert torch.equal(a, b)
    # a separate critic rate and LOQA's second optimizer decay with the actor's
    aa = AdvantageAlignmentConfig(
        env_id="ipd_v0",
        env_kwargs={"max_cycles": 4},
        num_envs=8,
        iterations=2,
        lr=0.01,
        critic_lr=0.1,
        anneal_lr=True,
    )
    learner = train(aa, "aa", tmp_path / "aa", False)
    assert [g["lr"] for g in learner.agents[0].optimizer.param_groups] == pytest.approx(
        [0.005, 0.05]
    )
    loqa = LOQALearner(
        LOQAConfig(
            env_id="ipd_v0",
            env_kwargs={"max_cycles": 4},
            num_envs=8,
            iterations=4,
            lr=0.01,
            critic_lr=0.1,
            anneal_lr=True,
        )
    )
    for _ in range(2):
        loqa.train_iteration()
    assert len(loqa.optimizers()) == 2
    assert [o.param_groups[0]["lr"] for o in loqa.optimizers()] == pytest.approx([0.0075, 0.075])


def test_anneal_lr_start_holds_the_rate_then_decays_to_zero_at_the_end(tmp_path):
    config = PPOConfig(**SMALL, iterations=4, anneal_lr=True, anneal_lr_start=2, lr=0.01)
    learner = train(config, "ppo", tmp_path / "late", False)
    assert read_metrics(tmp_path / "late" / "metrics.csv")["lr_factor"] == [1, 1, 1, 0.5]
    assert learner.agents[0].optimizer.param_groups[0]["lr"] == pytest.approx(0.005)
    for start in (-1, 4):
        with pytest.raises(ValueError, match=r"anneal_lr_start must be in \[0, iterations=4\)"):
            PPOConfig(**SMALL, iterations=4, anneal_lr_start=start)


def test_cli_train_end_to_end(tmp_path, capsys):
    run = tmp_path / "cli"
    code = main(
        [
            "train",
            "--algo",
            "actor_critic",
            "--env",
            "ipd_v0",
            "--num-envs",
            "8",
            "--iterations",
            "3",
            "--env-arg",
            "max_cycles=4",
            "--hidden-sizes",
            "8",
            "8",
            "--encoder",
            "mlp",
            "--self-play",
            "--seed",
            "3",
            "--run-dir",
            str(run),
            "--no-progress",
        ]
    )
    assert code == 0
    assert f"run folder: {run}" in capsys.readouterr().out
    saved = json.loads((run / "config.json").read_text())
    assert saved["algorithm"] == "actor_critic"
    config = saved["config"]
    assert config["hidden_sizes"] == [8, 8] and config["self_play"] and config["seed"] == 3
    assert config["encoder"] == "mlp" and config["env_kwargs"] == {"max_cycles": 4}
    assert config["lr"] == ActorCriticConfig().lr  # untyped options keep the defaults
    policy = load_policy(run / "checkpoints" / "final.pt", seat=1)
    assert policy.network.critic_encoder is None  # shared encoder by default

    code = main(
        [
            "train",
            "--resume",
            str(run / "checkpoints" / "final.pt"),
            "--iterations",
            "4",
            "--no-progress",
        ]
    )
    assert code == 0
    assert read_metrics(run / "metrics.csv")["iteration"] == [1.0, 2.0, 3.0, 4.0]

    # an optional float option: any IPD reward per step is above -100, so it stops at once
    stop = tmp_path / "stop"
    code = main(
        [
            "train",
            "--algo",
            "ppo",
            "--env",
            "ipd_v0",
            "--num-envs",
            "8",
            "--iterations",
            "3",
            "--stop-reward",
            "-100",
            "--run-dir",
            str(stop),
            "--no-progress",
        ]
    )
    assert code == 0 and "stopping at iteration 1" in capsys.readouterr().out
    assert json.loads((stop / "config.json").read_text())["config"]["stop_reward"] == -100.0


def test_cli_summed_rewards_default_and_errors(tmp_path, capsys):
    run = tmp_path / "sr"
    assert (
        main(
            [
                "train",
                "--algo",
                "ppo_summed",
                "--num-envs",
                "4",
                "--iterations",
                "1",
                "--num-minibatches",
                "2",
                "--env-arg",
                "max_cycles=3",
                "--run-dir",
                str(run),
                "--no-progress",
            ]
        )
        == 0
    )
    assert json.loads((run / "config.json").read_text())["config"]["reward_sharing"] is True

    assert (
        main(
            [
                "train",
                "--resume",
                str(run / "checkpoints" / "final.pt"),
                "--lr",
                "0.1",
                "--no-progress",
            ]
        )
        == 2
    )
    assert "cannot change ['lr'] with --resume" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # actor_critic has no clip: not an option of it
        main(["train", "--algo", "actor_critic", "--clip-coef", "0.1", "--no-progress"])
    assert "unrecognized arguments: --clip-coef 0.1" in capsys.readouterr().err
    assert main(["train", "--gamma", "2", "--no-progress", "--run-dir", str(tmp_path / "y")]) == 2
    assert "gamma must be in [0, 1]" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "missing.pt"), "--no-progress"]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--env-kwargs", '{"max_cycles": 4}'])
    assert "unrecognized arguments: --env-kwargs" in capsys.readouterr().err
    assert main(["train", "--env-arg", "max_cycles", "--no-progress"]) == 2
    assert "--env-arg expects KEY=VALUE" in capsys.readouterr().err


def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_cli_help_comes_from_the_config_docstrings(capsys):
    out = _help(capsys, "train", "--algo", "ppo")
    assert "--gae-lambda" in out and "GAE lambda (1: Monte-Carlo advantages" in out
    assert "--clip-coef CLIP_COEF" in out and "(default: 0.2)" in out
    assert "--self-play, --no-self-play" in out
    assert "--stop-reward STOP_REWARD" in out and "(default: None)" in out


def test_train_help_shows_the_shared_options_and_lists_algorithms_and_presets(capsys):
    from agents.algorithms import ALGORITHMS, PRESETS

    out = _help(capsys, "train")
    assert "--iterations ITERATIONS" in out and "--env ENV_ID" in out
    assert "--clip-coef" not in out and "--aa-beta" not in out  # one algorithm's own options
    for name in [*ALGORITHMS, *PRESETS]:
        assert f" {name}" in out
    assert "--env-kwargs" not in out  # one way to give the env's arguments: --env-arg


def test_one_algorithms_help_holds_no_other_algorithms_options(capsys):
    import dataclasses

    from agents.algorithms import ALGORITHMS
    from agents.config_cli import option_name

    def options(name):
        return {option_name(f.name) for f in dataclasses.fields(ALGORITHMS[name].config_class)}

    for name in ("aa", "loqa", "actor_critic"):
        out = _help(capsys, "train", "--algo", name)
        others = set().union(*(options(o) for o in ALGORITHMS if o != name)) - options(name)
        assert others, name
        shown = {word.rstrip(",") for word in out.split() if word.startswith("--")}
        assert not shown & others, (name, shown & others)
        assert options(name) - {"--env-kwargs", "--env-id"} <= shown
    # a preset's algorithm counts as chosen
    assert "--aa-beta" in _help(capsys, "train", "--preset", "aa_ipd")


def test_documented_command_lines_parse():
    """Every ``socialdilemmas train`` line of the docs page uses options that exist."""
    import shlex
    from pathlib import Path

    from agents.cli import build_parser

    page = Path(__file__).resolve().parents[2] / "docs" / "train-the-baselines.md"
    lines = [
        line.strip()
        for line in page.read_text().splitlines()
        if line.strip().startswith("socialdilemmas train")
    ]
    assert len(lines) >= 5
    for line in lines:
        argv = shlex.split(line)[1:]
        args = build_parser(argv).parse_args(argv)
        assert args.command == "train"


def test_a_run_against_a_fixed_opponent_resumes_with_it(tmp_path):
    from agents.checkpoint import CheckpointError
    from agents.scripted import scripted_policy

    config = PPOConfig(**SMALL, iterations=4, checkpoint_every=2)
    whole = train(
        config, "ppo", tmp_path / "whole", False, opponent=scripted_policy("tit_for_tat", "ipd_v0")
    )
    train(config, "ppo", tmp_path / "cut", False, opponent=scripted_policy("tit_for_tat", "ipd_v0"))
    checkpoint = tmp_path / "cut" / "checkpoints" / "iter_000002.pt"
    with pytest.raises(CheckpointError, match=r"seats \[\[0\]\]"):
        resume(checkpoint, progress=False)  # forgot the opponent
    resumed = resume(checkpoint, progress=False, opponent=scripted_policy("tit_for_tat", "ipd_v0"))
    assert comparable(read_metrics(tmp_path / "cut" / "metrics.csv")) == comparable(
        read_metrics(tmp_path / "whole" / "metrics.csv")
    )
    for x, y in zip(
        whole.agents[0].network.parameters(), resumed.agents[0].network.parameters(), strict=True
    ):
        assert torch.equal(x, y)
    assert load_policy(checkpoint, seat=0).name == "iter_000002"  # one learner: no seat
    with pytest.raises(CheckpointError, match="no agent for seat 1"):
        load_policy(checkpoint, seat=1)


def test_cli_train_against_a_fixed_opponent_and_resume_with_it(tmp_path, capsys):
    run = tmp_path / "vs_tft"
    common = ["--no-progress"]
    code = main(
        [
            "train",
            "--algo",
            "actor_critic",
            "--env",
            "ipd_v0",
            "--num-envs",
            "8",
            "--iterations",
            "2",
            "--env-arg",
            "max_cycles=4",
            "--encoder",
            "mlp",
            "--opponent",
            "tit_for_tat",
            "--run-dir",
            str(run),
            *common,
        ]
    )
    assert code == 0
    final = run / "checkpoints" / "final.pt"
    with pytest.raises(Exception, match="seat 1"):
        load_policy(final, seat=1)  # only seat 0 learned
    assert main(["train", "--resume", str(final), "--iterations", "3", *common]) == 2
    assert "resumes only with an opponent" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "--resume",
                str(final),
                "--iterations",
                "3",
                "--opponent",
                "tit_for_tat",
                *common,
            ]
        )
        == 0
    )
    assert read_metrics(run / "metrics.csv")["iteration"] == [1.0, 2.0, 3.0]
    assert (
        main(
            [
                "train",
                "--env",
                "ipd_v0",
                "--opponent",
                "grandmaster",
                "--run-dir",
                str(tmp_path / "bad"),
                *common,
            ]
        )
        == 2
    )
    assert "grandmaster" in capsys.readouterr().err


def test_cli_train_env_arg_merges_into_env_kwargs(tmp_path):
    run = tmp_path / "env_arg"
    assert (
        main(
            [
                "train",
                "--algo",
                "actor_critic",
                "--env",
                "matrix_game_v0",
                "--num-envs",
                "4",
                "--iterations",
                "1",
                "--encoder",
                "mlp",
                "--env-arg",
                "max_cycles=3",
                "--env-arg",
                "payoffs=stag_hunt",
                "--run-dir",
                str(run),
                "--no-progress",
            ]
        )
        == 0
    )
    config = json.loads((run / "config.json").read_text())["config"]
    assert config["env_kwargs"] == {"max_cycles": 3, "payoffs": "stag_hunt"}
