"""Settings of LOQA (``loqa``)."""

from __future__ import annotations

from dataclasses import dataclass

from agents.algorithms.core.config import LearnerConfig
from agents.nn import ENCODERS


@dataclass
class LOQAConfig(LearnerConfig):
    """LOQA settings; the defaults are the reference Coin Game run (README + ``loqa_iclr``).

    Shared fields keep their meaning: ``lr`` is the actor's learning rate, ``ent_coef`` the
    entropy weight ``beta_H``, ``max_grad_norm`` the actor's gradient clip, ``target_tau`` the
    EMA rate of the target network (``1 - target_ema_gamma``), ``hidden_sizes``/``gru_size`` the
    actor's layers.
    """

    #: on-policy fields LOQA configs carried (unused) before the learners were restructured
    retired_fields = (
        "gae_lambda",
        "vf_coef",
        "critic_loss",
        "normalize_advantages",
        "bootstrap_truncation",
        "encoder",
        "share_encoder",
        "log_std_init",
    )

    num_envs: int = 512
    """games per batch; one iteration plays one whole episode in each"""
    iterations: int = 6000
    """training iterations (the reference league uses the iteration-6000 checkpoint)"""
    self_play: bool = True
    """one agent against itself or its past selves (the reference's just_self_play)"""
    lr: float = 1e-3
    """actor Adam learning rate (lr_loss_actor)"""
    ent_coef: float = 0.1
    """actor entropy bonus beta_H (entropy_beta)"""
    target_tau: float = 0.01
    """EMA rate of the target network, 1 - target_ema_gamma (0.99 in the references)"""
    hidden_sizes: tuple[int, ...] = (128, 128)
    """actor dense layers before its GRU (2 layers_before_gru of hidden_size 128)"""
    gru_size: int = 128
    """actor GRU state width (hidden_size)"""
    actor_model: str = "gru"
    """actor network: gru (dense layers then a GRU), mlp, or logits (a table over the one-hot
    observation, zero-initialised: the reference IPD actor IPDLogits)"""
    critic_lr: float = 1e-2
    """Q-critic Adam learning rate (lr_loss_qvalue)"""
    critic_encoder: str = "gru"
    """Q-critic encoder: gru or mlp (the reference IPD Q-critic is an MLP on (obs, t))"""
    critic_hidden_sizes: tuple[int, ...] = (64, 64)
    """Q-critic dense layers (before its GRU when critic_encoder is gru)"""
    critic_gru_size: int = 64
    """Q-critic GRU state width"""
    critic_activation: str = "tanh"
    """activation of an mlp Q-critic's layers: tanh or relu (the reference IPD critic: relu)"""
    critic_time_input: str = "fraction"
    """time index fed to the Q-critic: fraction (t / max_cycles) or raw (t, as the reference)"""
    critic_mode: str = "mean"
    """Q target: mean (SARSA-like on the next taken action, V at the last row) or argmax"""
    bootstrap_end: bool = True
    """bootstrap an episode's last step from the value of its final observation, in the critic
    targets and the TD(0) advantages (the reference); off treats the end as terminal, which
    matches the truncated Monte Carlo returns inside the opponent model"""
    critic_updates: int = 1
    """Q-critic gradient steps (each followed by the EMA update) per iteration (reference 1;
    more lets the critic keep up in short CPU runs)"""
    actor_warmup: int = 0
    """iterations at the start in which only the Q-critic learns (reference 0; lets a short run
    start shaping from a fitted critic instead of from untrained Q-values)"""
    huber_delta: float = 1.0
    """Huber threshold of the Q-critic loss"""
    opponent_weight: float = 1.0
    """w, the weight of the differentiable opponent term (opponent_differentiation_weight)"""
    lambda_d: float = 0.9
    """extra discount of the loaded-DiCE opponent return (differentiable_opponent.discount)"""
    softmax_temp: float = 1.0
    """temperature T of the opponent model softmax(Q2 / T) (op_softmax_temp)"""
    stop_grad_normalizer: bool = False
    """stop the gradient of the opponent model's log-softmax normaliser: the "ignore the
    partition function" approximation, which turns LOQA's estimator into the Advantage
    Alignment the AA paper ran in the Coin Game (AA-NB, ``stop_grad_normalizing_constant``)"""
    epsilon_greedy: float = 0.0
    """share of actions replaced by uniform random ones in training rollouts (0.2 in the IPD)"""
    agent_buffer: bool = True
    """self-play against past snapshots from an agent replay buffer (self_play only)"""
    buffer_capacity: int = 10000
    """snapshots kept in the agent replay buffer"""
    buffer_push_every: int = 10
    """push a snapshot every this many iterations (update_freq)"""
    cur_agent_frac: float = 0.0
    """share of games against the current agent instead of a snapshot (reference 0)"""
    snapshots_per_batch: int = 8
    """distinct snapshots drawn per batch, games split evenly (reference: one per game)"""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.critic_hidden_sizes = tuple(int(size) for size in self.critic_hidden_sizes)
        if self.actor_model not in ("gru", "mlp", "logits"):
            raise ValueError(f"actor_model must be gru, mlp or logits, got {self.actor_model!r}")
        if self.critic_encoder not in ENCODERS:
            raise ValueError(
                f"critic_encoder must be one of {list(ENCODERS)}, got {self.critic_encoder!r}"
            )
        if self.critic_activation not in ("tanh", "relu"):
            raise ValueError(
                f"critic_activation must be tanh or relu, got {self.critic_activation!r}"
            )
        if self.critic_time_input not in ("fraction", "raw"):
            raise ValueError(
                f"critic_time_input must be fraction or raw, got {self.critic_time_input!r}"
            )
        if self.critic_mode not in ("mean", "argmax"):
            raise ValueError(f"critic_mode must be mean or argmax, got {self.critic_mode!r}")
        if self.actor_warmup < 0:
            raise ValueError(f"actor_warmup must be >= 0, got {self.actor_warmup}")
        for name in ("critic_lr", "huber_delta", "softmax_temp"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("lambda_d", "epsilon_greedy", "cur_agent_frac"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        positive = ("buffer_capacity", "buffer_push_every", "snapshots_per_batch")
        positive += ("critic_gru_size", "critic_updates")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")


__all__ = ["LOQAConfig"]
