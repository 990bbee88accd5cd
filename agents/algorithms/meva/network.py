"""The meta-value network U(x; gamma): quantiles of each player's meta-value.

A port of ``VHatModule`` of MetaValueLearning/MetaValueLearning@107c709 ``matrix.ipynb`` to
torch, layer for layer (inputs sigmoid(x) ``(..., 2, 5)`` in MeVa's own layout and the two
players' meta-discounts ``(..., 2)``; output ``(..., 2, quantiles)``):

1. ``embed`` Dense + GELU, then ``zpolicy`` DenseNorm + GELU on each player's policy;
2. ``zgamma`` Dense + GELU on each player's gamma; both concatenated;
3. without weight sharing, a learned per-player scale and bias (so the players can differ);
4. ``mix_gamma`` DenseNorm + GELU, then the ``Q`` residual blocks;
5. each player's features beside the other's (``[z, z.flip(players)]``);
6. ``mix_opponent`` DenseNorm + GELU, then the ``R`` residual blocks;
7. ``final`` tanh(DenseNorm); during exploration some of its units change sign;
8. ``output`` Dense to the quantiles.

DenseNorm is an orthogonally initialised Dense without bias followed by LayerNorm (flax's
epsilon 1e-6); Dense layers are LeCun-normal with zero bias (flax's defaults); GELU is the
tanh approximation (flax's default). With weight sharing (self-play on a symmetric game) the
network is permutation-equivariant: swapping the players swaps the outputs.
"""

from __future__ import annotations

import math

import torch
from torch import nn

LAYER_NORM_EPS = 1e-6  # flax.linen.LayerNorm's default


def lecun_dense(inputs: int, outputs: int) -> nn.Linear:
    """A Dense layer initialised as flax does: LeCun-normal kernel, zero bias."""
    layer = nn.Linear(inputs, outputs)
    # flax's lecun_normal: a normal truncated at two standard deviations, rescaled to keep
    # the variance 1 / fan_in
    std = 1.0 / math.sqrt(inputs) / 0.87962566103423978
    nn.init.trunc_normal_(layer.weight, std=std, a=-2.0 * std, b=2.0 * std)
    nn.init.zeros_(layer.bias)
    return layer


class DenseNorm(nn.Module):
    """Orthogonal Dense without bias, then LayerNorm (or a plain Dense with bias if off)."""

    def __init__(self, inputs: int, outputs: int, layer_norm: bool = True) -> None:
        super().__init__()
        self.dense = nn.Linear(inputs, outputs, bias=not layer_norm)
        nn.init.orthogonal_(self.dense.weight)
        if not layer_norm:
            nn.init.zeros_(self.dense.bias)
        self.norm = nn.LayerNorm(outputs, eps=LAYER_NORM_EPS) if layer_norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The normalised projection of ``x``."""
        return self.norm(self.dense(x))


class GatedResidualBlock(nn.Module):
    """``g x + (1 - g) H(gelu(DenseNorm(x)))`` with a learned per-unit gate g (0.5 at init)."""

    def __init__(self, width: int, layer_norm: bool = True) -> None:
        super().__init__()
        self.inner = DenseNorm(width, width, layer_norm)
        self.out = lecun_dense(width, width)
        self.gate_logit = nn.Parameter(torch.zeros(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The gated mix of ``x`` and its transformation."""
        gate = torch.sigmoid(self.gate_logit)
        return gate * x + (1 - gate) * self.out(gelu(self.inner(x)))


def gelu(x: torch.Tensor) -> torch.Tensor:
    """GELU, tanh approximation (flax's ``nn.gelu`` default)."""
    return nn.functional.gelu(x, approximate="tanh")


class MetaValueNetwork(nn.Module):
    """U(x; gamma): ``quantiles`` quantiles of each of the two players' meta-value.

    Args:
        width: hidden width (128 in the reference).
        quantiles: outputs per player (64; 1 for plain regression).
        num_resblocks: gated residual blocks after each of the two mixing layers.
        shared: one network for both players (permutation-equivariant); False adds a learned
            per-player scale and bias after the first layers.
        layer_norm: LayerNorm in the dense blocks.
    """

    def __init__(
        self,
        width: int = 128,
        quantiles: int = 64,
        num_resblocks: int = 1,
        shared: bool = True,
        layer_norm: bool = True,
    ) -> None:
        super().__init__()
        self.width, self.quantiles, self.shared = width, quantiles, shared
        self.embed = lecun_dense(5, width)
        self.zpolicy = DenseNorm(width, width, layer_norm)
        self.zgamma = lecun_dense(1, width)
        if not shared:
            self.player_scale = nn.Parameter(torch.ones(2, 2 * width))
            self.player_bias = nn.Parameter(torch.zeros(2, 2 * width))
        self.mix_gamma = DenseNorm(2 * width, width, layer_norm)
        self.q_blocks = nn.ModuleList(
            GatedResidualBlock(width, layer_norm) for _ in range(num_resblocks)
        )
        self.mix_opponent = DenseNorm(2 * width, width, layer_norm)
        self.r_blocks = nn.ModuleList(
            GatedResidualBlock(width, layer_norm) for _ in range(num_resblocks)
        )
        self.final = DenseNorm(width, width, layer_norm)
        self.output = lecun_dense(width, quantiles)

    def forward(
        self,
        policies: torch.Tensor,
        gammas: torch.Tensor,
        flip_signs: torch.Tensor | None = None,
        own_gradients_only: bool = False,
    ) -> torch.Tensor:
        """Quantiles ``(..., 2, quantiles)``.

        Args:
            policies: sigmoid of both players' logits in MeVa's layout, ``(..., 2, 5)``.
            gammas: each player's meta-discount, ``(..., 2)``.
            flip_signs: optional ``(..., 2, width)`` of +1 and -1 multiplying the units of the
                last hidden layer (exploration flips some of their signs).
            own_gradients_only: cut the gradient of each player's output wrt the other
                player's input. The values are unchanged; the gradient of the sum of both
                players' outputs wrt the inputs is then each player's gradient of its own output
                wrt its own input (the "naive gradient"), in one backward pass instead of two.
                Exact because nothing else mixes the players: every layer before this
                concatenation acts on each player's row alone.
        """
        z_policy = gelu(self.zpolicy(gelu(self.embed(policies))))
        z_gamma = gelu(self.zgamma(gammas.unsqueeze(-1)))
        z = torch.cat([z_policy, z_gamma], dim=-1)
        if not self.shared:
            z = z * self.player_scale + self.player_bias
        z = gelu(self.mix_gamma(z))
        for block in self.q_blocks:
            z = block(z)
        opponent_features = z.flip(-2)
        if own_gradients_only:
            opponent_features = opponent_features.detach()
        z = torch.cat([z, opponent_features], dim=-1)
        z = gelu(self.mix_opponent(z))
        for block in self.r_blocks:
            z = block(z)
        z = torch.tanh(self.final(z))
        if flip_signs is not None:
            z = z * flip_signs
        return self.output(z)
