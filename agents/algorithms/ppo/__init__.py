"""Naive independent PPO (``ppo``) and PPO on summed rewards (``ppo_summed``)."""

from agents.algorithms.ppo.learner import PPOConfig, PPOLearner, PPOSummedConfig, PPOSummedLearner
from agents.algorithms.ppo.presets import PRESETS

ALGORITHMS = {
    "ppo": (PPOConfig, PPOLearner),
    "ppo_summed": (PPOSummedConfig, PPOSummedLearner),
}

__all__ = [
    "ALGORITHMS",
    "PRESETS",
    "PPOConfig",
    "PPOLearner",
    "PPOSummedConfig",
    "PPOSummedLearner",
]
