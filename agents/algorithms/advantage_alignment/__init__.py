"""Advantage Alignment (``aa``) and Proximal Advantage Alignment (``paa``).

Duque et al., "Advantage Alignment Algorithms", ICLR 2025. The estimator (the aligned
advantage) is in :mod:`.estimator`, the settings in :mod:`.config`, the learner in
:mod:`.learner`, the named configurations in :mod:`.presets`.
"""

from agents.algorithms.advantage_alignment.config import (
    AdvantageAlignmentConfig,
    ProximalAdvantageAlignmentConfig,
)
from agents.algorithms.advantage_alignment.learner import (
    AdvantageAlignmentLearner,
    ProximalAdvantageAlignmentLearner,
)
from agents.algorithms.advantage_alignment.presets import PRESETS

ALGORITHMS = {
    "aa": (AdvantageAlignmentConfig, AdvantageAlignmentLearner),
    "paa": (ProximalAdvantageAlignmentConfig, ProximalAdvantageAlignmentLearner),
}

__all__ = [
    "ALGORITHMS",
    "PRESETS",
    "AdvantageAlignmentConfig",
    "AdvantageAlignmentLearner",
    "ProximalAdvantageAlignmentConfig",
    "ProximalAdvantageAlignmentLearner",
]
