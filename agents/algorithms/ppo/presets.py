"""Presets of naive PPO: the contrasts of the opponent-shaping presets, on the same budgets."""

from __future__ import annotations

from dataclasses import replace

from agents.algorithms.core.presets import collect_presets
from agents.algorithms.ppo.learner import PPOConfig


def ppo_ipd() -> PPOConfig:
    """The naive contrast of aa_ipd.

    Self-play PPO with the same linear networks, batch and learning rate, 100 iterations (it has
    defected for good by then).
    """
    return PPOConfig(
        env_id="ipd_v0",
        self_play=True,
        num_envs=256,
        iterations=100,
        encoder="mlp",
        hidden_sizes=(),
        lr=0.01,
        checkpoint_every=50,
    )


def ppo_negotiation() -> PPOConfig:
    """The naive contrast of the CPU-sized Negotiation AA presets.

    Self-play PPO with the same networks, batch, learning rate and budget (PPO's own defaults
    otherwise: clip 0.2, 2 epochs, 4 minibatches).
    """
    return PPOConfig(
        env_id="negotiation_v0",
        env_kwargs={"max_cycles": 50},
        self_play=True,
        num_envs=256,
        gamma=0.96,
        lr=1e-3,
        ent_coef=0.005,
        encoder="gru",
        hidden_sizes=(64,),
        gru_size=64,
        iterations=600,
        checkpoint_every=50,
    )


def ppo_negotiation_continuous() -> PPOConfig:
    """ppo_negotiation with continuous proposals (tanh-squashed Gaussian), 1000 iterations."""
    return replace(
        ppo_negotiation(),
        env_kwargs={"max_cycles": 50, "continuous": True},
        iterations=1000,
        checkpoint_every=100,
    )


PRESETS = collect_presets(ppo_ipd, ppo_negotiation, ppo_negotiation_continuous)
