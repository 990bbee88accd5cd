"""Scripted reference strategies for every game, as policies.

Each game defines its own strategies (always-cooperate, always-defect, tit-for-tat, as the
papers evaluate against) in its package, and lists them through
:meth:`socialdilemmas.core.game.BatchedGame.strategies`; :func:`scripted_policy` plays one
through the policy interface. ``random`` (uniform over the action space,
:mod:`agents.scripted.generic`) exists for every game. The exact definitions are in the game
packages' ``strategies`` modules (the Coin Game's follow LOQA's AC/AD and POLA's TFT, the
Negotiation Game's AA's agents), so league numbers are comparable with the papers'.

>>> from agents.scripted import scripted_policy
>>> scripted_policy("tit_for_tat", "ipd_v0")
ScriptedPolicy('tit_for_tat')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.policy import Policy
from agents.scripted.generic import RandomPolicy
from socialdilemmas.core.game import BatchedGame
from socialdilemmas.core.strategy import Strategy
from socialdilemmas.registration import canonical_id, env_module

#: every strategy name some game defines (each game lists its own)
SCRIPTED_NAMES: tuple[str, ...] = ("always_cooperate", "always_defect", "random", "tit_for_tat")


class ScriptedPolicy(Policy):
    """A game's scripted :class:`~socialdilemmas.core.strategy.Strategy` as a policy.

    Args:
        strategy: the strategy (its own memory and random stream).

    """

    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy
        self.name = strategy.name

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Forget every game and restart the strategy's random stream from ``seed``."""
        self.strategy.reset(num_envs, seed)

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """The strategy's actions."""
        return self.strategy.act(observations, episode_starts)


def make_game(env_id: str, **env_kwargs: Any) -> BatchedGame:
    """Build the :class:`~socialdilemmas.core.game.BatchedGame` of ``env_id``."""
    return env_module(canonical_id(env_id)).parallel_env(**env_kwargs).game


def strategy_names(env_id: str, **env_kwargs: Any) -> list[str]:
    """Names of the scripted strategies available for ``env_id``."""
    return sorted({*make_game(env_id, **env_kwargs).strategies(), "random"})


def scripted_policy(name: str, env_id: str, **env_kwargs: Any) -> Policy:
    """Build a fresh scripted policy ``name`` for ``env_id`` played with ``env_kwargs``.

    Args:
        name: a strategy the game defines (see :func:`strategy_names`), or ``"random"``.
        env_id: ``"ipd_v0"``, ``"coin_game_v0"``, ``"negotiation_v0"``, ...
        **env_kwargs: the env's arguments (``grid_size``, ``payoffs``, ``continuous``, ...), so
            the strategy matches the rules it will play under.

    Raises:
        KeyError: unknown env id, or a strategy the game does not define.

    """
    game = make_game(env_id, **env_kwargs)
    if name == "random":
        return RandomPolicy(game.action_space)
    strategies = game.strategies()
    if name not in strategies:
        raise KeyError(
            f"no scripted strategy {name!r} for {canonical_id(env_id)}; "
            f"available: {sorted({*strategies, 'random'})}"
        )
    return ScriptedPolicy(strategies[name]())


__all__ = ["SCRIPTED_NAMES", "ScriptedPolicy", "make_game", "scripted_policy", "strategy_names"]
