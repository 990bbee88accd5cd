"""The trajectory replay buffer, the trajectory game helpers it uses, and its place in AA/PAA."""

from __future__ import annotations

import pytest
import torch

from agents.algorithms.advantage_alignment import (
    AdvantageAlignmentConfig,
    ProximalAdvantageAlignmentConfig,
    ProximalAdvantageAlignmentLearner,
)
from agents.algorithms.core.replay import TrajectoryReplayBuffer
from agents.rollout import Trajectory, concat_games
from agents.training import read_metrics, resume, train

torch.set_num_threads(1)

SMALL = {
    "env_id": "ipd_v0",
    "env_kwargs": {"max_cycles": 5},
    "num_envs": 8,
    "hidden_sizes": (8,),
    "gru_size": 8,
    "iterations": 3,
    "self_play": True,
}


def games(labels, steps=3, obs=2):
    """A trajectory whose game ``b`` carries ``labels[b]`` in every field that holds numbers."""
    label = torch.tensor(labels, dtype=torch.float32)
    b = len(labels)
    return Trajectory(
        observations=label.view(1, b, 1, 1).expand(steps, b, 2, obs).clone(),
        actions=label.long().view(1, b, 1).expand(steps, b, 2).clone(),
        log_probs=-label.view(1, b, 1).expand(steps, b, 2).clone(),
        rewards=label.view(1, b, 1).expand(steps, b, 2).clone(),
        episode_starts=torch.arange(steps).view(steps, 1).expand(steps, b) == 0,
        dones=torch.arange(steps).view(steps, 1).expand(steps, b) == steps - 1,
        next_observations=label.view(b, 1, 1).expand(b, 2, obs).clone(),
        info={"tag": label.view(1, b).expand(steps, b).clone()},
    )


def labels_of(trajectory):
    return trajectory.rewards[0, :, 0].long().tolist()


def test_games_selects_and_concat_games_joins():
    t = games([0, 1, 2, 3])
    picked = t.games(torch.tensor([3, 1]))
    assert labels_of(picked) == [3, 1]
    assert picked.next_observations[:, 0, 0].tolist() == [3.0, 1.0]
    assert picked.info["tag"][0].tolist() == [3.0, 1.0]
    joined = concat_games([t.games(torch.tensor([0])), picked])
    assert labels_of(joined) == [0, 3, 1] and joined.info["tag"].shape == (3, 3)
    assert torch.equal(concat_games([t]).observations, t.observations)
    with pytest.raises(ValueError, match="different lengths"):
        concat_games([t, games([5], steps=4)])
    with pytest.raises(ValueError, match="at least one"):
        concat_games([])


def test_buffer_is_fifo_and_samples_only_stored_games():
    buffer = TrajectoryReplayBuffer(capacity=3)
    with pytest.raises(RuntimeError, match="empty"):
        buffer.sample(1)
    buffer.push(games([1, 2]))
    assert len(buffer) == 2
    buffer.push(games([3, 4]))  # overwrites the oldest game (1)
    assert len(buffer) == 3 and buffer.num_pushed == 4
    drawn = buffer.sample(200, torch.Generator().manual_seed(0))
    assert set(labels_of(drawn)) == {2, 3, 4}
    assert drawn.info == {} and drawn.num_steps == 3
    # every field of a drawn game comes from the same stored game
    assert torch.equal(drawn.observations[0, :, 0, 0], drawn.rewards[0, :, 0])
    assert torch.equal(-drawn.log_probs[0, :, 1], drawn.rewards[0, :, 1])
    assert torch.equal(drawn.next_observations[:, 1, 0], drawn.rewards[0, :, 0])
    buffer.push(games([5, 6, 7, 8]))  # more than the capacity: the newest three stay
    assert set(labels_of(buffer.sample(200))) == {6, 7, 8}


def test_buffer_rejects_mismatched_games_and_bad_state():
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        TrajectoryReplayBuffer(0)
    buffer = TrajectoryReplayBuffer(4)
    buffer.push(games([1]))
    with pytest.raises(ValueError, match="observations are"):
        buffer.push(games([2], obs=3))
    with pytest.raises(ValueError, match="observations are"):
        buffer.push(games([2], steps=4))
    other = TrajectoryReplayBuffer(5)
    with pytest.raises(ValueError, match="holds 4 games"):
        other.load_state_dict(buffer.state_dict())
    state = buffer.state_dict()
    del state["games"]["rewards"]
    with pytest.raises(ValueError, match="lacks"):
        TrajectoryReplayBuffer(4).load_state_dict(state)


def test_buffer_state_round_trip_continues_identically():
    buffer = TrajectoryReplayBuffer(3)
    buffer.push(games([1, 2]))
    restored = TrajectoryReplayBuffer(3)
    restored.load_state_dict(buffer.state_dict())
    for b in (buffer, restored):
        b.push(games([3, 4]))
    draws = [labels_of(b.sample(50, torch.Generator().manual_seed(1))) for b in (buffer, restored)]
    assert draws[0] == draws[1] and set(draws[0]) == {2, 3, 4}
    empty = TrajectoryReplayBuffer(3)
    empty.load_state_dict(TrajectoryReplayBuffer(3).state_dict())
    assert len(empty) == 0


def test_paa_updates_on_replayed_games_with_their_behaviour_log_probs():
    config = ProximalAdvantageAlignmentConfig(
        **SMALL, trajectory_replay_fraction=0.25, trajectory_replay_push=4, lr=0.05
    )
    learner = ProximalAdvantageAlignmentLearner(config)
    assert learner.replayed_game_count() == 2
    first = learner.train_iteration()
    assert first["replayed_games"] == 0  # the buffer was empty before the first update
    assert len(learner.trajectory_replay) == 4
    seen = []
    original = learner.update_agent
    learner.update_agent = lambda agent, batch, gen: (
        seen.append(batch) or original(agent, batch, gen)
    )
    second = learner.train_iteration()
    assert second["replayed_games"] == 2 and len(learner.trajectory_replay) == 8
    batch = seen[0]
    assert batch.actions.shape[1] == 2 * 8  # both seats of 6 fresh and 2 replayed games
    # the replayed games (the last two of each seat) keep the log-probabilities they were
    # played with, which the updated network no longer gives; fresh games are re-evaluated
    stored = learner.trajectory_replay.state_dict()["games"]["log_probs"]
    for seat in (0, 1):
        replayed = batch.old_log_probs[:, seat * 8 + 6 : seat * 8 + 8]
        for column in replayed.T:
            assert any(torch.equal(column, stored[:, g, seat]) for g in range(4))
    network = learner.agents[0].network
    with torch.no_grad():
        dist, _ = network(batch.observations, batch.starts)
        now = dist.log_prob(batch.actions)
    assert not torch.allclose(now[:, 6:8], batch.old_log_probs[:, 6:8])


def test_trajectory_replay_checkpoints_and_resumes_exactly(tmp_path):
    config = AdvantageAlignmentConfig(
        **{**SMALL, "iterations": 4},
        trajectory_replay_fraction=0.25,
        trajectory_replay_push=4,
        trajectory_replay_capacity=6,
        checkpoint_every=2,
    )
    whole = train(config, "aa", tmp_path / "whole", False)
    train(config, "aa", tmp_path / "cut", False)
    resumed = resume(tmp_path / "cut" / "checkpoints" / "iter_000002.pt", progress=False)
    assert len(resumed.trajectory_replay) == 6 == len(whole.trajectory_replay)
    for a, b in zip(
        whole.agents[0].network.parameters(), resumed.agents[0].network.parameters(), strict=True
    ):
        assert torch.equal(a, b)
    metrics = [
        {k: v for k, v in read_metrics(tmp_path / d / "metrics.csv").items() if k != "seconds"}
        for d in ("whole", "cut")
    ]
    assert metrics[0] == metrics[1] and metrics[0]["replayed_games"] == [0.0, 2.0, 2.0, 2.0]


def test_trajectory_replay_config_errors():
    with pytest.raises(ValueError, match=r"trajectory_replay_fraction must be in \[0, 1\)"):
        AdvantageAlignmentConfig(**SMALL, trajectory_replay_fraction=1.0)
    with pytest.raises(ValueError, match="not both"):
        AdvantageAlignmentConfig(**SMALL, trajectory_replay_fraction=0.1, replay_fraction=0.1)
    with pytest.raises(ValueError, match="trajectory_replay_push must be in"):
        AdvantageAlignmentConfig(**SMALL, trajectory_replay_fraction=0.1, trajectory_replay_push=9)
    with pytest.raises(ValueError, match="trajectory_replay_capacity"):
        AdvantageAlignmentConfig(
            **SMALL, trajectory_replay_fraction=0.1, trajectory_replay_capacity=0
        )
