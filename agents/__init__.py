"""agents: everything that plays the socialdilemmas games.

One small policy interface (:class:`agents.policy.Policy`) that scripted strategies, our
learners, checkpoints, stable-baselines3 models and plain callables all satisfy; the batched
two-seat rollout; the learners; evaluation (matches, leagues, metrics, plots); the command line.

Needs the ``agents`` extra: ``pip install torch==2.13.0`` then ``pip install 'socialdilemmas[agents]'``.
"""

from __future__ import annotations

try:
    import torch  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the agents package needs torch: pip install torch==2.13.0 && "
        "pip install 'socialdilemmas[agents]'"
    ) from error

from agents.policy import CallablePolicy, Policy, as_policy
from agents.rollout import Trajectory, rollout

__all__ = ["CallablePolicy", "Policy", "Trajectory", "as_policy", "rollout"]
