"""The MeVa paper's training recipes, as in MetaValueLearning/MetaValueLearning@107c709.

- :func:`meva_tournament`: the models of the tournament (``Meva._train``): 1001 outer steps,
  no residual blocks, rho 0.99; one per game, opponent kind and seed (the paper: seeds 0-9).
- :func:`meva_ablation`: the IPD self-play ablation (``Ablation.train``): 500 outer steps, no
  residual blocks, rho 0.999, ten seeds per variant; :data:`ABLATIONS` are its variants, as
  config changes.
"""

from __future__ import annotations

from dataclasses import replace

from agents.algorithms.meva.config import MevaConfig


def meva_tournament(game: str = "ipd", opponent: str = "meva", seed: int = 0, seat: int = 0):
    """The tournament recipe for one model."""
    return MevaConfig(
        game=game,
        opponent=opponent,
        seed=seed,
        seat=seat,
        outer_steps=1001,
        num_resblocks=0,
        rho=0.99,
    )


def meva_ablation(variant: str = "default", seed: int = 0) -> MevaConfig:
    """The ablation recipe (IPD, self-play) with one of :data:`ABLATIONS` applied."""
    try:
        changes = ABLATIONS[variant]
    except KeyError:
        raise KeyError(f"unknown MeVa ablation {variant!r}; known: {sorted(ABLATIONS)}") from None
    base = MevaConfig(game="ipd", opponent="meva", outer_steps=500, num_resblocks=0, rho=0.999)
    return replace(base, seed=seed, **changes)


#: the ablation variants of the paper's table, as changes to the ablation recipe
ABLATIONS: dict[str, dict] = {
    "default": {},
    "basic_exploration": {"explore_signs": False, "noisynet": True},
    "lambda_1": {"lamda": 1.0},
    "lambda_0_stride_1": {"lamda": 0.0, "stride": 1},
    "no_target_network": {"predict_target": False, "semigradient": True},
    "no_distributional": {"quantiles": 1},
    "no_u": {"correction": False},
    "fixed_gamma": {"fixed_gamma": 0.95},
}

PRESETS = {"meva_tournament": meva_tournament, "meva_ablation": meva_ablation}
