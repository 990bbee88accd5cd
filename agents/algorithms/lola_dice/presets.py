"""Presets of LOLA-DiCE: the published IPD runs and their naive contrast.

``lola_dice_ipd`` is the DiCE paper's IPD run as ``alshedivat/lola`` runs it
(``scripts/run_lola_dice.py`` at commit 9b9a212: batch 64, lr_inner 0.1; a later version of
the script uses batch 512 and lr_inner 0.3); ``lola_dice_ipd_pola_gru`` is the LOLA-DiCE
command of the POLA README (``Silent-Zebra/POLA@b248b52``).
"""

from __future__ import annotations

from dataclasses import replace

from agents.algorithms.core.presets import collect_presets
from agents.algorithms.lola_dice.config import LOLADiCEConfig


def lola_dice_ipd() -> LOLADiCEConfig:
    """The DiCE paper's IPD run (alshedivat/lola@9b9a212 scripts/run_lola_dice.py).

    Tabular memory-one logits, 64 games of 150 rounds, gamma 0.96, 2 imagined naive steps of the
    opponent at lr 0.1, outer SGD at lr 0.2, each step's discounted reward centred over the batch
    (no learned baseline), 200 iterations; both agents end near -1.1 per step.
    """
    return LOLADiCEConfig(
        env_id="ipd_v0",
        env_kwargs={"max_cycles": 150},
        num_envs=64,
        iterations=200,
        gamma=0.96,
        policy_model="tabular",
        inner_steps=2,
        lr_inner=0.1,
        lr=0.2,
        optimizer="sgd",
        baseline="batch_mean",
        checkpoint_every=50,
    )


def lola_dice_ipd_om() -> LOLADiCEConfig:
    """lola_dice_ipd looking ahead through behaviour-cloned opponent models.

    Each agent fits a tabular model of the other's policy by behaviour cloning, 25 SGD steps at lr
    0.1 per iteration on the iteration's games (the reference's 5 epochs of 4 minibatches and one
    full batch, scripts/run_lola_dice.py at alshedivat/lola@4db697a), and its imagined rollouts
    play against the model.
    """
    return replace(lola_dice_ipd(), opponent_model=True, lr_om=0.1, om_updates=25)


def naive_dice_ipd() -> LOLADiCEConfig:
    """The naive contrast of lola_dice_ipd: the same run without the lookahead (lr_inner 0).

    Each agent follows the DiCE policy gradient of its own return on the iteration's games;
    naive learners end near mutual defection (-2 per step).
    """
    return replace(lola_dice_ipd(), lr_inner=0.0)


def lola_dice_ipd_pola_gru() -> LOLADiCEConfig:
    """The POLA README's LOLA-DiCE IPD command.

    GRU policy and value (one dense layer of 64, GRU 64), POLA's payoffs (contribution factor
    1.33), 2000 games of 50 rounds, loaded DiCE on GAE(lambda 1) advantages, 1 imagined step at lr
    0.05, outer Adam at 0.003, value Adam at 0.0005 (one step per iteration), 20001 iterations.
    Far beyond a CPU.
    """
    return LOLADiCEConfig(
        env_id="ipd_v0",
        env_kwargs={"max_cycles": 50, "payoffs": "ipd_pola"},
        num_envs=2000,
        iterations=20001,
        gamma=0.96,
        policy_model="gru",
        hidden_sizes=(64,),
        gru_size=64,
        inner_steps=1,
        lr_inner=0.05,
        lr=0.003,
        lr_value=0.0005,
        value_updates=1,
        optimizer="adam",
        baseline="critic",
        gae_lambda=1.0,
        checkpoint_every=500,
    )


PRESETS = collect_presets(lola_dice_ipd, lola_dice_ipd_om, naive_dice_ipd, lola_dice_ipd_pola_gru)
