"""Settings of LOLA-DiCE (``lola_dice``).

The defaults are the published IPD setup of Foerster et al., "DiCE: The Infinitely
Differentiable Monte Carlo Estimator" (ICML 2018), as run by ``alshedivat/lola``
(``scripts/run_lola_dice.py`` at commit 9b9a212, ``lola_dice/rpg.py``): a tabular policy, 64
games of 150 rounds, gamma 0.96, 2 inner steps, plain SGD with lr_inner 0.1 and lr_outer 0.2,
200 iterations, and no learned baseline (each step's discounted reward is centred over the
batch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents.algorithms.core.config import LearnerConfig

#: the policy networks a LOLA-DiCE agent can have
POLICY_MODELS = ("tabular", "gru")
#: how the DiCE objective reduces the variance of its estimate
BASELINES = ("none", "batch_mean", "critic")
#: the optimizers of the outer step
OPTIMIZERS = ("sgd", "adam")


def _reference_env_kwargs() -> dict[str, Any]:
    return {"max_cycles": 150}


@dataclass
class LOLADiCEConfig(LearnerConfig):
    """LOLA-DiCE settings; the defaults are the published IPD run (see the module docstring)."""

    env_kwargs: dict[str, Any] = field(default_factory=_reference_env_kwargs)
    """the env's own arguments (the reference IPD: 150 rounds per episode)"""
    num_envs: int = 64
    """games per batch (the reference: 64)"""
    lr: float = 0.2
    """learning rate of the outer step, the agent's own update (lr_outer)"""
    lr_inner: float = 0.1
    """learning rate of the opponent's imagined naive steps (lr_inner); 0: no lookahead, the
    naive DiCE learner"""
    inner_steps: int = 2
    """imagined naive steps of the opponent the outer gradient differentiates through"""
    optimizer: str = "sgd"
    """optimizer of the outer step and of the critic: sgd (the reference) or adam"""
    policy_model: str = "tabular"
    """tabular (one logit per observation entry and action, the reference's SimplePolicy: on a
    one-hot observation, a table of memory-one logits) or gru (dense layers, a GRU, logits)"""
    baseline: str = "batch_mean"
    """variance reduction of the DiCE objective: none; batch_mean (each step's discounted
    reward centred over the batch, the reference's no-baseline run); critic (loaded DiCE with
    GAE advantages of a learned value function)"""
    gae_lambda: float = 1.0
    """GAE lambda of the loaded-DiCE advantages (baseline critic)"""
    lr_value: float = 0.1
    """learning rate of the value function (trained in every run; read by baseline critic)"""
    value_updates: int = 5
    """value-function steps per iteration, on the iteration's first rollout"""
    opponent_model: bool = False
    """learn the opponent by behaviour cloning of its actions and look ahead through the model
    (the imagined rollouts then play against the model) instead of the opponent's true
    parameters"""
    lr_om: float = 0.1
    """learning rate of the opponent model's behaviour cloning and of its value function"""
    om_updates: int = 5
    """opponent-model steps per iteration, on the iteration's first rollout"""
    ent_coef: float = 0.0
    """weight of an entropy bonus in the outer objective (the reference: none)"""
    max_grad_norm: float = 0.0
    """clip the outer gradient to this global norm (0, the reference: no clipping)"""
    init_scale: float = 1.0
    """the tabular logits start from a normal of standard deviation init_scale /
    sqrt(observation size), truncated at 2 (the reference's initialiser); 0: all zero"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if int(self.inner_steps) < 1:
            raise ValueError(
                f"inner_steps must be at least 1, got {self.inner_steps} (lr_inner=0 gives the "
                "naive learner)"
            )
        for name in ("value_updates", "om_updates"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        for name in ("lr_inner", "lr_value", "lr_om", "ent_coef", "max_grad_norm", "init_scale"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(f"gae_lambda must be in [0, 1], got {self.gae_lambda}")
        for name, choices in (
            ("policy_model", POLICY_MODELS),
            ("baseline", BASELINES),
            ("optimizer", OPTIMIZERS),
        ):
            if getattr(self, name) not in choices:
                raise ValueError(
                    f"{name} must be one of {list(choices)}, got {getattr(self, name)!r}"
                )
        if self.target_tau != 1.0:
            raise ValueError("target_tau must be 1: LOLA-DiCE keeps no target network")


__all__ = ["BASELINES", "OPTIMIZERS", "POLICY_MODELS", "LOLADiCEConfig"]
