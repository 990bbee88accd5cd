"""The Iterated Prisoner's Dilemma, version 0.

A PettingZoo module (``env``, ``raw_env``, ``parallel_env``); documentation:
:mod:`socialdilemmas.matrix.env`.
"""

from socialdilemmas.core.parallel import versioned_factories
from socialdilemmas.matrix.env import IPDEnv

env, raw_env, parallel_env = versioned_factories(IPDEnv)

__all__ = ["env", "parallel_env", "raw_env"]
