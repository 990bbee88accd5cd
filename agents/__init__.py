"""agents: everything that plays the socialdilemmas games.

One small policy interface (:class:`agents.policy.Policy`) that scripted strategies, our
learners, checkpoints, stable-baselines3 models and plain callables all satisfy; the batched
two-seat rollout; the learners; evaluation (matches, leagues, metrics, plots); the command line.

Needs the ``agents`` extra: ``pip install torch==2.13.0`` then
``pip install 'socialdilemmas[agents]'``.
"""

from __future__ import annotations

#: how to install what this package needs (the command line repeats it)
EXTRA_HINT = "pip install torch==2.13.0 && pip install 'socialdilemmas[agents]'"

try:
    import torch  # noqa: F401
except ImportError:  # pragma: no cover - exercised only without the extra
    # Importing the package still works without torch, so that ``agents.cli`` can start and say
    # which extra a command needs; asking for anything here says it too.
    def __getattr__(name: str) -> None:
        """Explain that torch is missing, naming the extra, whatever was asked for."""
        raise ImportError(f"the agents package needs torch: {EXTRA_HINT}", name="torch")

else:
    from agents.policy import CallablePolicy, Policy, as_policy
    from agents.rollout import Trajectory, rollout

__all__ = ["CallablePolicy", "Policy", "Trajectory", "as_policy", "rollout"]
