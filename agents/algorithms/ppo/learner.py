"""Independent PPO (clipped surrogate) and its summed-rewards variant.

Each agent maximises ``mean(min(rho * A, clip(rho, 1 - eps, 1 + eps) * A))`` with
``rho = pi(a | h) / pi_old(a | h)`` over ``update_epochs`` passes of ``num_minibatches``
minibatches of whole episodes (Schulman et al., "Proximal Policy Optimization Algorithms",
2017). With ``reward_sharing`` every seat is trained on the sum of both seats' rewards (the
"PPO-SR" baseline of the Advantage Alignment paper).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agents.algorithms.core.losses import ppo_clipped_loss, ppo_statistics
from agents.algorithms.core.on_policy import AgentBatch, OnPolicyConfig, OnPolicyLearner
from agents.policy import Policy


@dataclass
class PPOConfig(OnPolicyConfig):
    """Independent PPO settings."""

    clip_coef: float = 0.2
    """PPO clipping range epsilon of the probability ratio"""
    update_epochs: int = 2
    """passes over each batch (2 as the proximal Advantage Alignment configs; CleanRL uses 4)"""
    num_minibatches: int = 4
    """minibatches (of whole episodes) per pass"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.clip_coef <= 0:
            raise ValueError(f"clip_coef must be positive, got {self.clip_coef}")
        for name in ("update_epochs", "num_minibatches"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.num_minibatches > self.num_envs:
            raise ValueError(
                f"num_minibatches ({self.num_minibatches}) cannot exceed num_envs ({self.num_envs})"
            )


@dataclass
class PPOSummedConfig(PPOConfig):
    """PPO where every seat maximises the sum of both seats' rewards."""

    reward_sharing: bool = True
    """each seat is trained on the sum of both seats' rewards (the summed-rewards baseline)"""


class PPOLearner(OnPolicyLearner):
    """Naive independent PPO."""

    config_class = PPOConfig
    config: PPOConfig

    def __init__(self, config: PPOConfig, opponent: Policy | None = None) -> None:
        super().__init__(config, opponent)
        self.update_epochs = config.update_epochs
        self.num_minibatches = config.num_minibatches

    def policy_loss(
        self, log_probs: torch.Tensor, batch: AgentBatch
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Clipped surrogate loss; also reports the approximate KL and the clipped share."""
        eps = self.config.clip_coef
        loss = ppo_clipped_loss(log_probs, batch.old_log_probs, batch.advantages, eps)
        return loss, ppo_statistics(log_probs, batch.old_log_probs, eps)


class PPOSummedLearner(PPOLearner):
    """PPO on summed rewards (``reward_sharing`` on by default)."""

    config_class = PPOSummedConfig
