"""The trajectory replay buffer: past games mixed into the update batch (off-policy data).

Advantage Alignment's reference (``eg:train.py``, ``ReplayBuffer`` with ``off_policy_ratio``;
``eg:configs/eg_cont.yaml`` uses size 1e5, update size 500, ratio 0.05) keeps a FIFO store of
whole games. Before each update a share of the fresh batch is replaced by games drawn uniformly
from the store; after it a few fresh games are added. The replayed games keep the
log-probabilities of the policy that played them, so a proximal learner's ratio
``pi / pi_behaviour`` corrects (and clips) for their age; the critics and advantages are
recomputed on them as on fresh games.

Not to be confused with :class:`agents.shaping.AgentReplayBuffer`, which keeps past *parameters*
to play against.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from agents.rollout import GAME_AXES, Trajectory


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
        slots = (self._next + torch.arange(count - first)) % self.capacity
        for name, axis in GAME_AXES.items():
            new = getattr(trajectory, name).narrow(axis, first, count - first)
            self._store[name].index_copy_(axis, slots, new)
        self._next = int((self._next + count - first) % self.capacity)
        self.num_pushed += count

    def sample(self, n: int, generator: torch.Generator | None = None) -> Trajectory:
        """``n`` games drawn uniformly with replacement, as a :class:`Trajectory`."""
        if self._store is None or len(self) == 0:
            raise RuntimeError("the trajectory replay buffer is empty: push games first")
        index = torch.randint(0, len(self), (int(n),), generator=generator)
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
            store = torch.empty(
                _with_games(saved.shape, axis, self.capacity), dtype=saved.dtype
            )
            store.narrow(axis, 0, len(self)).copy_(saved)
            self._store[name] = store


def _with_games(shape: torch.Size | tuple[int, ...], axis: int, games: int) -> tuple[int, ...]:
    out = list(shape)
    out[axis] = games
    return tuple(out)


__all__ = ["TrajectoryReplayBuffer"]
