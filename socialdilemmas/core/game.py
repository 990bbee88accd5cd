"""The batched-game protocol: the one place a game's rules meet the generic layers.

A :class:`BatchedGame` holds a game's parameters and its single-agent spaces, and steps a batch
of independent copies whose state lives in plain NumPy arrays:

* ``state``: ``(n, width)`` int64, column 0 the step count of the current episode, the other
  columns game-specific (positions, last joint action, ...);
* ``rng``: ``(n, 2)`` uint64 counter-based random streams (see :mod:`socialdilemmas._rng`);
* :class:`StepBuffers`: the arrays the kernels write (observations, rewards, ends, info).

The vector env is a batch of ``num_envs``; the PettingZoo env is a batch of one over the very
same kernels, so the rules exist once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from socialdilemmas.core.strategy import Strategy

AGENTS: tuple[str, str] = ("player_0", "player_1")
_MAX_INT64 = np.iinfo(np.int64).max

#: metric name -> (numerator, denominator), each a float64 array of shape (2,) indexed by seat
MetricCounts = dict[str, tuple[np.ndarray, np.ndarray]]


@dataclass
class StepBuffers:
    """Arrays the kernels write on every reset and step, for a batch of ``n`` games.

    Attributes:
        observations: ``(n, 2, *obs_shape)`` float32, seat ``k`` sees the game from its own side.
        rewards: ``(n, 2)`` float64 rewards of the last step.
        truncated: ``(n,)`` bool, True where the last step ended the episode (time limit).
        final_observations: ``(n, 2, *obs_shape)`` float32 last observations of the episodes
            that just ended; valid only where ``truncated`` is True (the vector env auto-resets
            and returns the next episode's first observation in ``observations``).
        info: game-specific ``(n, ...)`` arrays about the last step, e.g. coin pickups.
    """

    observations: np.ndarray
    rewards: np.ndarray
    truncated: np.ndarray
    final_observations: np.ndarray
    info: dict[str, np.ndarray]


class BatchedGame(ABC):
    """Rules and parameters of a two-player game over a batch of independent copies.

    Subclasses set the spaces and ``info_fields`` in ``__init__`` and implement the kernel calls.
    Nothing here loops over games in Python: each method is one call into a Numba kernel.

    Besides the rules, a game says what the literature measures in it and whom it is measured
    against: :meth:`metric_counts` and :attr:`headline_metric` (the evaluation metrics, one of
    them shown in training logs), and :meth:`strategies` (its scripted reference players).
    Evaluation, training logs and ``scripted_policy`` read them from here, so a new game brings
    its own.
    """

    agents: ClassVar[tuple[str, str]] = AGENTS
    #: the :meth:`metric_counts` entry training logs and progress bars show (None: rewards only)
    headline_metric: ClassVar[str | None] = None
    #: columns of the int64 state array (column 0 is always the step count)
    state_width: ClassVar[int]
    observation_space: spaces.Space
    action_space: spaces.Space
    #: per-env info arrays: name -> (trailing shape, dtype)
    info_fields: dict[str, tuple[tuple[int, ...], Any]]

    # ---- allocation -------------------------------------------------------------------------
    def allocate(self, num_envs: int) -> tuple[np.ndarray, np.ndarray, StepBuffers]:
        """Return zeroed ``(state, rng, buffers)`` for ``num_envs`` games."""
        obs_shape = (num_envs, len(self.agents), *self.observation_space.shape)
        buffers = StepBuffers(
            observations=np.zeros(obs_shape, dtype=np.float32),
            rewards=np.zeros((num_envs, len(self.agents)), dtype=np.float64),
            truncated=np.zeros(num_envs, dtype=np.bool_),
            final_observations=np.zeros(obs_shape, dtype=np.float32),
            info={
                name: np.zeros((num_envs, *shape), dtype=dtype)
                for name, (shape, dtype) in self.info_fields.items()
            },
        )
        state = np.zeros((num_envs, self.state_width), dtype=np.int64)
        rng = np.zeros((num_envs, 2), dtype=np.uint64)
        return state, rng, buffers

    @cached_property
    def _scalar_discrete(self) -> bool:
        return isinstance(self.action_space, spaces.Discrete)

    @cached_property
    def action_shape(self) -> tuple[int, ...]:
        """Shape of one agent's action."""
        return tuple(self.action_space.shape or ())

    @cached_property
    def discrete_actions(self) -> bool:
        """True when actions are integers (Discrete / MultiDiscrete)."""
        return isinstance(self.action_space, (spaces.Discrete, spaces.MultiDiscrete))

    # ---- kernels ----------------------------------------------------------------------------
    @abstractmethod
    def reset_envs(
        self, state: np.ndarray, rng: np.ndarray, env_ids: np.ndarray, buffers: StepBuffers
    ) -> None:
        """Start new episodes in ``env_ids`` (streams already seeded) and write their obs."""

    @abstractmethod
    def step_envs(
        self,
        state: np.ndarray,
        rng: np.ndarray,
        actions: np.ndarray,
        max_cycles: int,
        autoreset: bool,
        buffers: StepBuffers,
    ) -> int:
        """Advance every game one step with validated-shape ``actions``.

        Returns -1 on success, or the flat index ``env * 2 + seat`` of the first action that is
        out of range, in which case no game was changed.
        """

    # ---- actions ----------------------------------------------------------------------------
    def action_dtype(self) -> Any:
        """NumPy dtype of the batched action array the kernels read."""
        return np.int64 if self.discrete_actions else np.float64

    def describe_action_range(self) -> str:
        """Human-readable valid range, used in error messages."""
        space = self.action_space
        if isinstance(space, spaces.Discrete):
            return f"an integer in [0, {int(space.n) - 1}]"
        if isinstance(space, spaces.MultiDiscrete):
            return f"integers in [0, nvec - 1] with nvec={space.nvec.tolist()}"
        return f"floats in [{space.low.min()}, {space.high.max()}] of shape {space.shape}"

    def encode_agent_action(self, agent: str, action: Any, out: np.ndarray) -> None:
        """Check one agent's action (type and shape) and write it into ``out`` (``(1, ...)``).

        The range is checked by the kernel, which sees every action anyway; an integer too
        large for the int64 action buffer is reported here, naming the agent.
        """
        try:
            # the common cases first, kept cheap (the kernel checks the range)
            if type(action) is int and self._scalar_discrete:
                out[0] = action
                return
            shape = self.action_shape
            if (
                type(action) is np.ndarray
                and action.shape == shape
                and action.dtype.kind in ("i" if self.discrete_actions else "fi")
            ):
                out[...] = action
                return
            if self.discrete_actions:
                if not shape:
                    if isinstance(action, (bool, np.bool_)) or not isinstance(
                        action, (int, np.integer)
                    ):
                        if (
                            isinstance(action, np.ndarray)
                            and action.shape == ()
                            and (np.issubdtype(action.dtype, np.integer))
                        ):
                            action = int(action)
                        else:
                            raise TypeError(
                                f"action of {agent} must be {self.describe_action_range()}, "
                                f"got {action!r} of type {type(action).__name__}"
                            )
                    if isinstance(action, np.unsignedinteger) and action > _MAX_INT64:
                        raise OverflowError  # would wrap round to a negative int64
                    out[0] = action
                    return
                array = np.asarray(action)
                if not np.issubdtype(array.dtype, np.integer):
                    raise TypeError(
                        f"action of {agent} must be {self.describe_action_range()}, got dtype "
                        f"{array.dtype} ({action!r})"
                    )
                if array.dtype.kind == "u" and array.size and array.max() > _MAX_INT64:
                    raise OverflowError  # would wrap round to a negative int64: reported below
            else:
                array = np.asarray(action)
                if not (
                    np.issubdtype(array.dtype, np.floating)
                    or np.issubdtype(array.dtype, np.integer)
                ):
                    raise TypeError(
                        f"action of {agent} must be {self.describe_action_range()}, got {action!r}"
                    )
            if array.shape != shape:
                raise ValueError(
                    f"action of {agent} must have shape {shape}, got shape {array.shape} "
                    f"({action!r})"
                )
            out[...] = array
        except OverflowError:
            raise ValueError(
                f"action of {agent} is out of range: got {action!r}, expected "
                f"{self.describe_action_range()}"
            ) from None

    def action_in_range(self, action: np.ndarray | np.integer) -> bool:
        """True when one encoded action lies in the action space (NaN is never in range)."""
        space = self.action_space
        if isinstance(space, spaces.Discrete):
            return 0 <= int(action) < int(space.n)
        if isinstance(space, spaces.MultiDiscrete):
            return bool(np.all((action >= 0) & (action < space.nvec)))
        return bool(np.all((action >= space.low) & (action <= space.high)))

    def describe_bad_action(self, actions: np.ndarray, flat_index: int) -> str:
        """Explain which action the kernel rejected."""
        env, seat = divmod(flat_index, len(self.agents))
        value = actions[env, seat]
        # .tolist() turns NumPy scalars too into Python numbers, so the message reads "got 4"
        value = value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value
        return (
            f"action of {self.agents[seat]} in env {env} is out of range: got {value!r}, "
            f"expected {self.describe_action_range()}"
        )

    # ---- what the literature measures ---------------------------------------------------------
    def metric_counts(
        self,
        observations: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        info: dict[str, np.ndarray],
    ) -> MetricCounts:
        """Numerators and denominators, per seat, of the game's own metrics over a rollout.

        Each metric is a ratio of two per-seat sums, so rollouts are pooled by adding the sums
        before dividing. Arrays are time-major with the seat after the game axis:
        ``observations`` ``(T, B, 2, *obs_shape)`` (each seat's own view), ``actions``
        ``(T, B, 2, *action_shape)``, ``rewards`` ``(T, B, 2)`` and the ``info`` arrays
        ``(T, B, ...)``. The mean reward per step is measured for every game elsewhere; the
        default has nothing more.
        """
        return {}

    def strategies(self) -> dict[str, Callable[[], Strategy]]:
        """The game's scripted reference strategies: name -> a factory of a fresh one.

        "random" is defined for every game by the ``agents`` package; the default has no
        others.
        """
        return {}

    # ---- per-agent views (PettingZoo) -------------------------------------------------------
    def agent_infos(self, buffers: StepBuffers, env: int) -> list[dict[str, Any]]:
        """Per-seat info dicts of game ``env`` after a step (override to add fields)."""
        return [{} for _ in self.agents]

    # ---- rendering --------------------------------------------------------------------------
    @abstractmethod
    def render_ansi(self, state: np.ndarray, buffers: StepBuffers, env: int) -> str:
        """Text picture of game ``env``."""

    def render_rgb(self, state: np.ndarray, buffers: StepBuffers, env: int) -> np.ndarray:
        """RGB picture of game ``env`` (H x W x 3 uint8); only games that list rgb_array."""
        raise NotImplementedError(f"{type(self).__name__} has no rgb_array rendering")
