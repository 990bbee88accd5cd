"""The config fields every learner has; the command line is generated from config dataclasses.

Each algorithm's config subclasses :class:`LearnerConfig` and adds its own fields, each with a
one-line docstring (which becomes its ``--help`` text). A config validates itself on
construction and round-trips through :meth:`LearnerConfig.to_dict` /
:meth:`LearnerConfig.from_dict` (what ``config.json`` and checkpoints hold).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from agents.devices import check_device_name
from agents.validation import check_config_fields
from socialdilemmas.registration import canonical_id


@dataclass
class LearnerConfig:
    """Settings every learner shares: the game, the batch, the budget, seeding, checkpoints."""

    #: fields an earlier version of this config had and :meth:`from_dict` ignores (saved
    #: values of them were never used), so older checkpoints still load
    retired_fields: ClassVar[tuple[str, ...]] = ()

    env_id: str = "ipd_v0"
    """registered env to train on (``socialdilemmas.env_ids()``)"""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """the env's own arguments, e.g. {"max_cycles": 50} (JSON on the command line)"""
    num_envs: int = 256
    """games per batch; one iteration plays one whole episode in each"""
    iterations: int = 200
    """training iterations (batches) in the run"""
    seed: int = 0
    """seeds network initialisation, the envs and every sampling decision"""
    self_play: bool = False
    """one network plays both seats; otherwise two independent learners"""
    reward_sharing: bool = False
    """each seat is trained on the sum of both seats' rewards (the summed-rewards baseline)"""
    lr: float = 3e-3
    """Adam learning rate"""
    anneal_lr: bool = False
    """decay every learning rate linearly from its initial value towards 0 over the run's
    iterations (CleanRL's PPO default); the schedule follows ``iterations``"""
    anneal_lr_start: int = 0
    """with ``anneal_lr``, the iteration the decay starts from: the rates stay at their initial
    values until then and reach 0 at ``iterations``"""
    gamma: float = 0.96
    """discount factor"""
    ent_coef: float = 0.01
    """weight of the entropy bonus"""
    max_grad_norm: float = 1.0
    """clip the gradient to this global norm (0 disables)"""
    target_tau: float = 1.0
    """Polyak rate of the target critic (1: no target network)"""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """dense layer widths (before the GRU when the network has one)"""
    gru_size: int = 64
    """GRU state width"""
    torch_threads: int = 1
    """torch intra-op threads (1 is fastest for these small networks)"""
    device: str = "cpu"
    """torch device of the networks and the update: cpu, cuda, cuda:1, ... or auto (CUDA when
    available); the environments always run on the CPU"""
    checkpoint_every: int = 50
    """save a checkpoint every this many iterations (0: only the final one)"""
    stop_reward: float | None = None
    """end the run early, after the first iteration whose mean reward per step (over both
    seats; seat 0 against a fixed opponent) exceeds this (the Advantage Alignment reference
    stops its Negotiation runs at 0.4); None: run every iteration"""

    def __post_init__(self) -> None:
        check_config_fields(self)  # NaN/inf numbers, layer widths < 1, seeds beyond 64 bits
        self.hidden_sizes = tuple(int(size) for size in self.hidden_sizes)
        self.env_kwargs = dict(self.env_kwargs)
        self.env_id = canonical_id(self.env_id)
        for name in ("num_envs", "iterations", "gru_size", "torch_threads"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.stop_reward is not None:
            self.stop_reward = float(self.stop_reward)
            if not math.isfinite(self.stop_reward):
                raise ValueError(f"stop_reward must be finite or None, got {self.stop_reward}")
        if self.checkpoint_every < 0:
            raise ValueError(f"checkpoint_every must be >= 0, got {self.checkpoint_every}")
        if not 0 <= self.anneal_lr_start < self.iterations:
            raise ValueError(
                f"anneal_lr_start must be in [0, iterations={self.iterations}), got "
                f"{self.anneal_lr_start}"
            )
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")
        if not 0.0 < self.target_tau <= 1.0:
            raise ValueError(f"target_tau must be in (0, 1], got {self.target_tau}")
        check_device_name(self.device)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready field values."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LearnerConfig:
        """Rebuild a config from :meth:`to_dict`, rejecting unknown fields by name."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known - set(cls.retired_fields))
        if unknown:
            raise ValueError(f"{cls.__name__} has no field(s) {unknown}")
        return cls(**{name: value for name, value in values.items() if name in known})


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


__all__ = ["LearnerConfig"]
