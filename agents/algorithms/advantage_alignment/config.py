"""Settings of Advantage Alignment (``aa``) and Proximal Advantage Alignment (``paa``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from agents.algorithms.core.on_policy import OnPolicyConfig
from agents.algorithms.core.returns import CRITIC_TARGETS


@dataclass
class AdvantageAlignmentConfig(OnPolicyConfig):
    """Advantage Alignment settings (defaults: the reference's, sized for a CPU).

    The reference Negotiation config (``eg:configs/eg.yaml``) is the preset
    ``aa_negotiation_paper`` (:mod:`agents.algorithms.advantage_alignment.presets`).
    """

    aa_beta: float = 0.3
    """alignment weight beta of A* (aa_weight in the reference; 0: the naive learner)"""
    aa_beta_end: float | None = None
    """move beta linearly from ``aa_beta`` at the first iteration to this value at the last
    (None: a constant beta, as the papers); the schedule follows ``iterations`` (not in the
    references)"""
    aa_running_mean: bool = False
    """use the reference code's running mean of past advantages instead of the paper's
    gamma-discounted sum (and no beta*gamma prefactor)"""
    aa_normalize_first: bool = False
    """standardise A1 and A2 over the batch before forming A* (the Melting Pot PAA code)"""
    proximal: bool = False
    """PAA: PPO's clipped surrogate with A* (otherwise the plain policy gradient with A*)"""
    clip_coef: float = 0.2
    """PAA clipping range epsilon of the probability ratio"""
    update_epochs: int = 1
    """passes over each batch (1 for AA; the proximal reference configs use 2)"""
    num_minibatches: int = 1
    """minibatches (of whole episodes) per pass"""
    critic_target: str = "interpolate"
    """critic regression target: gae (lambda-returns), td0, mc or interpolate (mean of the TD(0)
    and Monte-Carlo targets, the reference's default)"""
    critic_loss: str = "huber"
    """critic regression loss: mse or huber (the reference uses Huber)"""
    target_tau: float = 0.005
    """Polyak rate of the target critic used for advantages (the reference's 0.005)"""
    log_prob_min: float = 0.0
    """clamp log-probabilities (new and old alike) from below at this value in the actor loss,
    as the reference does with -10 for continuous actions (0: no clamp)"""
    critic_lr: float = 0.0
    """Adam learning rate of the critic's own parameters (value head and critic encoder; with
    separate_critic_optimizer, everything the critic reads); 0: lr. LOQA's reference uses 10x
    the actor's rate"""
    critic_warmup: int = 0
    """iterations at the start in which only the critic learns (the actor, entropy bonus
    included, is not updated), so that A1 and A2 come from a fitted critic (0: none; not in
    the reference)"""
    replay_fraction: float = 0.0
    """share of the games in which seat 1 is a past snapshot of the agent (self-play only)"""
    replay_capacity: int = 10000
    """snapshots the agent replay buffer keeps (oldest dropped)"""
    replay_push_every: int = 10
    """push a snapshot of the agent every this many iterations"""
    replay_snapshots: int = 4
    """distinct past snapshots sampled per iteration; the replay games are split among them"""
    trajectory_replay_fraction: float = 0.0
    """share of each update batch's games replaced by past games from a trajectory replay buffer
    (the reference's off_policy_ratio, 0.05 in its continuous Negotiation config; 0: off)"""
    trajectory_replay_capacity: int = 10000
    """games the trajectory replay buffer keeps (oldest dropped; the reference: 100000)"""
    trajectory_replay_push: int = 64
    """fresh games added to the trajectory replay buffer after each update (the reference: 500)"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.critic_target not in CRITIC_TARGETS:
            raise ValueError(
                f"critic_target must be one of {list(CRITIC_TARGETS)}, got {self.critic_target!r}"
            )
        if self.clip_coef <= 0:
            raise ValueError(f"clip_coef must be positive, got {self.clip_coef}")
        for name in (
            "update_epochs",
            "num_minibatches",
            "replay_capacity",
            "replay_push_every",
            "replay_snapshots",
        ):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.num_minibatches > self.num_envs:
            raise ValueError(
                f"num_minibatches ({self.num_minibatches}) cannot exceed num_envs ({self.num_envs})"
            )
        if not 0.0 <= self.replay_fraction < 1.0:
            raise ValueError(f"replay_fraction must be in [0, 1), got {self.replay_fraction}")
        if self.replay_fraction > 0 and not self.self_play:
            raise ValueError("replay_fraction > 0 needs self_play (past copies of one agent)")
        if not 0.0 <= self.trajectory_replay_fraction < 1.0:
            raise ValueError(
                "trajectory_replay_fraction must be in [0, 1), got "
                f"{self.trajectory_replay_fraction}"
            )
        if self.trajectory_replay_fraction > 0:
            if self.replay_fraction > 0:
                raise ValueError(
                    "use either the agent replay buffer (replay_fraction) or the trajectory "
                    "replay buffer (trajectory_replay_fraction), not both"
                )
            if self.trajectory_replay_capacity < 1:
                raise ValueError(
                    "trajectory_replay_capacity must be at least 1, got "
                    f"{self.trajectory_replay_capacity}"
                )
            if not 1 <= self.trajectory_replay_push <= self.num_envs:
                raise ValueError(
                    f"trajectory_replay_push must be in [1, num_envs={self.num_envs}], got "
                    f"{self.trajectory_replay_push}"
                )
        if self.critic_lr < 0 or self.critic_warmup < 0:
            raise ValueError("critic_lr and critic_warmup must be >= 0")
        if self.bootstrap_truncation and self.critic_target != "gae":
            raise ValueError(
                "bootstrap_truncation needs critic_target='gae' (the td0, mc and interpolate "
                "targets end each episode without a bootstrap)"
            )
        if self.log_prob_min > 0:
            raise ValueError(f"log_prob_min must be <= 0 (0 disables), got {self.log_prob_min}")
        for name in ("aa_beta", "aa_beta_end"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")


@dataclass
class ProximalAdvantageAlignmentConfig(AdvantageAlignmentConfig):
    """Proximal Advantage Alignment: the AA settings with the PPO-clipped objective on."""

    proximal: bool = True
    """PAA: PPO's clipped surrogate with A* (otherwise the plain policy gradient with A*)"""
    update_epochs: int = 2
    """passes over each batch (2 as the proximal reference configs)"""
    num_minibatches: int = 4
    """minibatches (of whole episodes) per pass"""


__all__ = ["AdvantageAlignmentConfig", "ProximalAdvantageAlignmentConfig"]
