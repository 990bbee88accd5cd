"""The Negotiation Game, version 0 (PettingZoo module: ``env``, ``raw_env``, ``parallel_env``).

Documentation: :mod:`socialdilemmas.negotiation.env`.
"""

from socialdilemmas.core.parallel import versioned_factories
from socialdilemmas.negotiation.env import NegotiationEnv

env, raw_env, parallel_env = versioned_factories(NegotiationEnv)

__all__ = ["env", "parallel_env", "raw_env"]
