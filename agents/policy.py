"""The policy interface: anything that plays one seat over a batch of games.

A policy sees a batch of own-perspective observations ``(num_envs, *obs_shape)`` and returns
one action per game. It keeps whatever per-game memory it needs (a recurrent state, the
opponent's last move) and forgets it for the games whose episode just started, which the caller
marks with ``episode_starts``. Scripted strategies, our learners, checkpoints, SB3 models and
plain callables all satisfy it (see :func:`as_policy`), so any of them can sit in either seat.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np


class Policy(ABC):
    """Plays one seat of a batch of games.

    Subclasses implement :meth:`act`; those with memory or randomness also override
    :meth:`reset`. Learners override :meth:`act_with_log_probs` so rollouts can record the
    log-probability of each sampled action.
    """

    #: short name used in league tables and plots
    name: str = "policy"

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Prepare to play ``num_envs`` games; ``seed`` makes any randomness reproducible."""

    @abstractmethod
    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Actions for a batch of observations.

        Args:
            observations: ``(num_envs, *obs_shape)`` float32, this seat's own view.
            episode_starts: ``(num_envs,)`` bool, True where ``observations`` is the first of an
                episode (forget that game's memory first).

        Returns:
            ``(num_envs, *action_shape)`` actions (NumPy; integer for discrete games).
        """

    def act_with_log_probs(
        self, observations: np.ndarray, episode_starts: np.ndarray
    ) -> tuple[np.ndarray, Any]:
        """Actions and their log-probabilities (None for policies that do not have them)."""
        return self.act(observations, episode_starts), None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class CallablePolicy(Policy):
    """A plain function ``fn(observations) -> actions`` over a batch, as a policy (no memory).

    Args:
        fn: maps ``(num_envs, *obs_shape)`` observations to ``(num_envs, *action_shape)``
            actions (anything ``np.asarray`` accepts).
        name: label in tables; defaults to the function's name.
    """

    def __init__(self, fn: Callable[[np.ndarray], Any], name: str | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"expected a callable, got {fn!r}")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Call the function on the batch."""
        return np.asarray(self.fn(observations))


def as_policy(obj: Any, name: str | None = None) -> Policy:
    """Wrap ``obj`` in the policy interface.

    Accepts a :class:`Policy` (returned as is), a stable-baselines3 model (anything with a
    ``predict`` method), a torch module mapping observations to logits (discrete) or actions
    (continuous) and a plain callable over a batch of observations.
    """
    if isinstance(obj, Policy):
        if name:
            obj.name = name
        return obj
    if hasattr(obj, "predict") and hasattr(obj, "policy"):
        from agents.adapters import SB3Policy

        return SB3Policy(obj, name=name)
    try:
        import torch

        if isinstance(obj, torch.nn.Module):
            from agents.adapters import TorchModulePolicy

            return TorchModulePolicy(obj, name=name)
    except ImportError:  # pragma: no cover
        pass
    if callable(obj):
        return CallablePolicy(obj, name=name)
    raise TypeError(
        f"cannot use {type(obj).__name__} as a policy: expected a Policy, an SB3 model, a torch "
        "module or a callable mapping a batch of observations to actions"
    )
