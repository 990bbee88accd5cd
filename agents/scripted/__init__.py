"""Scripted reference strategies, batched, for every game.

Each game family has a module here (``matrix``, ``coin_game``, ``negotiation``) whose
``STRATEGIES`` dict maps a strategy name to a constructor taking the game object (its rules and
spaces); :func:`scripted_policy` finds the module from the env id. ``random`` (uniform over the
action space, :mod:`agents.scripted.generic`) exists for every game. The exact definitions are in
each module's docstring; they follow ENVIRONMENTS.md 2.2 (Coin Game) and 3.1 (Negotiation Game),
so league numbers are comparable with the papers'.

>>> from agents.scripted import scripted_policy
>>> scripted_policy("tit_for_tat", "ipd_v0")
TitForTat('tit_for_tat')
"""

from __future__ import annotations

import importlib
from typing import Any

from agents.policy import Policy
from agents.scripted.generic import RandomPolicy
from socialdilemmas.registration import canonical_id, env_module

#: every strategy name some game defines (each game lists its own in its module's STRATEGIES)
SCRIPTED_NAMES: tuple[str, ...] = ("always_cooperate", "always_defect", "random", "tit_for_tat")

#: class name of the game's BatchedGame -> module holding its strategies
_GAME_MODULES: dict[str, str] = {
    "MatrixGame": "agents.scripted.matrix",
    "CoinGame": "agents.scripted.coin_game",
    "NegotiationGame": "agents.scripted.negotiation",
}


def make_game(env_id: str, **env_kwargs: Any) -> Any:
    """Build the :class:`~socialdilemmas.core.game.BatchedGame` of ``env_id``."""
    return env_module(canonical_id(env_id)).parallel_env(**env_kwargs).game


def strategy_names(env_id: str, **env_kwargs: Any) -> list[str]:
    """Names of the scripted strategies available for ``env_id``."""
    return sorted({*_strategies(make_game(env_id, **env_kwargs)), "random"})


def scripted_policy(name: str, env_id: str, **env_kwargs: Any) -> Policy:
    """Build a fresh scripted policy ``name`` for ``env_id`` played with ``env_kwargs``.

    Args:
        name: one of :data:`SCRIPTED_NAMES` that the game defines.
        env_id: ``"ipd_v0"``, ``"coin_game_v0"``, ``"negotiation_v0"``, ...
        **env_kwargs: the env's arguments (``grid_size``, ``payoffs``, ``continuous``, ...), so
            the strategy matches the rules it will play under.

    Raises:
        KeyError: unknown env id, or a strategy the game does not define.

    """
    game = make_game(env_id, **env_kwargs)
    strategies = _strategies(game)
    if name == "random":
        return RandomPolicy(game.action_space)
    if name not in strategies:
        raise KeyError(
            f"no scripted strategy {name!r} for {canonical_id(env_id)}; "
            f"available: {sorted({*strategies, 'random'})}"
        )
    return strategies[name](game)


def _strategies(game: Any) -> dict[str, Any]:
    kind = type(game).__name__
    if kind not in _GAME_MODULES:
        raise KeyError(f"no scripted strategies for games of type {kind}")
    return importlib.import_module(_GAME_MODULES[kind]).STRATEGIES


__all__ = ["SCRIPTED_NAMES", "make_game", "scripted_policy", "strategy_names"]
