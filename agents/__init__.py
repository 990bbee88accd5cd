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

__all__ = ["CallablePolicy", "Policy", "Trajectory", "as_policy", "rollout"]


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


try:
    import torch  # noqa: F401
except ImportError:  # pragma: no cover - exercised only without the extra
    # Importing the package still works without torch, so that ``agents.cli`` can start and say
    # which extra a command needs; asking for a re-exported name says it too.
    def __getattr__(name: str) -> Any:
        """Explain that torch is missing, naming the extra, for any re-exported name."""
        if name not in __all__:
            raise AttributeError(f"module 'agents' has no attribute {name!r}")
        require_extra("torch")

else:
    # imported eagerly (not on first use): ``agents.rollout`` must be the function, not the
    # submodule that importing it would otherwise leave under that name
    from agents.policy import CallablePolicy, Policy, as_policy
    from agents.rollout import Trajectory, rollout
