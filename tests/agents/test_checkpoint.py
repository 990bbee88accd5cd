"""Checkpoints: round trip, policies loaded for play, and clear errors for bad files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import socialdilemmas
from agents import rollout
from agents.algorithms.ppo import PPOConfig, PPOLearner
from agents.checkpoint import (
    CheckpointError,
    load_policy,
    read_checkpoint,
    restore_learner,
    save_checkpoint,
)
from agents.policy import Policy


@pytest.fixture(scope="module")
def trained():
    config = PPOConfig(
        env_id="ipd_v0",
        env_kwargs={"max_cycles": 4},
        num_envs=4,
        iterations=2,
        hidden_sizes=(8,),
        gru_size=8,
        num_minibatches=2,
        target_tau=0.5,
    )
    learner = PPOLearner(config)
    learner.train_iteration()
    return learner


@pytest.fixture
def path(trained, tmp_path):
    return save_checkpoint(trained, tmp_path / "ckpt.pt")


def test_round_trip_restores_everything(trained, path):
    restored = restore_learner(path)
    assert type(restored) is PPOLearner and restored.config == trained.config
    assert restored.iteration == trained.iteration == 1
    for a, b in zip(trained.agents, restored.agents, strict=True):
        for x, y in zip(
            a.network.state_dict().values(), b.network.state_dict().values(), strict=True
        ):
            assert torch.equal(x, y)
        for x, y in zip(
            a.target.state_dict().values(), b.target.state_dict().values(), strict=True
        ):
            assert torch.equal(x, y)
        assert a.optimizer.state_dict()["state"].keys() == b.optimizer.state_dict()["state"].keys()
        exp_a = a.optimizer.state_dict()["state"][0]["exp_avg"]
        assert torch.equal(exp_a, b.optimizer.state_dict()["state"][0]["exp_avg"])


def test_loaded_policy_plays_like_the_learner(trained, path):
    env = socialdilemmas.make_vec("ipd_v0", 8, max_cycles=4)
    for seat in (0, 1):
        policy = load_policy(path, seat=seat, env=env)
        assert isinstance(policy, Policy)
        ours = rollout(env, [policy, policy], seed=3)
        theirs = rollout(env, [trained.agents[seat].policy] * 2, seed=3)
        assert torch.equal(ours.actions, theirs.actions)
        torch.testing.assert_close(ours.log_probs, theirs.log_probs)
    greedy = load_policy(path, deterministic=True)
    assert greedy.deterministic and greedy.name == "ckpt (seat 0)"  # two learners: seat named


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(tmp_path / "nothing.pt")


def test_truncated_file(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_policy(path)


def test_garbage_file(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"this is not a checkpoint at all")
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        restore_learner(bad)


def test_other_torch_file(tmp_path):
    other = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(3)}, other)
    with pytest.raises(CheckpointError, match="not a socialdilemmas checkpoint"):
        read_checkpoint(other)


def tampered(path, edit):
    payload = torch.load(path, weights_only=True)
    edit(payload)
    torch.save(payload, path)
    return path


def test_newer_format_version(path):
    tampered(path, lambda p: p.update(format_version=99))
    with pytest.raises(CheckpointError, match="format version 99"):
        read_checkpoint(path)


def test_unknown_algorithm(path):
    tampered(path, lambda p: p.update(algorithm="lola"))
    with pytest.raises(CheckpointError, match="'lola', which is not registered"):
        restore_learner(path)


def test_wrong_algorithm_requested(path):
    with pytest.raises(CheckpointError, match="written by algorithm 'ppo', not 'actor_critic'"):
        restore_learner(path, algorithm="actor_critic")


def test_spaces_that_do_not_match_the_game(path):
    tampered(path, lambda p: p["spaces"]["action"].update(n=3))
    with pytest.raises(CheckpointError, match="action space"):
        restore_learner(path)


def test_policy_for_another_game(path):
    with pytest.raises(CheckpointError, match="observation space"):
        load_policy(path, env=socialdilemmas.make_vec("negotiation_v0", 2))


def test_weights_that_do_not_fit_the_config(path):
    tampered(path, lambda p: p["config"].update(hidden_sizes=[16]))
    with pytest.raises(CheckpointError, match="does not match"):
        restore_learner(path)
    with pytest.raises(CheckpointError, match="does not match"):
        load_policy(path)


def test_invalid_config(path):
    tampered(path, lambda p: p["config"].update(no_such_field=1))
    with pytest.raises(CheckpointError, match="invalid config"):
        restore_learner(path)


def test_save_is_atomic(trained, tmp_path):
    target = tmp_path / "sub" / "final.pt"
    save_checkpoint(trained, target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["final.pt"]
    assert np.isfinite(read_checkpoint(target)["learner"]["iteration"])
