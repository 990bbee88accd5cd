"""POLA-DiCE (``pola``): proximal LOLA on sampled episodes, differentiating through the opponent.

Zhao et al., "Proximal Learning With Opponent-Learning Awareness", NeurIPS 2022; reference code
``Silent-Zebra/POLA@b248b52``. The KL penalty, the proximal step and the value loss are in
:mod:`.estimator`, the settings in :mod:`.config`, the learner (a
:class:`~agents.algorithms.lola_dice.LOLADiCELearner` with proximal inner and outer problems)
in :mod:`.learner`, the named configurations in :mod:`.presets`.
"""

from agents.algorithms.pola.config import POLAConfig
from agents.algorithms.pola.learner import POLALearner
from agents.algorithms.pola.presets import PRESETS

ALGORITHMS = {"pola": (POLAConfig, POLALearner)}

__all__ = ["ALGORITHMS", "PRESETS", "POLAConfig", "POLALearner"]
