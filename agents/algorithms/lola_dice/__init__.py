"""LOLA-DiCE (``lola_dice``): LOLA on sampled episodes, differentiating through the opponent.

Foerster et al., "DiCE: The Infinitely Differentiable Monte Carlo Estimator", ICML 2018;
reference code ``alshedivat/lola@0e8b13e``. The DiCE objectives and the differentiable naive
step are in :mod:`.estimator`, the network in :mod:`.networks`, the settings in :mod:`.config`,
the learner in :mod:`.learner`, the named configurations in :mod:`.presets`.
"""

from agents.algorithms.lola_dice.config import LOLADiCEConfig
from agents.algorithms.lola_dice.learner import LOLADiCELearner
from agents.algorithms.lola_dice.networks import LOLADiCENetwork
from agents.algorithms.lola_dice.presets import PRESETS

ALGORITHMS = {"lola_dice": (LOLADiCEConfig, LOLADiCELearner)}

__all__ = ["ALGORITHMS", "PRESETS", "LOLADiCEConfig", "LOLADiCELearner", "LOLADiCENetwork"]
