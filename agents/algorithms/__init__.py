"""The learning algorithms, one package each, and the registry that collects them.

Each package under ``agents/algorithms/`` (``ppo``, ``actor_critic``, ``advantage_alignment``,
``loqa``, ``lola_dice``, ``pola``) holds its config, learner, estimator and presets, and exports
``ALGORITHMS`` (name -> ``(config class, learner class)``) and ``PRESETS`` (name ->
:class:`Preset`). What they share is in :mod:`agents.algorithms.core`. Adding an algorithm: a
package with those two exports, and its name in :data:`PACKAGES` (``docs/architecture.md`` has
the checklist).

The exact-game learners (``exact``, ``lola``, ``mmaml``: closed-form returns of iterated 2x2
games, no env and no trajectories) share their own interface and registry,
:mod:`agents.algorithms.exact.registry`, and are deliberately not in :data:`PACKAGES`.

:data:`ALGORITHMS` maps a name (``--algo`` on the command line) to its config class and its
learner class; :data:`PRESETS` maps a preset name (``--preset``) to its config factory.
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

from agents.algorithms.core.config import LearnerConfig
from agents.algorithms.core.learner import Learner
from agents.algorithms.core.presets import Preset

#: the algorithm packages the registry collects, in the order ``--help`` lists them
PACKAGES = ("ppo", "actor_critic", "advantage_alignment", "loqa", "lola_dice", "pola")


class Algorithm(NamedTuple):
    """A registered algorithm's config class and learner class."""

    config_class: type[LearnerConfig]
    learner_class: type[Learner]


def _collect() -> tuple[dict[str, Algorithm], dict[str, Preset]]:
    algorithms: dict[str, Algorithm] = {}
    presets: dict[str, Preset] = {}
    for package in PACKAGES:
        module = importlib.import_module(f"agents.algorithms.{package}")
        for name, (config_class, learner_class) in module.ALGORITHMS.items():
            if name in algorithms:
                raise RuntimeError(f"algorithm {name!r} is registered twice")
            algorithms[name] = Algorithm(config_class, learner_class)
        for name, preset in module.PRESETS.items():
            if name in presets:
                raise RuntimeError(f"preset {name!r} is registered twice")
            presets[name] = preset
    return algorithms, presets


ALGORITHMS, PRESETS = _collect()


def get_algorithm(name: str) -> Algorithm:
    """Return the ``(config class, learner class)`` registered as ``name``."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise KeyError(f"unknown algorithm {name!r}; registered: {sorted(ALGORITHMS)}") from None


def algorithm_of_config(config: LearnerConfig) -> str:
    """Return the name of the algorithm whose config class ``config`` is an instance of."""
    for name, algorithm in ALGORITHMS.items():
        if type(config) is algorithm.config_class:
            return name
    raise KeyError(f"{type(config).__name__} is not the config of a registered algorithm")


def get_preset(name: str) -> Preset:
    """Return the preset ``name``; KeyError listing the known ones otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {sorted(PRESETS)}") from None


def preset_config(name: str, **overrides: Any) -> LearnerConfig:
    """Return the config of preset ``name`` with ``overrides`` (field values) applied."""
    return get_preset(name).config(**overrides)


def preset_algorithm(name: str) -> str:
    """Return the algorithm of preset ``name`` (the type of the config it builds)."""
    return algorithm_of_config(get_preset(name).factory())


__all__ = [
    "ALGORITHMS",
    "PACKAGES",
    "PRESETS",
    "Algorithm",
    "Learner",
    "LearnerConfig",
    "Preset",
    "algorithm_of_config",
    "get_algorithm",
    "get_preset",
    "preset_algorithm",
    "preset_config",
]
