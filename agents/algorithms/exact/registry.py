"""Names of the exact-game learners, for the tournament and its command line.

:data:`EXACT_LEARNERS` maps a name to a factory that takes no arguments and returns a
learner with its reference settings; adding a learner written against
:class:`agents.algorithms.exact.ExactLearner` is one
entry here (or, without editing the package, ``module:factory`` on the command line).
"""

from __future__ import annotations

from collections.abc import Callable

from agents.algorithms.exact.interface import ExactLearner
from agents.algorithms.exact.naive import NaiveLearner
from agents.algorithms.lola.exact import LolaConfig, LolaLearner
from agents.algorithms.meva.learner import MevaLearner
from agents.algorithms.mmaml.learner import MMamlLearner

#: learner name -> factory of a learner with its reference settings
EXACT_LEARNERS: dict[str, Callable[[], ExactLearner]] = {
    "naive": NaiveLearner,
    "lola": LolaLearner,
    "lola_lookahead": lambda: LolaLearner(LolaConfig(form="lookahead")),
    # meta-trains for about 50 min per game on one core at the reference settings
    "mmaml": MMamlLearner,
    # plays with trained models: bundled ones, or MevaLearnerConfig(model_dir=...)
    "meva": MevaLearner,
}


def make_exact_learner(name: str) -> ExactLearner:
    """The learner registered as ``name``; KeyError listing the names otherwise."""
    try:
        factory = EXACT_LEARNERS[name]
    except KeyError:
        raise KeyError(f"unknown exact learner {name!r}; known: {sorted(EXACT_LEARNERS)}") from None
    return factory()
