"""Naive independent actor-critic (``actor_critic``)."""

from agents.algorithms.actor_critic.learner import ActorCriticConfig, ActorCriticLearner

ALGORITHMS = {"actor_critic": (ActorCriticConfig, ActorCriticLearner)}
PRESETS: dict = {}

__all__ = ["ALGORITHMS", "PRESETS", "ActorCriticConfig", "ActorCriticLearner"]
