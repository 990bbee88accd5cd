"""LOQA: Learning with Opponent Q-Learning Awareness (``loqa``).

Aghajohari et al., ICLR 2024; reference code ``MiladInk/loqa@32f50c9``. The estimator (the
differentiable opponent model) is in :mod:`.estimator`, the network in :mod:`.networks`, the
settings in :mod:`.config`, the learner in :mod:`.learner`, the named configurations in
:mod:`.presets`.
"""

from agents.algorithms.loqa.config import LOQAConfig
from agents.algorithms.loqa.learner import LOQALearner
from agents.algorithms.loqa.networks import LOQANetwork
from agents.algorithms.loqa.presets import PRESETS

ALGORITHMS = {"loqa": (LOQAConfig, LOQALearner)}

__all__ = ["ALGORITHMS", "PRESETS", "LOQAConfig", "LOQALearner", "LOQANetwork"]
