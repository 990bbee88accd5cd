"""The device setting: names, resolution, and no tensor of an update made on an unnamed device.

There is no GPU on the test machines, so the device path runs on the CPU here. What would break
on a GPU is a tensor created on the default device (the CPU) inside the update and then mixed
with the learner's tensors: :class:`FactoryAudit` records every tensor factory called from the
learners' code during an update and the test requires each to name its device (or to be a draw
from a seeded CPU generator, moved to the device by design).
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import torch
from torch.overrides import TorchFunctionMode

import agents
from agents.algorithms import get_algorithm
from agents.checkpoint import load_policy, restore_learner, save_checkpoint
from agents.devices import resolve_device
from agents.training import train

AGENTS_DIR = Path(agents.__file__).resolve().parent

FACTORIES = {
    torch.zeros,
    torch.ones,
    torch.full,
    torch.empty,
    torch.arange,
    torch.rand,
    torch.randn,
    torch.randint,
    torch.randperm,
    torch.tensor,
    torch.as_tensor,
    torch.eye,
    torch.linspace,
}


class FactoryAudit(TorchFunctionMode):
    """Records tensor factories called from ``agents/`` without ``device=`` or ``generator=``."""

    def __init__(self) -> None:
        super().__init__()
        self.unnamed: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in FACTORIES and "device" not in kwargs and "generator" not in kwargs:
            caller = inspect.stack()[1]
            if Path(caller.filename).resolve().is_relative_to(AGENTS_DIR):
                self.unnamed.append(f"{Path(caller.filename).name}:{caller.lineno} {func.__name__}")
        return func(*args, **kwargs)


SMALL = {
    "env_kwargs": {"max_cycles": 4},
    "num_envs": 6,
    "iterations": 2,
    "hidden_sizes": (8,),
    "gru_size": 8,
}

LEARNERS = {
    "ppo": ("ppo", dict(SMALL, num_minibatches=2)),
    "aa_replay": ("aa", dict(SMALL, self_play=True, replay_fraction=0.5, replay_push_every=1)),
    "aa_trajectory_replay": (
        "aa",
        dict(SMALL, self_play=True, trajectory_replay_fraction=0.3, trajectory_replay_push=3),
    ),
    "paa_reference_loop": (
        "paa",
        dict(
            SMALL,
            self_play=True,
            separate_critic_optimizer=True,
            seat_by_seat=True,
            bootstrap_truncation=True,
            critic_target="gae",
            num_minibatches=2,
        ),
    ),
    "loqa": (
        "loqa",
        dict(
            SMALL,
            env_id="coin_game_v0",
            critic_hidden_sizes=(8,),
            critic_gru_size=8,
            buffer_push_every=1,
            snapshots_per_batch=2,
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(LEARNERS))
def test_updates_and_acting_name_the_device_of_every_tensor_they_make(case):
    algo, values = LEARNERS[case]
    config_class, learner_class = get_algorithm(algo)
    learner = learner_class(config_class(**values, device="cpu"))
    assert learner.device == torch.device("cpu")
    learner.train_iteration()  # fills the buffers
    trajectory = learner.collect()
    policy = learner.policies()[0]
    policy.reset(3, seed=0)
    audit = FactoryAudit()
    with audit:
        learner.update(trajectory)
        policy.act_with_log_probs(
            trajectory.observations[0, :3, 0].numpy(), trajectory.episode_starts[0, :3].numpy()
        )
    assert audit.unnamed == [], "\n".join(sorted(set(audit.unnamed)))


def test_device_names_are_checked_and_auto_resolves():
    config_class, learner_class = get_algorithm("ppo")
    assert resolve_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="'gpu0' is not a torch device"):
        config_class(device="gpu0")
    if not torch.cuda.is_available():
        # a config saved on a GPU machine still loads (to continue on the CPU, say so)...
        config = config_class(device="cuda", **dict(SMALL, num_minibatches=2))
        # ...but a learner cannot be built on a device the machine lacks
        with pytest.raises(ValueError, match="CUDA, which this machine does not have"):
            learner_class(config)


def test_a_run_moves_between_devices_through_its_checkpoint(tmp_path):
    config_class, _ = get_algorithm("ppo")
    config = config_class(**dict(SMALL, num_minibatches=2, iterations=2), device="auto")
    learner = train(config, "ppo", tmp_path / "run", False)
    checkpoint = tmp_path / "run" / "checkpoints" / "final.pt"
    restored = restore_learner(checkpoint, device="cpu")
    assert restored.device == torch.device("cpu")
    for a, b in zip(
        learner.agents[0].network.parameters(), restored.agents[0].network.parameters(), strict=True
    ):
        assert torch.equal(a.detach().cpu(), b.detach())
    save_checkpoint(restored, tmp_path / "again.pt")
    policy = load_policy(tmp_path / "again.pt", device="auto")
    assert policy.device == resolve_device("auto")
