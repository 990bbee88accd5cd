"""Presets of LOQA: the reference runs of ``MiladInk/loqa@32f50c9`` and CPU-sized variants.

The per-iteration cost is linear in the batch, so the CPU variants mostly shrink it. The AA
paper's Coin Game AA ("AA-NB" in the LOQA repository's league checkpoints) is LOQA's estimator
with a stop-gradient normaliser, so its presets live here too.
"""

from __future__ import annotations

from dataclasses import replace

from agents.algorithms.core.presets import collect_presets
from agents.algorithms.loqa.config import LOQAConfig


def loqa_coin_iclr() -> LOQAConfig:
    """The README's Coin Game command (hp=loqa_iclr with its overrides).

    3x3, T 50, batch 512, 6000 iterations, GRU actor (2 dense layers of 128, GRU 128) and GRU
    Q-critic (64), actor lr 1e-3, critic lr 1e-2, entropy 0.1, EMA 0.99, agent buffer of 10000
    pushed every 10.
    """
    return LOQAConfig(
        env_id="coin_game_v0",
        env_kwargs={"grid_size": 3, "max_cycles": 50},
        num_envs=512,
        iterations=6000,
        self_play=True,
        lr=1e-3,
        critic_lr=1e-2,
        ent_coef=0.1,
        gamma=0.96,
        actor_model="gru",
        hidden_sizes=(128, 128),
        gru_size=128,
        critic_encoder="gru",
        critic_hidden_sizes=(64, 64),
        critic_gru_size=64,
        target_tau=0.01,
        lambda_d=0.9,
        softmax_temp=1.0,
        max_grad_norm=1.0,
        critic_mode="mean",
        agent_buffer=True,
        buffer_capacity=10000,
        buffer_push_every=10,
        cur_agent_frac=0.0,
        epsilon_greedy=0.0,
    )


def loqa_ipd_logits() -> LOQAConfig:
    """The README's IPD command (hp=logits).

    Tabular logits, batch 2048, T 50, SARSA-like Q targets from an MLP critic (relu, raw time
    index), epsilon-greedy 0.2, self-play against the current agent, no gradient clipping, 1000
    iterations.
    """
    return LOQAConfig(
        env_id="ipd_v0",
        env_kwargs={"max_cycles": 50},
        num_envs=2048,
        iterations=1000,
        self_play=True,
        lr=1e-3,
        critic_lr=1e-2,
        ent_coef=0.0,
        gamma=0.96,
        actor_model="logits",
        critic_encoder="mlp",
        critic_hidden_sizes=(16, 16),
        critic_activation="relu",
        critic_time_input="raw",
        target_tau=0.01,
        lambda_d=0.9,
        softmax_temp=1.0,
        max_grad_norm=0.0,
        critic_mode="mean",
        agent_buffer=False,
        cur_agent_frac=1.0,
        epsilon_greedy=0.2,
    )


def loqa_coin_cpu() -> LOQAConfig:
    """loqa_coin_iclr with 128 games per batch."""
    return replace(loqa_coin_iclr(), num_envs=128, iterations=6000)


def loqa_ipd_cpu() -> LOQAConfig:
    """loqa_ipd_logits sized for a CPU, with a critic fitted first and kept fitted.

    256 games, actor lr 3e-3, squared-error critic (huber_delta 100) at lr 0.03 with 5 steps per
    iteration and EMA rate 0.1, a terminal episode end and 100 critic-only iterations; about 50 s
    per seed.
    """
    return replace(
        loqa_ipd_logits(),
        num_envs=256,
        iterations=1000,
        lr=3e-3,
        critic_lr=0.03,
        huber_delta=100.0,
        critic_updates=5,
        target_tau=0.1,
        bootstrap_end=False,
        actor_warmup=100,
    )


def aa_nb_coin() -> LOQAConfig:
    """The AA paper's Coin Game AA as its checkpoints were trained.

    (AA-NB in MiladInk/loqa's league): LOQA's estimator with a stop-gradient normaliser and the
    checkpoints' stored hyperparameters (actor: one dense layer of 64 then GRU 64; gradient clip
    10); the Q-critic, not stored, is loqa_coin_iclr's.
    """
    return replace(
        loqa_coin_iclr(),
        stop_grad_normalizer=True,
        hidden_sizes=(64,),
        gru_size=64,
        max_grad_norm=10.0,
    )


def aa_nb_coin_cpu() -> LOQAConfig:
    """aa_nb_coin with 128 games per batch.

    (a quarter of the samples per iteration) and 8000 iterations instead of 6000.
    """
    return replace(aa_nb_coin(), num_envs=128, iterations=8000)


def loqa_naive_coin_cpu() -> LOQAConfig:
    """The naive contrast of the Coin Game runs.

    Loqa_coin_cpu without the opponent term (w = 0), an actor-critic on TD(0) advantages of the same
    Q-critic, networks, buffer and budget.
    """
    return replace(loqa_coin_cpu(), opponent_weight=0.0)


PRESETS = collect_presets(
    loqa_coin_iclr,
    loqa_ipd_logits,
    loqa_coin_cpu,
    loqa_ipd_cpu,
    aa_nb_coin,
    aa_nb_coin_cpu,
    loqa_naive_coin_cpu,
)
