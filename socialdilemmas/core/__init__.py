"""Generic layers written once for every game.

The batched-game protocol, the vector env and the PettingZoo adapter.
"""

from socialdilemmas.core.game import BatchedGame, StepBuffers
from socialdilemmas.core.parallel import SocialDilemmaParallelEnv, make_aec
from socialdilemmas.core.vector import VectorEnv

__all__ = ["BatchedGame", "SocialDilemmaParallelEnv", "StepBuffers", "VectorEnv", "make_aec"]
