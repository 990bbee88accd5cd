"""agents: everything that plays the socialdilemmas games.

One small policy interface (:class:`agents.policy.Policy`) that scripted strategies, our
learners, checkpoints, stable-baselines3 models and plain callables all satisfy; the batched
two-seat rollout; the learners; evaluation (matches, leagues, metrics, plots); the command line.

Needs the ``agents`` extra; from a checkout: ``pip install torch==2.13.0`` then
``pip install ".[agents]"``.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

#: how to install what this package needs (the command line and the import errors repeat it)
EXTRA_HINT = 'pip install torch==2.13.0 && pip install ".[agents]" (from a checkout)'

#: the names re-exported here, and the module each comes from. They are imported on first use,
#: so that ``import agents`` (and with it the command line's ``--help``) does not import torch.
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
    """Import a re-exported name on first use; without torch, say which extra to install."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'agents' has no attribute {name!r}")
    try:
        module = importlib.import_module(_EXPORTS[name])
    except ImportError as error:
        raise missing_extra(error) from None
    value = getattr(module, name)
    setattr(sys.modules[__name__], name, value)
    return value


class _Package(types.ModuleType):
    """The ``agents`` module, whose re-exported names stay the objects :data:`_EXPORTS` names.

    Importing a submodule binds it as the package's attribute of the same name: importing
    ``agents.rollout`` (as the learners do) would shadow the re-exported function ``rollout``
    for ``from agents import rollout``; this keeps the function in its place.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
