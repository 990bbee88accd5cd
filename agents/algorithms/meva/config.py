"""Settings of Meta-Value Learning: every hyperparameter of the reference code, by its default.

The defaults are those of ``Hp`` in MetaValueLearning/MetaValueLearning@107c709
``matrix.ipynb`` (Cooijmans, Aghajohari and Courville, "Meta-Value Learning: a General
Framework for Learning with Learning Awareness", 2023), except :attr:`MevaConfig.outer_steps`,
whose code default (100) is a smoke-test value: here it is the tournament's 1001. The presets
of :mod:`agents.algorithms.meva.presets` set the tournament and ablation recipes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from agents.validation import check_config_fields

OPPONENTS = ("naive", "lola", "meva")
#: the games the reference code trains on, and their inner step sizes (``make_for_game``)
REFERENCE_GAMES = ("ipd", "matching_pennies", "chicken_meva")


@dataclass
class MevaConfig:
    """How one meta-value model is trained (one game, one opponent kind, one seed).

    Names follow the reference ``Hp``; where they differ the reference name is given.
    """

    game: str = "ipd"
    """payoff preset of the iterated game (:data:`socialdilemmas.matrix.payoffs.PRESETS`); the
    paper's are ``ipd``, ``matching_pennies`` and ``chicken_meva``"""
    game_gamma: float = 0.96
    """discount of the iterated game (``game_discount``)"""
    seat: int = 0
    """the seat MeVa is trained in: 1 trains on the game with its players swapped (only
    differs from 0 in asymmetric games such as matching pennies)"""
    opponent: str = "meva"
    """who the other player is during training: ``naive`` (gradient ascent on f), ``lola``
    (exact LOLA, Taylor form) or ``meva`` (self-play on the same model)"""
    alpha: float | None = None
    """inner step size of the agents; None: the game's reference rate (25 in the IPD and
    matching pennies, 1 in chicken)"""
    outer_steps: int = 1001
    """updates of the meta-value model, each from a fresh batch of starts
    (``outer_num_steps``)"""
    inner_steps: int = 100
    """agent steps per outer step (``inner_num_steps``); one model update every ``stride``"""
    stride: int = 10
    """length of each behaviour segment and of each learning rollout"""
    batch_size: int = 128
    """pairs of agents trained on at once"""
    lr: float = 1e-3
    """AdamW step size of the model (``outer_lr``)"""
    adam_betas: tuple[float, float] = (0.9, 0.99)
    """AdamW betas (the reference's own Adam)"""
    adam_eps: float = 1e-8
    """AdamW epsilon"""
    weight_decay: float = 0.01
    """decoupled weight decay"""
    rho: float = 0.99
    """Polyak factor of the target network: target <- rho target + (1 - rho) online"""
    lamda: float = 0.9
    """lambda of the lambda-returns"""
    predict_target: bool = True
    """bootstrap from the target network (False: from the online network)"""
    semigradient: bool = True
    """without the target network, stop the gradient through the bootstrapped values"""
    correction: bool = True
    """learn U with V = (1 - gamma) f + gamma U (``correction_version=1``); False: V = U and
    the reward is f of the current parameters (the "no U" ablation)"""
    fixed_gamma: float | None = None
    """train at one meta-discount instead of drawing it from Beta(0.5, 0.5)"""
    explore_signs: bool = True
    """explore by flipping the sign of units of the last hidden layer"""
    explore_level: float = 1.0 / 16.0
    """probability that a unit's sign is flipped during behaviour"""
    explore_target: bool = False
    """behave with the target network instead of the online one"""
    noisynet: bool = False
    """learned Gaussian parameter noise ("basic exploration" ablation)"""
    noisynet_init_scale: float = 1e-4
    """initial standard deviation of the parameter noise"""
    quantiles: int = 64
    """quantiles of the distributional output (1: plain Huber regression)"""
    width: int = 128
    """hidden width of the network"""
    num_resblocks: int = 1
    """gated residual blocks after each mixing layer (the tournament and ablation use 0)"""
    layer_norm: bool = True
    """LayerNorm in the dense blocks (``normalize``)"""
    equivariant: bool | None = None
    """share the network across players; None: when the opponent is MeVa and the game is
    symmetric, as in the reference"""
    seed: int = 0
    """seed of the network initialisation and of every draw"""

    def __post_init__(self) -> None:
        check_config_fields(self)
        from socialdilemmas.matrix.payoffs import PRESETS

        if self.game not in PRESETS:
            raise ValueError(f"game must be one of {sorted(PRESETS)}, got {self.game!r}")
        if self.opponent not in OPPONENTS:
            raise ValueError(f"opponent must be one of {list(OPPONENTS)}, got {self.opponent!r}")
        if self.seat not in (0, 1):
            raise ValueError(f"seat must be 0 or 1, got {self.seat!r}")
        if self.opponent == "meva" and self.seat != 0:
            raise ValueError("a self-play model (opponent 'meva') plays both seats; use seat 0")
        if not 0.0 <= self.game_gamma < 1.0:
            raise ValueError(f"game_gamma must be in [0, 1), got {self.game_gamma!r}")
        if self.alpha is not None and not self.alpha > 0:
            raise ValueError(f"alpha must be > 0 or None, got {self.alpha!r}")
        for name in ("outer_steps", "inner_steps", "stride", "batch_size", "quantiles", "width"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.inner_steps % self.stride:
            raise ValueError(
                f"inner_steps ({self.inner_steps}) must be a multiple of stride ({self.stride})"
            )
        if self.num_resblocks < 0:
            raise ValueError(f"num_resblocks must be >= 0, got {self.num_resblocks!r}")
        for name in ("lr", "adam_eps", "noisynet_init_scale"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if len(self.adam_betas) != 2 or not all(0.0 <= b < 1.0 for b in self.adam_betas):
            raise ValueError(f"adam_betas must be two numbers in [0, 1), got {self.adam_betas!r}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        for name in ("rho", "lamda", "explore_level"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        if self.fixed_gamma is not None and not 0.0 <= self.fixed_gamma < 1.0:
            raise ValueError(f"fixed_gamma must be in [0, 1) or None, got {self.fixed_gamma!r}")
        if self.equivariant and (self.opponent != "meva" or not self.symmetric_game()):
            raise ValueError(
                "equivariant (one network for both players) needs self-play (opponent 'meva') on "
                f"a symmetric game; got opponent {self.opponent!r} on {self.game!r}"
            )

    def symmetric_game(self) -> bool:
        """Whether the game's payoffs are the same from both seats."""
        from socialdilemmas.matrix.payoffs import payoff_table

        table, _ = payoff_table(self.game)
        return bool((table[..., 0] == table[..., 1].T).all())

    def shares_weights(self) -> bool:
        """Whether one network serves both players (the reference's ``equivariant``)."""
        if self.equivariant is not None:
            return self.equivariant
        return self.opponent == "meva" and self.symmetric_game()

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for a checkpoint)."""
        values = dataclasses.asdict(self)
        values["adam_betas"] = list(self.adam_betas)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> MevaConfig:
        """The config written by :meth:`to_dict`; unknown fields are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown MeVa config fields {unknown}")
        values = dict(values)
        if "adam_betas" in values:
            values["adam_betas"] = tuple(values["adam_betas"])
        return cls(**values)
