"""Learning algorithms and their building blocks (one module per algorithm), and the registry.

:data:`ALGORITHMS` maps a name (``--algo`` on the command line) to its config class and its
learner class. A new algorithm is a module defining both plus one line here. Building blocks
that are not learners (``loqa_parts``) are not registered.
"""

from __future__ import annotations

from agents.algorithms.actor_critic import ActorCriticConfig, ActorCriticLearner
from agents.algorithms.advantage_alignment import (
    AdvantageAlignmentConfig,
    AdvantageAlignmentLearner,
    ProximalAdvantageAlignmentConfig,
    ProximalAdvantageAlignmentLearner,
)
from agents.algorithms.base import Learner, LearnerConfig
from agents.algorithms.loqa import LOQAConfig, LOQALearner
from agents.algorithms.ppo import PPOConfig, PPOLearner, PPOSummedConfig, PPOSummedLearner

#: algorithm name -> (config class, learner class)
ALGORITHMS: dict[str, tuple[type[LearnerConfig], type[Learner]]] = {
    "aa": (AdvantageAlignmentConfig, AdvantageAlignmentLearner),
    "paa": (ProximalAdvantageAlignmentConfig, ProximalAdvantageAlignmentLearner),
    "actor_critic": (ActorCriticConfig, ActorCriticLearner),
    "loqa": (LOQAConfig, LOQALearner),
    "ppo": (PPOConfig, PPOLearner),
    "ppo_summed": (PPOSummedConfig, PPOSummedLearner),
}


def get_algorithm(name: str) -> tuple[type[LearnerConfig], type[Learner]]:
    """Return the ``(config class, learner class)`` registered as ``name``."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise KeyError(f"unknown algorithm {name!r}; registered: {sorted(ALGORITHMS)}") from None


__all__ = ["ALGORITHMS", "Learner", "LearnerConfig", "get_algorithm"]
