"""Presets of POLA-DiCE: the POLA README's command lines and their CPU reductions.

``pola_ipd`` and ``pola_coin`` hold every value of the README's POLA-DiCE commands
(``Silent-Zebra/POLA@b248b52``, section "Commands used for Figure 4" and "Figure 5"); the
``_cpu`` presets shrink the batch, the outer steps and the updates to what one CPU core runs in
a few hours, keeping every other value (their docstrings say what was cut).
"""

from __future__ import annotations

from dataclasses import replace

from agents.algorithms.core.presets import collect_presets
from agents.algorithms.pola.config import POLAConfig


def pola_ipd() -> POLAConfig:
    """The POLA README's IPD POLA-DiCE command (the config's defaults).

    GRU policy and values (one dense layer of 64, GRU 64) on the full history, contribution
    factor 1.33, 2000 games of 50 rounds per rollout, 101 updates of 200 outer Adam steps (lr
    0.003, beta_outer 100) through 2 imagined SGD steps of the opponent (lr 0.005, beta_inner 10),
    values at lr 0.0005, loaded DiCE with GAE(lambda 1), gamma 0.96, seed 1. Far beyond a CPU:
    about 120 million rollout games per agent.
    """
    return POLAConfig(
        env_id="ipd_v0",
        env_kwargs={"max_cycles": 50, "payoffs": "ipd_pola"},
        num_envs=2000,
        iterations=101,
        seed=1,
        gamma=0.96,
        policy_model="gru",
        hidden_sizes=(64,),
        gru_size=64,
        inner_steps=2,
        outer_steps=200,
        lr_inner=0.005,
        lr=0.003,
        lr_value=0.0005,
        beta_inner=10.0,
        beta_outer=100.0,
        optimizer="adam",
        baseline="critic",
        gae_lambda=1.0,
        checkpoint_every=10,
    )


def pola_ipd_cpu() -> POLAConfig:
    """pola_ipd cut to one CPU core: 200 games per rollout, 50 outer steps, 36 updates.

    Every other value is the README's. The batch is 10x smaller (noisier gradients, which the
    KL terms keep in check), each update takes a quarter of the outer steps (it moves the policy
    less far from its reference), and the run has 36 updates instead of 101; checkpoints every
    2. Measured: about 2.9 s per outer step of one agent on one (shared) core, so about 5 min
    per update and 3 h per seed.
    """
    return replace(pola_ipd(), num_envs=200, outer_steps=50, iterations=36, checkpoint_every=2)


def pola_coin() -> POLAConfig:
    """The POLA README's Coin Game POLA-DiCE command (edited July 3, 2023).

    3x3 board, 50 steps, 1000 games per rollout, 251 updates of 200 outer Adam steps (lr 0.003,
    beta_outer 150) through 4 imagined SGD steps of the opponent (lr 0.01, beta_inner 5), values
    at lr 0.0005, GRU 64 after one dense layer of 64, loaded DiCE with GAE(lambda 1), gamma 0.96,
    seed 7, checkpoints every 25 updates.
    """
    return replace(
        pola_ipd(),
        env_id="coin_game_v0",
        env_kwargs={"grid_size": 3, "max_cycles": 50},
        num_envs=1000,
        iterations=251,
        seed=7,
        inner_steps=4,
        outer_steps=200,
        lr_inner=0.01,
        beta_inner=5.0,
        beta_outer=150.0,
        checkpoint_every=25,
    )


def pola_coin_cpu() -> POLAConfig:
    """pola_coin cut to one CPU core: 100 games per rollout, 20 outer steps, 25 updates.

    Every other value is the README's (4 imagined steps, the KL weights 5 and 150, the learning
    rates, the GRU). A Coin Game outer step plays 5 rollouts and backpropagates through 4
    imagined steps: measured 19 s per outer step of one agent at 100 games with five jobs
    sharing the 2-core machine, so this run is about 1000 outer steps, 5 h at that rate. Not
    yet run to the end: what it learns is not measured.
    """
    return replace(pola_coin(), num_envs=100, outer_steps=20, iterations=25, checkpoint_every=2)


PRESETS = collect_presets(pola_ipd, pola_ipd_cpu, pola_coin, pola_coin_cpu)
