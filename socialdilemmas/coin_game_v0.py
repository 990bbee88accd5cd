"""The Coin Game, version 0 (PettingZoo module: ``env``, ``raw_env``, ``parallel_env``).

Documentation: :mod:`socialdilemmas.coin_game.env`.
"""

from socialdilemmas.coin_game.env import CoinGameEnv
from socialdilemmas.core.parallel import versioned_factories

env, raw_env, parallel_env = versioned_factories(CoinGameEnv)

__all__ = ["env", "parallel_env", "raw_env"]
