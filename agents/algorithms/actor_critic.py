"""Independent actor-critic with GAE (A2C-style): one gradient step per batch.

Each agent follows ``-mean(log pi(a_t | h_t) * A_t) + vf_coef * critic loss - ent_coef * H``
with ``A`` the GAE(gamma, lambda) advantage of its own rewards, ignoring that the other seat
learns too: the naive learner of the opponent-shaping literature.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.algorithms.base import Learner, LearnerConfig


@dataclass
class ActorCriticConfig(LearnerConfig):
    """Independent actor-critic: the shared learner settings, one update per batch."""


class ActorCriticLearner(Learner):
    """Naive independent actor-critic (the policy loss is :meth:`Learner.policy_loss`)."""

    config_class = ActorCriticConfig
