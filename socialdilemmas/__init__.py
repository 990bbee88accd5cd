"""Social dilemmas for multi-agent RL on batched Numba kernels.

The iterated matrix games, the Coin Game and the Negotiation Game, behind PettingZoo and a fast
vector API.

>>> import socialdilemmas
>>> vec = socialdilemmas.make_vec("ipd_v0", num_envs=4, seed=0)
>>> observations, info = vec.reset()
>>> observations.shape
(4, 2, 5)

Importing the package registers every env with PettingZoo (``socialdilemmas/<name>-v0``). It
needs numpy, numba, gymnasium and pettingzoo only; the learners live in the ``agents`` package.
"""

from socialdilemmas.core.vector import VectorEnv
from socialdilemmas.registration import env_ids, make_vec, register_with_pettingzoo

__version__ = "0.1.0"

register_with_pettingzoo()

__all__ = ["VectorEnv", "__version__", "env_ids", "make_vec"]
