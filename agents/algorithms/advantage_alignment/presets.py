"""Presets of Advantage Alignment and Proximal Advantage Alignment.

``*_paper`` presets copy the reference code's configs (``jduquevan/advantage-alignment``,
branch ``eg`` @e99df9c: ``configs/eg.yaml``, ``configs/eg_cont.yaml``; branch
``raz_meltingpot`` @3ae392a: ``configs/eg_proximal.yaml``). Their batch sizes and GRU widths
(8192 games, 512 units) are far beyond a laptop CPU; the presets without the suffix are sized
for one and say what they change.
"""

from __future__ import annotations

from typing import Any

from agents.algorithms.advantage_alignment.config import (
    AdvantageAlignmentConfig,
    ProximalAdvantageAlignmentConfig,
)
from agents.algorithms.core.presets import collect_presets

#: the reference's optimisation loop (eg:train.py, train_step and train_loop): separate actor
#: and critic Adam steps with separate gradient clips, an unweighted critic loss, one update
#: per seat in turn in self-play, and advantages not standardised
_REFERENCE_LOOP: dict[str, Any] = {
    "separate_critic_optimizer": True,
    "seat_by_seat": True,
    "vf_coef": 1.0,
    "normalize_advantages": False,
}

#: the loop our CPU recipes were tuned with: one Adam step on the summed loss, one joint clip
_JOINT_LOOP: dict[str, Any] = {
    "separate_critic_optimizer": False,
    "seat_by_seat": False,
    "vf_coef": 0.5,
    "normalize_advantages": True,
}

#: eg:configs/eg.yaml, the reference discrete Negotiation config (AA, not proximal)
_NEGOTIATION_REFERENCE: dict[str, Any] = {
    **_REFERENCE_LOOP,
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

#: the reference Negotiation config with a CPU's batch, network and a faster target critic
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

#: the CPU recipe under which AA cooperates in the Negotiation Game: separate actor and critic
#: encoders, and a stationary TD(0) critic (it bootstraps the truncated end and is fitted 30
#: iterations before the actor moves); A1 and A2 standardised, the paper's discounted sum,
#: beta 1
_NEGOTIATION_STATIONARY_CRITIC: dict[str, Any] = dict(
    _NEGOTIATION_CPU,
    **_JOINT_LOOP,
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


def aa_ipd() -> AdvantageAlignmentConfig:
    """CPU IPD preset (the paper gives no IPD hyperparameters).

    Linear networks on the one-hot memory-one state, 256 games x 50 steps, beta 10, TD(0) advantages
    from a critic that bootstraps the truncated end, a 30x faster critic and 30 critic-only warm-up
    iterations; 850 iterations, about 13 s per seed.
    """
    return AdvantageAlignmentConfig(
        env_id="ipd_v0",
        self_play=True,
        num_envs=256,
        iterations=850,
        encoder="mlp",
        hidden_sizes=(),
        aa_beta=10.0,
        lr=0.01,
        critic_lr=0.3,
        critic_loss="mse",
        critic_warmup=30,
        target_tau=1.0,
        gae_lambda=0.0,
        critic_target="gae",
        bootstrap_truncation=True,
        checkpoint_every=50,
    )


def aa_negotiation_paper() -> AdvantageAlignmentConfig:
    """The reference discrete Negotiation config (eg:configs/eg.yaml).

    Batch 8192, GRU and MLP of width 512, beta 0.3 with the code's running mean, interpolate Huber
    critic, Polyak 0.005. Our GRU encoder has one GRU layer after the dense layers (the reference:
    3). Infeasible on a 2-core CPU. The reference's optimisation loop: separate actor and critic
    steps and clips, seat by seat, no advantage standardisation.
    """
    return AdvantageAlignmentConfig(**_NEGOTIATION_REFERENCE, iterations=1000)


def aa_negotiation() -> AdvantageAlignmentConfig:
    """CPU-sized discrete Negotiation AA.

    The reference config with 256 games per batch, a GRU of width 64 after one dense layer of 64, lr
    1e-3 and a faster target critic (tau 0.05), 600 iterations. With the reference's optimisation
    loop.
    """
    return AdvantageAlignmentConfig(**_NEGOTIATION_CPU)


def paa_negotiation_paper() -> ProximalAdvantageAlignmentConfig:
    """The reference proximal Negotiation config (raz_meltingpot:configs/eg_proximal.yaml).

    Clip 0.15, entropy 0.2, beta 0.05, 2 epochs, Monte-Carlo critic targets, batch 512. The
    reference's optimisation loop, as aa_negotiation_paper.
    """
    return ProximalAdvantageAlignmentConfig(
        **dict(
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
        )
    )


def paa_negotiation() -> ProximalAdvantageAlignmentConfig:
    """CPU-sized discrete Negotiation PAA.

    (clip 0.2, 2 epochs x 4 minibatches) on 256 games x 50 rounds, GRU of width 64, separate actor
    and critic encoders, a stationary TD(0) critic (bootstraps the truncated end, lr 3e-3, 30
    critic-only warm-up iterations), A1 and A2 standardised, the paper's discounted sum, beta 1,
    entropy 0.02, learning rates annealed linearly to 0 over 1000 iterations; about 9 minutes per
    seed.
    """
    return ProximalAdvantageAlignmentConfig(
        **dict(
            _NEGOTIATION_STATIONARY_CRITIC,
            proximal=True,
            ent_coef=0.02,
            anneal_lr=True,
            iterations=1000,
        )
    )


def paa_negotiation_continuous() -> ProximalAdvantageAlignmentConfig:
    """paa_negotiation with continuous proposals (tanh-squashed Gaussian).

    No learning-rate schedule, entropy 0.005, lr 3e-4, beta moved linearly from 1 to 0.3 over 2000
    iterations (aa_beta_end); about 24 minutes per seed.
    """
    return ProximalAdvantageAlignmentConfig(
        **dict(
            _NEGOTIATION_STATIONARY_CRITIC,
            env_kwargs={"max_cycles": 50, "continuous": True},
            proximal=True,
            aa_beta=1.0,
            aa_beta_end=0.3,
            ent_coef=0.005,
            lr=3e-4,
            iterations=2000,
            checkpoint_every=100,
        )
    )


def aa_negotiation_continuous_paper() -> AdvantageAlignmentConfig:
    """The paper's continuous Negotiation AA (eg:league/cont_league.py with eg_cont.yaml).

    Tanh-squashed Gaussian proposals, not proximal, beta 3, T 50, batch 16384, lr 1e-3, entropy
    0.005, log-probs clamped at -10, grad clip 1, Monte-Carlo critic, trajectory replay buffer of
    100000 games (500 pushed per batch, 5% of each batch replayed). The reference's optimisation
    loop, as aa_negotiation_paper.
    """
    return AdvantageAlignmentConfig(
        **dict(
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
        )
    )


def aa_negotiation_continuous() -> AdvantageAlignmentConfig:
    """CPU-sized continuous Negotiation AA.

    Aa_negotiation_continuous_paper (beta 3, Monte-Carlo critic, log-probs clamped at -10, grad clip
    1, lr 1e-3) with 256 games per batch, a GRU of width 64 after one dense layer of 64, a faster
    target critic (tau 0.05) and 1000 iterations. With the reference's optimisation loop.
    """
    return AdvantageAlignmentConfig(
        **dict(
            _NEGOTIATION_CPU,
            env_kwargs={"max_cycles": 50, "continuous": True},
            aa_beta=3.0,
            max_grad_norm=1.0,
            log_prob_min=-10.0,
            critic_target="mc",
            iterations=1000,
            checkpoint_every=100,
        )
    )


def aa_coin_paper() -> AdvantageAlignmentConfig:
    """Policy-gradient AA in the Coin Game 3x3, T 50, with the AA-NB checkpoints' settings.

    Most of the stored hyperparameters of the paper's Coin Game AA checkpoints (AA-NB in
    MiladInk/loqa@32f50c9): actor lr 1e-3, critic lr 1e-2, grad clip 10, batch 512, GRU 64 after one
    dense layer, agent replay buffer of 10000 snapshots pushed every 10 iterations. Differences: A*
    in the Melting Pot code's form (standardised A1 and A2, running mean, beta 1) instead of LOQA's
    estimator with a stop-gradient normaliser (that is aa_nb_coin), half of the games against a past
    self, entropy 0.01 and a target critic at tau 0.05. With the AA reference's optimisation loop
    (separate actor and critic steps and clips, seat by seat, no advantage standardisation).
    """
    return AdvantageAlignmentConfig(
        env_id="coin_game_v0",
        env_kwargs={"max_cycles": 50},
        self_play=True,
        num_envs=512,
        gamma=0.96,
        lr=1e-3,
        critic_lr=1e-2,
        ent_coef=0.01,
        max_grad_norm=10.0,
        encoder="gru",
        hidden_sizes=(64,),
        gru_size=64,
        aa_beta=1.0,
        aa_running_mean=True,
        aa_normalize_first=True,
        target_tau=0.05,
        replay_fraction=0.5,
        replay_capacity=10000,
        replay_push_every=10,
        iterations=6000,
        checkpoint_every=100,
        **_REFERENCE_LOOP,
    )


PRESETS = collect_presets(
    aa_ipd,
    aa_negotiation_paper,
    aa_negotiation,
    paa_negotiation_paper,
    paa_negotiation,
    paa_negotiation_continuous,
    aa_negotiation_continuous_paper,
    aa_negotiation_continuous,
    aa_coin_paper,
)
