"""Settings of POLA-DiCE (``pola``).

The defaults are the POLA README's IPD POLA-DiCE command (``Silent-Zebra/POLA@b248b52``,
``python ./jax_files/POLA_dice_jax.py --env ipd --n_update 101 --gae_lambda 1.0 --inner_steps 2
--outer_steps 200 --lr_in 0.005 --lr_out 0.003 --lr_v 0.0005 --batch_size 2000 --rollout_len 50
--inner_beta 10 --outer_beta 100 --seed 1 --layers_before_gru 1 --hidden_size 64``, with the
script's defaults for the rest: gamma 0.96, contribution factor 1.33, Adam outer optimizer,
loaded DiCE with GAE values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents.algorithms.lola_dice.config import LOLADiCEConfig


def _reference_env_kwargs() -> dict[str, Any]:
    return {"max_cycles": 50, "payoffs": "ipd_pola"}


@dataclass
class POLAConfig(LOLADiCEConfig):
    """POLA-DiCE settings; the defaults are the README's IPD run (see the module docstring).

    The LOLA-DiCE fields keep their meaning, except that the values are trained jointly with
    the policy in every outer step (so ``value_updates`` must stay 0) and the opponent is not
    modelled (POLA-OM is not implemented here: ``opponent_model`` must stay False).
    """

    env_kwargs: dict[str, Any] = field(default_factory=_reference_env_kwargs)
    """the env's own arguments (the README's IPD: 50 rounds, contribution factor 1.33)"""
    num_envs: int = 2000
    """games per rollout (--batch_size); every inner and outer step plays a fresh batch"""
    iterations: int = 101
    """POLA updates (--n_update): each is outer_steps proximal steps of each agent"""
    seed: int = 1
    """seeds network initialisation, the envs and every sampling decision (the README: 1)"""
    lr: float = 0.003
    """learning rate of the outer steps (--lr_out), Adam restarted at every update"""
    lr_inner: float = 0.005
    """learning rate of the opponent's imagined proximal SGD steps (--lr_in)"""
    inner_steps: int = 2
    """SGD steps of the opponent's proximal problem per outer step (--inner_steps)"""
    outer_steps: int = 200
    """steps of the agent's own proximal problem per update (--outer_steps)"""
    beta_inner: float = 10.0
    """weight of KL(pi_opponent_at_update_start || pi_opponent') in the opponent's imagined
    objective (--inner_beta)"""
    beta_outer: float = 100.0
    """weight of KL(pi_self_at_update_start || pi_self) in the agent's objective
    (--outer_beta)"""
    optimizer: str = "adam"
    """optimizer of the outer steps and of the values (the reference: adam)"""
    policy_model: str = "gru"
    """gru (the reference: one dense layer, a GRU, logits) or tabular (memory-one logits)"""
    hidden_sizes: tuple[int, ...] = (64,)
    """dense layer widths before the GRU (--layers_before_gru 1, --hidden_size 64)"""
    gru_size: int = 64
    """GRU state width (--hidden_size)"""
    baseline: str = "critic"
    """loaded DiCE on GAE advantages of the jointly trained values (the reference's default)"""
    lr_value: float = 0.0005
    """learning rate of the values (--lr_v): Adam in the outer steps, SGD in the imagined ones"""
    value_updates: int = 0
    """must be 0: POLA trains the values in every outer step, not on a separate rollout"""
    checkpoint_every: int = 10
    """save a checkpoint every this many updates (--checkpoint_every 10)"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if int(self.outer_steps) < 1:
            raise ValueError(f"outer_steps must be at least 1, got {self.outer_steps}")
        for name in ("beta_inner", "beta_outer"):
            if getattr(self, name) < 0:
                raise ValueError(
                    f"{name} must be >= 0 (a KL weight; 0 removes the proximal term), "
                    f"got {getattr(self, name)}"
                )
        if self.value_updates != 0:
            raise ValueError(
                f"value_updates must be 0 for POLA, got {self.value_updates}: the values are "
                "trained jointly in every outer step (lr_value)"
            )
        if self.opponent_model:
            raise ValueError(
                "opponent_model is not supported by pola (POLA-OM is not implemented); it looks "
                "ahead through the opponent's true parameters"
            )
        if self.self_play:
            raise ValueError(
                "self_play is not supported by pola: POLA-DiCE trains two agents, each looking "
                "ahead through the other's parameters"
            )


__all__ = ["POLAConfig"]
