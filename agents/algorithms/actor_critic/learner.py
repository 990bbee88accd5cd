"""Independent actor-critic with GAE (A2C-style): one gradient step per batch.

Each agent follows ``-mean(log pi(a_t | h_t) * A_t) + vf_coef * critic loss - ent_coef * H``
with ``A`` the GAE(gamma, lambda) advantage of its own rewards, ignoring that the other seat
learns too: the naive learner of the opponent-shaping literature.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.algorithms.core.on_policy import OnPolicyConfig, OnPolicyLearner


@dataclass
class ActorCriticConfig(OnPolicyConfig):
    """Independent actor-critic: the on-policy settings, one update per batch."""


class ActorCriticLearner(OnPolicyLearner):
    """Naive independent actor-critic (the policy loss is the plain policy gradient)."""

    config_class = ActorCriticConfig
