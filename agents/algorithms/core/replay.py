"""The replay buffers: past parameters to play against, and past games to learn from.

Both are FIFO stores of at most ``capacity`` items (the oldest dropped), sampled uniformly with
replacement from a seeded generator, and saved whole in checkpoints so a resumed run draws what
an uninterrupted one would.

* :class:`AgentReplayBuffer` keeps past parameter snapshots of an agent. LOQA
  (``push_to_rb`` / ``sample_agent_params`` in ``MiladInk/loqa@32f50c9``) pits every episode of
  a batch against a uniformly sampled past self; Advantage Alignment's ``AgentReplayBuffer``
  (``jduquevan/advantage-alignment``) does the same for a fraction of the episodes. Which games
  a snapshot plays is :mod:`agents.algorithms.core.snapshots`' business.
* :class:`TrajectoryReplayBuffer` keeps whole past games. Advantage Alignment's reference
  (``eg:train.py``, ``ReplayBuffer`` with ``off_policy_ratio``; ``eg:configs/eg_cont.yaml``
  uses size 1e5, update size 500, ratio 0.05) replaces a share of each update batch by games
  drawn from it and then adds a few fresh ones. The replayed games keep the log-probabilities
  of the policy that played them, so a proximal learner's ratio ``pi / pi_behaviour`` corrects
  (and clips) for their age; critics and advantages are recomputed on them as on fresh games.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.rollout import GAME_AXES, Trajectory


def _uniform_indices(
    n: int, size: int, generator: torch.Generator | np.random.Generator | None
) -> torch.Tensor:
    """``n`` uniform indices in ``[0, size)`` with replacement, as an int64 tensor."""
    if isinstance(generator, np.random.Generator):
        return torch.from_numpy(generator.integers(0, size, size=n).astype(np.int64))
    return torch.randint(0, size, (int(n),), generator=generator)


class AgentReplayBuffer:
    """A FIFO buffer of past parameter snapshots of an agent, sampled uniformly.

    LOQA pushes a snapshot every ``update_freq`` iterations (every 10, capacity 10000).
    Snapshots are detached CPU clones of a ``state_dict`` (cheap for the small actors used
    here); when full, the oldest is dropped. Sampling is with replacement and reproducible given
    a ``torch.Generator`` or ``numpy.random.Generator``.

    Args:
        capacity: most snapshots kept.
        push_every: :meth:`maybe_push` pushes on iterations divisible by this.

    """

    def __init__(self, capacity: int, push_every: int = 1) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        if push_every < 1:
            raise ValueError(f"push_every must be at least 1, got {push_every}")
        self.capacity = int(capacity)
        self.push_every = int(push_every)
        self._snapshots: list[dict[str, torch.Tensor]] = []
        self._next = 0  # slot the next push overwrites once full
        self.num_pushed = 0

    def __len__(self) -> int:
        return len(self._snapshots)

    def push(self, state: nn.Module | Mapping[str, torch.Tensor]) -> None:
        """Store a detached CPU copy of ``state`` (a module or its ``state_dict``)."""
        state_dict = state.state_dict() if isinstance(state, nn.Module) else state
        snapshot = {
            name: (
                value.detach().to("cpu", copy=True)
                if isinstance(value, torch.Tensor)
                else copy.deepcopy(value)
            )
            for name, value in state_dict.items()
        }
        if len(self._snapshots) < self.capacity:
            self._snapshots.append(snapshot)
        else:
            self._snapshots[self._next] = snapshot
            self._next = (self._next + 1) % self.capacity
        self.num_pushed += 1

    def maybe_push(self, state: nn.Module | Mapping[str, torch.Tensor], iteration: int) -> bool:
        """Push on iterations ``0, push_every, 2 * push_every, ...``; return whether it did."""
        if iteration % self.push_every != 0:
            return False
        self.push(state)
        return True

    def _ordered(self) -> list[dict[str, torch.Tensor]]:
        """Snapshots oldest first."""
        return self._snapshots[self._next :] + self._snapshots[: self._next]

    def get(self, index: int) -> dict[str, torch.Tensor]:
        """Snapshot ``index``, counted from the oldest kept (0) to the newest (``len - 1``)."""
        return self._ordered()[index]

    def sample_indices(
        self, n: int, generator: torch.Generator | np.random.Generator | None = None
    ) -> torch.Tensor:
        """``n`` uniform indices (with replacement) into :meth:`get`, as an int64 tensor."""
        if not self._snapshots:
            raise RuntimeError("the agent replay buffer is empty: push a snapshot first")
        return _uniform_indices(n, len(self._snapshots), generator)

    def sample(
        self, n: int, generator: torch.Generator | np.random.Generator | None = None
    ) -> list[dict[str, torch.Tensor]]:
        """``n`` snapshots drawn uniformly with replacement (one per episode, say)."""
        ordered = self._ordered()
        return [ordered[i] for i in self.sample_indices(n, generator).tolist()]

    def state_dict(self) -> dict:
        """Everything needed to restore the buffer (for checkpoints), oldest snapshot first."""
        return {
            "capacity": self.capacity,
            "push_every": self.push_every,
            "num_pushed": self.num_pushed,
            "snapshots": self._ordered(),
        }

    def load_state_dict(self, state: Mapping) -> None:
        """Restore from :meth:`state_dict`."""
        self.capacity = int(state["capacity"])
        self.push_every = int(state["push_every"])
        self.num_pushed = int(state["num_pushed"])
        self._snapshots = list(state["snapshots"])[-self.capacity :]
        self._next = 0


class TrajectoryReplayBuffer:
    """A FIFO store of up to ``capacity`` whole games, sampled uniformly with replacement.

    Storage is allocated on the first push, shaped like the games pushed; later pushes must
    match (same episode length, observation and action shapes). ``info`` is not kept.

    Args:
        capacity: most games kept; when full, each push overwrites the oldest.

    """

    def __init__(self, capacity: int) -> None:
        if int(capacity) < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = int(capacity)
        self._store: dict[str, torch.Tensor] | None = None
        self._next = 0  # slot the next game goes to
        self.num_pushed = 0

    def __len__(self) -> int:
        return min(self.num_pushed, self.capacity)

    def push(self, trajectory: Trajectory) -> None:
        """Store every game of ``trajectory`` (copies), dropping the oldest beyond capacity."""
        if self._store is None:
            self._store = {
                name: torch.empty(
                    _with_games(getattr(trajectory, name).shape, axis, self.capacity),
                    dtype=getattr(trajectory, name).dtype,
                )
                for name, axis in GAME_AXES.items()
            }
        for name, axis in GAME_AXES.items():
            stored, new = self._store[name], getattr(trajectory, name)
            expected = _with_games(stored.shape, axis, new.shape[axis])
            if tuple(new.shape) != expected or new.dtype != stored.dtype:
                raise ValueError(
                    f"cannot push games whose {name} are {tuple(new.shape)} {new.dtype} into a "
                    f"buffer of {tuple(stored.shape)} {stored.dtype} (games on axis {axis})"
                )
        count = trajectory.num_envs
        # the newest `capacity` games land in consecutive slots after the last one written
        first = max(0, count - self.capacity)
        store_device = next(iter(self._store.values())).device
        slots = (self._next + torch.arange(count - first, device=store_device)) % self.capacity
        for name, axis in GAME_AXES.items():
            new = getattr(trajectory, name).narrow(axis, first, count - first)
            self._store[name].index_copy_(axis, slots, new)
        self._next = int((self._next + count - first) % self.capacity)
        self.num_pushed += count

    def sample(self, n: int, generator: torch.Generator | None = None) -> Trajectory:
        """``n`` games drawn uniformly with replacement, as a :class:`Trajectory`."""
        if self._store is None or len(self) == 0:
            raise RuntimeError("the trajectory replay buffer is empty: push games first")
        index = _uniform_indices(n, len(self), generator)
        # slot order is irrelevant to a uniform draw: the first len(self) slots are filled
        return Trajectory(
            **{
                name: self._store[name].index_select(axis, index)
                for name, axis in GAME_AXES.items()
            }
        )

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to restore the buffer (for checkpoints)."""
        filled = None
        if self._store is not None:
            filled = {
                name: self._store[name].narrow(axis, 0, len(self)).clone()
                for name, axis in GAME_AXES.items()
            }
        return {
            "capacity": self.capacity,
            "num_pushed": self.num_pushed,
            "next": self._next,
            "games": filled,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (a buffer built with the same capacity)."""
        if int(state["capacity"]) != self.capacity:
            raise ValueError(
                f"saved trajectory replay buffer holds {state['capacity']} games, this one "
                f"{self.capacity}"
            )
        games = state["games"]
        self.num_pushed = int(state["num_pushed"])
        self._next = int(state["next"])
        if games is None:
            self._store = None
            return
        missing = sorted(set(GAME_AXES) - set(games))
        if missing:
            raise ValueError(f"saved trajectory replay buffer lacks {missing}")
        self._store = {}
        for name, axis in GAME_AXES.items():
            saved = games[name]
            if saved.shape[axis] != len(self):
                raise ValueError(
                    f"saved trajectory replay buffer has {saved.shape[axis]} games of {name}, "
                    f"expected {len(self)}"
                )
            store = torch.empty(_with_games(saved.shape, axis, self.capacity), dtype=saved.dtype)
            store.narrow(axis, 0, len(self)).copy_(saved)
            self._store[name] = store


def _with_games(shape: torch.Size | tuple[int, ...], axis: int, games: int) -> tuple[int, ...]:
    out = list(shape)
    out[axis] = games
    return tuple(out)


__all__ = ["AgentReplayBuffer", "TrajectoryReplayBuffer"]
