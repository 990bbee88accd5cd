"""agents: everything that plays the socialdilemmas games.

One small policy interface (:class:`agents.policy.Policy`) that scripted strategies, our
learners, checkpoints, stable-baselines3 models and plain callables all satisfy; the batched
two-seat rollout; the learners; evaluation (matches, leagues, metrics, plots); the command line.

Needs the ``agents`` extra; from a checkout: ``pip install torch==2.13.0`` then
``pip install ".[agents]"``.
"""

from __future__ import annotations

import importlib
from typing import Any

#: how to install what this package needs (the command line and the import errors repeat it)
EXTRA_HINT = 'pip install torch==2.13.0 && pip install ".[agents]" (from a checkout)'

#: the names re-exported here -> the module defining them; imported on first use, so that
#: ``import agents`` (and the command line's ``--help``) does not pay for importing torch
_EXPORTS = {
    "CallablePolicy": "agents.policy",
    "Policy": "agents.policy",
    "as_policy": "agents.policy",
    "Trajectory": "agents.rollout",
    "rollout": "agents.rollout",
}

__all__ = sorted(_EXPORTS)


def missing_extra(error: ImportError) -> ImportError:
    """The ImportError to raise when importing a module of the ``agents`` extra failed.

    Used as ``except ImportError as error: raise missing_extra(error) from None`` around the
    imports of torch, stable-baselines3 and the like, so that importing a module without the
    extra says what to install instead of a bare ``ModuleNotFoundError``.
    """
    return ImportError(
        f"this part of the agents package needs {error.name or 'the agents extra'}: {EXTRA_HINT}",
        name=error.name,
    )


def require_extra(*modules: str) -> None:
    """Raise :func:`missing_extra`'s ImportError when one of ``modules`` cannot be imported."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise missing_extra(error) from None


def __getattr__(name: str) -> Any:
    """Import a re-exported name from its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'agents' has no attribute {name!r}")
    require_extra("torch")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
