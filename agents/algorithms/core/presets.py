"""Named presets: typed config factories, one function per preset.

A preset is a function with no arguments returning a fully specified config of its algorithm
(the algorithm follows from the config's type); its docstring's first paragraph is the
description ``socialdilemmas train`` lists. Each algorithm package collects its own in
``presets.py`` with :func:`collect_presets`; :mod:`agents.algorithms` merges them. From
Python::

    from agents.algorithms import preset_config
    config = preset_config("aa_ipd", seed=3)       # an AdvantageAlignmentConfig
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.algorithms.core.config import LearnerConfig


@dataclass(frozen=True)
class Preset:
    """A named config factory."""

    name: str
    factory: Callable[[], LearnerConfig]

    @property
    def description(self) -> str:
        """The first paragraph of the factory's docstring, on one line."""
        doc = inspect.getdoc(self.factory) or ""
        return " ".join(doc.split("\n\n")[0].split())

    def config(self, **overrides: Any) -> LearnerConfig:
        """The preset's config with ``overrides`` (field values) applied and validated."""
        config = self.factory()
        if not overrides:
            return config
        return type(config).from_dict({**config.to_dict(), **overrides})


def collect_presets(*factories: Callable[[], LearnerConfig]) -> dict[str, Preset]:
    """``{function name: Preset}`` of ``factories``."""
    return {factory.__name__: Preset(factory.__name__, factory) for factory in factories}


__all__ = ["Preset", "collect_presets"]
