"""Named hyperparameter presets: the reference configurations and CPU-sized ones.

A preset is an algorithm name plus config field values; ``socialdilemmas train --preset NAME``
starts from it and any option typed on the command line overrides it. From Python::

    config = preset_config("aa_ipd", seed=3)       # an AdvantageAlignmentConfig
    learner = train(config, PRESETS["aa_ipd"].algorithm)

``*_paper`` presets copy the reference code's configs (``jduquevan/advantage-alignment``, read
in ``shared/spec/ALGORITHMS.md`` sections 2.5, 2.6 and 5). Their batch sizes and GRU widths
(8192 games, 512 units) are far beyond a laptop CPU; the presets without the suffix are the
CPU-sized ones used for ``docs/results.md``, and each says what it changes and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents.algorithms import get_algorithm
from agents.algorithms.base import LearnerConfig


@dataclass(frozen=True)
class Preset:
    """An algorithm and the config values that differ from its defaults."""

    algorithm: str
    """registered algorithm name (``agents.algorithms.ALGORITHMS``)"""
    description: str
    """where the values come from and what was changed"""
    values: dict[str, Any] = field(default_factory=dict)
    """config field values"""


_NEGOTIATION_REFERENCE = {
    # eg:configs/eg.yaml (discrete exchange game, AA, not proximal)
    "env_id": "negotiation_v0",
    "env_kwargs": {"max_cycles": 50},
    "self_play": True,
    "num_envs": 8192,
    "gamma": 0.96,
    "target_tau": 0.005,
    "lr": 5e-4,
    "ent_coef": 0.005,
    "aa_beta": 0.3,
    "aa_running_mean": True,
    "max_grad_norm": 42.0,
    "encoder": "gru",
    "hidden_sizes": (512, 512, 512),
    "gru_size": 512,
    "share_encoder": True,
    "critic_target": "interpolate",
    "critic_loss": "huber",
    "proximal": False,
}

# the reference Negotiation config sized for a CPU (the aa_negotiation preset)
_NEGOTIATION_CPU: dict[str, Any] = dict(
    _NEGOTIATION_REFERENCE,
    num_envs=256,
    hidden_sizes=(64,),
    gru_size=64,
    lr=1e-3,
    target_tau=0.05,
    iterations=600,
    checkpoint_every=50,
)

# The CPU recipe under which Advantage Alignment cooperates in the Negotiation Game
# (docs/results.md, "Negotiation Game"): separate actor and critic encoders (a shared one is
# pulled into saturation by the critic's regression on returns of about 8 and the policy stops
# seeing the item values), and the IPD recipe's stationary critic, so that the past-advantage
# sum of A* is centred: TD(0) advantages from a critic that bootstraps the truncated end,
# fitted 30 iterations before the actor moves. A1 and A2 standardised, the paper's
# discounted sum, beta 1.
_NEGOTIATION_STATIONARY_CRITIC: dict[str, Any] = dict(
    _NEGOTIATION_CPU,
    share_encoder=False,
    aa_beta=1.0,
    aa_running_mean=False,
    aa_normalize_first=True,
    gae_lambda=0.0,
    critic_target="gae",
    bootstrap_truncation=True,
    critic_loss="mse",
    critic_lr=3e-3,
    critic_warmup=30,
    target_tau=1.0,
)

# the naive PPO contrast of the CPU-sized Negotiation AA presets
_PPO_NEGOTIATION: dict[str, Any] = {
    "env_id": "negotiation_v0",
    "env_kwargs": {"max_cycles": 50},
    "self_play": True,
    "num_envs": 256,
    "gamma": 0.96,
    "lr": 1e-3,
    "ent_coef": 0.005,
    "encoder": "gru",
    "hidden_sizes": (64,),
    "gru_size": 64,
    "iterations": 600,
    "checkpoint_every": 50,
}

PRESETS: dict[str, Preset] = {
    "aa_ipd": Preset(
        "aa",
        "CPU IPD preset (ours; the paper gives no IPD hyperparameters). Tabular-equivalent "
        "networks (linear on the one-hot memory-one state), 256 games x 50 steps, beta 10, "
        "TD(0) advantages from a critic that bootstraps the truncated end (stationary values a "
        "memory-one critic can fit), a 30x faster critic (Adam moves a linear critic by about "
        "lr per step, and the values are about -40) and 30 critic-only warm-up iterations. "
        "About 13 s per seed. Reciprocity appears at iteration ~550; after that P(C | start) "
        "keeps rising while forgiveness P(C | DC) decays (0.97 at 600, 0.32 at 850, 0.15 at "
        "1000): 850 iterations is where tit-for-tat-like play and a self-play reward above "
        "-1.1 hold together (docs/results.md has the whole course).",
        {
            "env_id": "ipd_v0",
            "self_play": True,
            "num_envs": 256,
            "iterations": 850,
            "encoder": "mlp",
            "hidden_sizes": (),
            "aa_beta": 10.0,
            "lr": 0.01,
            "critic_lr": 0.3,
            "critic_loss": "mse",
            "critic_warmup": 30,
            "target_tau": 1.0,
            "gae_lambda": 0.0,
            "critic_target": "gae",
            "bootstrap_truncation": True,
            "checkpoint_every": 50,
        },
    ),
    "aa_negotiation_paper": Preset(
        "aa",
        "The reference discrete Negotiation config (eg:configs/eg.yaml): batch 8192, GRU and MLP "
        "of width 512, beta 0.3 with the code's running mean, interpolate Huber critic, Polyak "
        "0.005. Our GRU encoder has one GRU layer after the dense layers (the reference: 3). "
        "Infeasible on a 2-core CPU.",
        dict(_NEGOTIATION_REFERENCE, iterations=1000),
    ),
    "aa_negotiation": Preset(
        "aa",
        "CPU-sized discrete Negotiation preset: the reference config with 256 games per batch, "
        "a GRU of width 64 after one dense layer of 64, lr 1e-3 and a faster target critic "
        "(tau 0.05) to make up for the far fewer, smaller batches. It ends at always-defect "
        "(docs/results.md); paa_negotiation is the CPU-sized preset that cooperates.",
        _NEGOTIATION_CPU,
    ),
    "paa_negotiation_paper": Preset(
        "paa",
        "The reference proximal Negotiation config (raz_meltingpot:configs/eg_proximal.yaml): "
        "clip 0.15, entropy 0.2, beta 0.05, 2 epochs, Monte-Carlo critic targets, batch 512.",
        dict(
            _NEGOTIATION_REFERENCE,
            num_envs=512,
            proximal=True,
            clip_coef=0.15,
            ent_coef=0.2,
            aa_beta=0.05,
            update_epochs=2,
            num_minibatches=1,
            critic_target="mc",
            iterations=1000,
        ),
    ),
    "paa_negotiation": Preset(
        "paa",
        "CPU-sized discrete Negotiation preset that cooperates: Proximal Advantage Alignment "
        "(clip 0.2, 2 epochs x 4 minibatches) on 256 games x 50 rounds, GRU of width 64, with "
        "separate actor and critic encoders and a stationary TD(0) critic (bootstraps the "
        "truncated end, lr 3e-3, 30 critic-only warm-up iterations); A1 and A2 standardised, "
        "the paper's discounted sum, beta 1; entropy 0.02 (at the reference's 0.005 one seed "
        "in two locked into always-defect by iteration 100 and stayed there); learning rates "
        "annealed linearly to 0 over the 1000 iterations (without it the runs swing to the "
        "end and one seed in ten fell back to always-defect: 0.389 +- 0.036 over 10 seeds). "
        "Ten seeds: 0.407 +- 0.020 per round, eight at 0.41-0.42, none exploited by "
        "always-defect (docs/results.md). About 9 minutes per seed.",
        dict(
            _NEGOTIATION_STATIONARY_CRITIC,
            proximal=True,
            ent_coef=0.02,
            anneal_lr=True,
            iterations=1000,
        ),
    ),
    "paa_negotiation_continuous": Preset(
        "paa",
        "paa_negotiation with continuous proposals (tanh-squashed Gaussian), without its "
        "learning-rate schedule (with it the runs ended lower), entropy 0.005, lr 3e-4 (at "
        "entropy 0.02 it stayed at 0.36-0.37; at lr 1e-3 it reached 0.48 at iteration 250 "
        "and fell back to 0.35), 2000 iterations, and beta moved linearly from 1 to 0.3 over "
        "the run (aa_beta_end): a large beta leaves always-defect early, a small one cooperates "
        "more fully once out. A constant beta 1 held 0.36-0.39; 0.5 left always-defect only "
        "after 700-1080 iterations and ended at 0.395-0.398; 0.3 left it in one seed of two. "
        "With the schedule every seed leaves it by iteration 400 and four end at "
        "0.415-0.452 (0.433 +- 0.015), none exploited (docs/results.md). About 24 minutes "
        "per seed.",
        dict(
            _NEGOTIATION_STATIONARY_CRITIC,
            env_kwargs={"max_cycles": 50, "continuous": True},
            proximal=True,
            aa_beta=1.0,
            aa_beta_end=0.3,
            ent_coef=0.005,
            lr=3e-4,
            iterations=2000,
            checkpoint_every=100,
        ),
    ),
    "aa_negotiation_continuous_paper": Preset(
        "aa",
        "The paper's continuous Negotiation AA (eg:league/cont_league.py with eg_cont.yaml): "
        "tanh-squashed Gaussian proposals, not proximal, beta 3, T 50, batch 16384, lr 1e-3, "
        "entropy 0.005, log-probs clamped at -10, grad clip 1, Monte-Carlo critic, trajectory "
        "replay buffer of 100000 games (500 pushed per batch, 5% of each batch replayed).",
        dict(
            _NEGOTIATION_REFERENCE,
            env_kwargs={"max_cycles": 50, "continuous": True},
            num_envs=16384,
            lr=1e-3,
            aa_beta=3.0,
            max_grad_norm=1.0,
            log_prob_min=-10.0,
            critic_target="mc",
            hidden_sizes=(512, 512),
            trajectory_replay_fraction=0.05,
            trajectory_replay_capacity=100000,
            trajectory_replay_push=500,
            iterations=1000,
        ),
    ),
    "aa_negotiation_continuous": Preset(
        "aa",
        "CPU-sized continuous Negotiation preset: aa_negotiation_continuous_paper (beta 3, "
        "Monte-Carlo critic, log-probs clamped at -10, grad clip 1, lr 1e-3) with 256 games per "
        "batch, a GRU of width 64 after one dense layer of 64, a faster target critic (tau "
        "0.05) and 1000 iterations.",
        dict(
            _NEGOTIATION_CPU,
            env_kwargs={"max_cycles": 50, "continuous": True},
            aa_beta=3.0,
            max_grad_norm=1.0,
            log_prob_min=-10.0,
            critic_target="mc",
            iterations=1000,
            checkpoint_every=100,
        ),
    ),
    "ppo_ipd": Preset(
        "ppo",
        "The naive baseline for aa_ipd: self-play PPO with the same linear networks, batch and "
        "learning rate, 100 iterations (it has defected for good by then).",
        {
            "env_id": "ipd_v0",
            "self_play": True,
            "num_envs": 256,
            "iterations": 100,
            "encoder": "mlp",
            "hidden_sizes": (),
            "lr": 0.01,
            "checkpoint_every": 50,
        },
    ),
    "ppo_negotiation": Preset(
        "ppo",
        "The naive baseline for aa_negotiation: self-play PPO with the same networks, batch, "
        "learning rate and budget (PPO's own defaults otherwise: clip 0.2, 2 epochs, 4 "
        "minibatches).",
        _PPO_NEGOTIATION,
    ),
    "ppo_negotiation_continuous": Preset(
        "ppo",
        "The naive baseline for aa_negotiation_continuous: ppo_negotiation with continuous "
        "proposals (tanh-squashed Gaussian) and the same budget.",
        dict(
            _PPO_NEGOTIATION,
            env_kwargs={"max_cycles": 50, "continuous": True},
            iterations=1000,
            checkpoint_every=100,
        ),
    ),
    "aa_coin_paper": Preset(
        "aa",
        "Coin Game 3x3, T 50, with most of the stored hyperparameters of the paper's Coin Game AA "
        "checkpoints (AA-NB in MiladInk/loqa): actor lr 1e-3, critic lr 1e-2, entropy 0.1, grad "
        "clip 10, batch 512, GRU 64 after one dense layer, agent replay buffer 10000 snapshots "
        "pushed every 10 iterations. Differences: those runs used LOQA's estimator with a "
        "stop-gradient normaliser, here it is A*; LOQA plays every episode against a past self, "
        "here half of them (replay_fraction 0.5); entropy 0.01, not 0.1: with our standardised "
        "advantages 0.1 kept the policy uniform (measured: entropy ln 4 after 140 iterations). "
        "A* in the Melting Pot code's form (standardised A1 and A2, running mean, beta 1) and "
        "a target critic at tau 0.05: with the paper's discounted sum on raw advantages and "
        "tau 0.005 the shaping term's noise swamped A1 and the policy stayed uniform for 175 "
        "iterations.",
        {
            "env_id": "coin_game_v0",
            "env_kwargs": {"max_cycles": 50},
            "self_play": True,
            "num_envs": 512,
            "gamma": 0.96,
            "lr": 1e-3,
            "critic_lr": 1e-2,
            "ent_coef": 0.01,
            "max_grad_norm": 10.0,
            "encoder": "gru",
            "hidden_sizes": (64,),
            "gru_size": 64,
            "aa_beta": 1.0,
            "aa_running_mean": True,
            "aa_normalize_first": True,
            "target_tau": 0.05,
            "replay_fraction": 0.5,
            "replay_capacity": 10000,
            "replay_push_every": 10,
            "iterations": 6000,
            "checkpoint_every": 100,
        },
    ),
}


def preset_config(name: str, **overrides: Any) -> LearnerConfig:
    """Return the config of preset ``name`` (its algorithm's config class) with ``overrides``."""
    try:
        preset = PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {sorted(PRESETS)}") from None
    config_class, _ = get_algorithm(preset.algorithm)
    return config_class.from_dict({**preset.values, **overrides})


__all__ = ["PRESETS", "Preset", "preset_config"]
