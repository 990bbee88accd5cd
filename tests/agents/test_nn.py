"""Networks: action distributions (log-densities, sampling) and the GRU's episode resets."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from gymnasium import spaces

from agents.nn import (
    ActorCritic,
    CategoricalHead,
    GRUEncoder,
    NetworkPolicy,
    PreviousObservationEncoder,
    TanhGaussianDistribution,
    TanhGaussianHead,
)


def normal_cdf(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1 + torch.erf(x / math.sqrt(2)))


def test_tanh_gaussian_log_prob_matches_numerical_change_of_variables():
    """Density of a = 2.5 + 2.5 tanh(u), u ~ N(mu, sigma): probability of a small interval
    (through the Gaussian CDF at atanh of its ends) divided by its width."""
    low, high = torch.tensor([0.0]), torch.tensor([5.0])
    mu, log_std = torch.tensor([[0.3]], dtype=torch.float64), torch.tensor([-0.2])
    dist = TanhGaussianDistribution(mu, log_std.double(), low.double(), high.double())
    sigma = math.exp(-0.2)
    h = 1e-5
    for a in [0.05, 1.0, 2.5, 3.7, 4.9]:
        ends = torch.tensor([a - h, a + h], dtype=torch.float64)
        u = torch.atanh((ends - 2.5) / 2.5)
        probability = normal_cdf((u[1] - 0.3) / sigma) - normal_cdf((u[0] - 0.3) / sigma)
        numeric = math.log(float(probability) / (2 * h))
        analytic = float(dist.log_prob(torch.tensor([[a]], dtype=torch.float64)))
        assert analytic == pytest.approx(numeric, abs=1e-5), a


def test_tanh_gaussian_density_integrates_to_one_and_sums_over_dimensions():
    low, high = torch.tensor([0.0, -1.0]), torch.tensor([5.0, 1.0])
    dist = TanhGaussianDistribution(
        torch.tensor([[0.5, -1.0]], dtype=torch.float64),
        torch.tensor([0.1, -0.7], dtype=torch.float64),
        low.double(),
        high.double(),
    )
    grid = torch.linspace(0, 1, 200001, dtype=torch.float64)[1:-1]
    for d in range(2):
        actions = torch.zeros(len(grid), 2, dtype=torch.float64)
        actions[:, d] = low[d] + (high[d] - low[d]) * grid
        other = 1 - d
        actions[:, other] = (low[other] + high[other]) / 2
        joint = dist.log_prob(actions)
        single = TanhGaussianDistribution(
            dist.mean[:, d : d + 1],
            dist.log_std[0, d : d + 1],
            low[d : d + 1].double(),
            high[d : d + 1].double(),
        )
        marginal = single.log_prob(actions[:, d : d + 1])
        # the joint log-density is the sum over dimensions (independent components)
        rest = TanhGaussianDistribution(
            dist.mean[:, other : other + 1],
            dist.log_std[0, other : other + 1],
            low[other : other + 1].double(),
            high[other : other + 1].double(),
        ).log_prob(actions[:1, other : other + 1])
        torch.testing.assert_close(joint, marginal + rest)
        width = float(high[d] - low[d]) * float(grid[1] - grid[0])
        assert float(marginal.exp().sum()) * width == pytest.approx(1.0, abs=1e-3)


def test_tanh_gaussian_samples_in_bounds_reproducibly_and_bounds_stay_finite():
    head = TanhGaussianHead(4, spaces.Box(0.0, 5.0, (3,)), log_std_init=1.0)
    features = torch.randn(1000, 4) * 10
    dist = head(features)
    first = dist.sample(torch.Generator().manual_seed(3))
    again = dist.sample(torch.Generator().manual_seed(3))
    assert torch.equal(first, again)
    assert first.min() >= 0.0 and first.max() <= 5.0
    edges = torch.tensor([[0.0, 5.0, 2.5]]).expand(1000, 3)
    assert torch.isfinite(dist.log_prob(edges)).all()
    mode = dist.mode()
    assert mode.min() >= 0.0 and mode.max() <= 5.0
    entropy = dist.entropy(torch.Generator().manual_seed(0))
    entropy.mean().backward()
    assert head.log_std.grad is not None and head.log_std.grad.abs().sum() > 0


def test_multidiscrete_log_prob_is_the_sum_of_components():
    space = spaces.MultiDiscrete([6, 6, 6])
    head = CategoricalHead(8, space)
    features = torch.randn(5, 8)
    dist = head(features)
    actions = dist.sample(torch.Generator().manual_seed(0))
    assert actions.shape == (5, 3) and actions.dtype == torch.int64
    logits = head.linear(features).reshape(5, 3, 6)
    expected = sum(
        torch.distributions.Categorical(logits=logits[:, k]).log_prob(actions[:, k])
        for k in range(3)
    )
    torch.testing.assert_close(dist.log_prob(actions), expected)
    expected_entropy = sum(
        torch.distributions.Categorical(logits=logits[:, k]).entropy() for k in range(3)
    )
    torch.testing.assert_close(dist.entropy(), expected_entropy)


def test_multidiscrete_with_unequal_sizes_never_samples_padding():
    head = CategoricalHead(4, spaces.MultiDiscrete([2, 5]))
    dist = head(torch.randn(4000, 4))
    actions = dist.sample(torch.Generator().manual_seed(1))
    assert actions[:, 0].max() == 1 and actions[:, 1].max() == 4
    entropy = dist.entropy()
    assert torch.isfinite(entropy).all() and (entropy < math.log(2) + math.log(5)).all()
    entropy.mean().backward()
    assert torch.isfinite(head.linear.weight.grad).all()


def test_discrete_matches_torch_categorical():
    head = CategoricalHead(3, spaces.Discrete(4))
    features = torch.randn(6, 3)
    dist = head(features)
    actions = dist.sample(torch.Generator().manual_seed(0))
    assert actions.shape == (6,)
    reference = torch.distributions.Categorical(logits=head.linear(features))
    torch.testing.assert_close(dist.log_prob(actions), reference.log_prob(actions))
    torch.testing.assert_close(dist.entropy(), reference.entropy())


def test_categorical_sampling_follows_the_probabilities():
    head = CategoricalHead(1, spaces.Discrete(3))
    with torch.no_grad():
        head.linear.weight.zero_()
        head.linear.bias.copy_(torch.log(torch.tensor([0.2, 0.3, 0.5])))
    actions = head(torch.zeros(20000, 1)).sample(torch.Generator().manual_seed(0))
    frequencies = torch.bincount(actions, minlength=3).float() / 20000
    torch.testing.assert_close(frequencies, torch.tensor([0.2, 0.3, 0.5]), atol=0.015, rtol=0)


def test_gru_state_resets_at_episode_starts():
    torch.manual_seed(0)
    encoder = GRUEncoder(3, (5,), gru_size=4)
    T, B = 6, 2
    x = torch.randn(T, B, 3)
    starts = torch.zeros(T, B, dtype=torch.bool)
    starts[0] = True
    starts[3, 0] = True  # game 0 starts a new episode at t = 3
    unrolled = encoder.unroll(x, starts)
    # step by step with a carried state gives the same features
    state = encoder.initial_state(B)
    for t in range(T):
        out, state = encoder.step(x[t], state, starts[t])
        torch.testing.assert_close(out, unrolled[t])
    # after the reset, game 0 behaves as if its episode began at t = 3 from a zero state
    fresh = encoder.unroll(x[3:, :1], torch.ones(T - 3, 1, dtype=torch.bool).cumsum(0) == 1)
    torch.testing.assert_close(unrolled[3:, :1], fresh)
    # game 1 did not reset: its features differ from a fresh start at t = 3
    fresh_1 = encoder.unroll(x[3:, 1:], torch.ones(T - 3, 1, dtype=torch.bool).cumsum(0) == 1)
    assert not torch.allclose(unrolled[3:, 1:], fresh_1)


def test_fused_and_stepped_unrolls_agree():
    torch.manual_seed(1)
    encoder = GRUEncoder(3, (5,), gru_size=4)
    x = torch.randn(5, 3, 3)
    starts = torch.zeros(5, 3, dtype=torch.bool)
    starts[0] = True
    fused = encoder.unroll(x, starts)  # only t = 0 starts: one fused GRU call
    state = encoder.initial_state(3)
    for t in range(5):
        out, state = encoder.step(x[t], state, starts[t])
        torch.testing.assert_close(out, fused[t])


def test_previous_observation_encoder_sees_the_last_step_and_forgets_it_at_resets():
    torch.manual_seed(2)
    encoder = PreviousObservationEncoder(3, (5,))
    T, B = 5, 2
    x = torch.randn(T, B, 3)
    starts = torch.zeros(T, B, dtype=torch.bool)
    starts[0] = True
    starts[2, 1] = True  # game 1 starts a new episode at t = 2
    unrolled = encoder.unroll(x, starts)
    # by hand: the body on [previous observation (zeros at a start), observation]
    previous = torch.cat([torch.zeros(1, B, 3), x[:-1]])
    previous[2, 1] = 0.0
    torch.testing.assert_close(unrolled, encoder.body(torch.cat([previous, x], -1)))
    # stepping with the carried state agrees with the unroll
    state = encoder.initial_state(B)
    for t in range(T):
        out, state = encoder.step(x[t], state, starts[t])
        torch.testing.assert_close(out, unrolled[t])
    # the previous observation matters (a memory-one MLP on x alone could not tell these apart)
    other = x.clone()
    other[0, 0] += 1.0
    assert not torch.allclose(encoder.unroll(other, starts)[1, 0], unrolled[1, 0])


@pytest.mark.parametrize("encoder", ["mlp", "gru", "mlp_prev"])
@pytest.mark.parametrize("share", [True, False])
def test_actor_critic_shapes(encoder, share):
    net = ActorCritic(
        spaces.Box(0, 1, (4, 3, 3)),
        spaces.Discrete(4),
        encoder=encoder,
        hidden_sizes=(8,),
        gru_size=6,
        share_encoder=share,
    )
    obs = torch.rand(7, 5, 4, 3, 3)
    starts = torch.zeros(7, 5, dtype=torch.bool)
    starts[0] = True
    dist, values = net(obs, starts)
    assert values.shape == (7, 5)
    assert dist.log_prob(torch.zeros(7, 5, dtype=torch.int64)).shape == (7, 5)
    torch.testing.assert_close(net.values(obs, starts), values)
    assert (net.critic_encoder is None) == share


def test_network_policy_is_reproducible_from_its_seed():
    net = ActorCritic(spaces.Box(0, 1, (5,)), spaces.Discrete(2), hidden_sizes=(8,), gru_size=4)
    policy = NetworkPolicy(net)
    obs = np.random.default_rng(0).random((16, 5), dtype=np.float32)
    starts = np.ones(16, dtype=bool)

    def play(seed):
        policy.reset(16, seed=seed)
        return [policy.act_with_log_probs(obs, starts if t == 0 else ~starts) for t in range(4)]

    first, second, other = play(1), play(1), play(2)
    for (a1, lp1), (a2, lp2) in zip(first, second, strict=True):
        np.testing.assert_array_equal(a1, a2)
        np.testing.assert_array_equal(lp1, lp2)
    assert any(not np.array_equal(a1, a3) for (a1, _), (a3, _) in zip(first, other, strict=True))
    greedy = NetworkPolicy(net, deterministic=True)
    greedy.reset(16, seed=0)
    actions = greedy.act(obs, starts)
    assert actions.shape == (16,) and set(np.unique(actions)) <= {0, 1}
