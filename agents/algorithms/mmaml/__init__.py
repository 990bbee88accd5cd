"""M-MAML: naive learning from meta-learned initial parameters and learning rate (exact games).

:class:`MMamlLearner` implements :class:`agents.algorithms.exact.ExactLearner`; it meta-trains
in :meth:`~MMamlLearner.prepare` (:mod:`agents.algorithms.mmaml.learner`).
"""

from agents.algorithms.mmaml.learner import MMamlConfig, MMamlLearner

__all__ = ["MMamlConfig", "MMamlLearner"]
