"""Matches, leagues and the metrics: hand-built trajectories and hand-derived values."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from agents.evaluation import league, match, seat_metrics
from agents.rollout import Trajectory
from agents.scripted import SCRIPTED_NAMES, make_game, scripted_policy


def trajectory(actions, observations, rewards=None, info=None):
    """A Trajectory from hand-written (T, B, 2, ...) arrays; unused fields are zeros."""
    actions = torch.as_tensor(np.asarray(actions))
    observations = torch.as_tensor(np.asarray(observations, dtype=np.float32))
    T, B = actions.shape[:2]
    if rewards is None:
        rewards = np.zeros((T, B, 2))
    return Trajectory(
        observations=observations,
        actions=actions,
        log_probs=torch.full((T, B, 2), float("nan")),
        rewards=torch.as_tensor(np.asarray(rewards, dtype=np.float32)),
        episode_starts=torch.zeros(T, B, dtype=torch.bool),
        dones=torch.zeros(T, B, dtype=torch.bool),
        next_observations=observations[-1],
        info={k: torch.as_tensor(np.asarray(v)) for k, v in (info or {}).items()},
    )


# ---- metrics on hand-built trajectories -------------------------------------------------------
def test_matrix_metrics_count_cooperation_per_previous_joint_action():
    eye = np.eye(5)
    CC, CD, DC, DD, START = eye
    # one game, 4 steps: (C, C) -> (C, D) -> (D, C) -> (C, D); seat 1 sees mirrored states
    actions = [[[0, 0]], [[0, 1]], [[1, 0]], [[0, 1]]]
    observations = [[[START, START]], [[CC, CC]], [[CD, DC]], [[DC, CD]]]
    metrics = seat_metrics(trajectory(actions, observations), make_game("ipd_v0"))
    assert metrics["cooperation_rate"] == [0.75, 0.5]
    assert metrics["p_cooperate|start"] == [1.0, 1.0]
    assert metrics["p_cooperate|CC"] == [1.0, 0.0]
    assert metrics["p_cooperate|CD"] == [0.0, 0.0]  # seat 0 after CD; seat 1 after CD (step 3)
    assert metrics["p_cooperate|DC"] == [1.0, 1.0]
    assert np.isnan(metrics["p_cooperate|DD"]).all()  # never visited
    assert metrics["reward_per_step"] == [0.0, 0.0]


def test_coin_metrics_from_pickup_counts():
    pickups = np.zeros((2, 1, 2, 2), dtype=np.int64)  # [t, game, picker, owner]
    pickups[0, 0, 0, 0] = 1  # seat 0 takes its own coin
    pickups[1, 0, 0, 1] = 1  # seat 0 takes seat 1's coin
    pickups[1, 0, 1, 1] = 1  # ... while seat 1 also takes it
    traj = trajectory(
        np.zeros((2, 1, 2)),
        np.zeros((2, 1, 2, 4, 3, 3)),
        rewards=[[[1, 0]], [[1, -1]]],
        info={"pickups": pickups},
    )
    game = pytest.importorskip("socialdilemmas.coin_game").CoinGame()
    metrics = seat_metrics(traj, game)
    assert metrics["own_coin_share"] == [0.5, 1.0]
    assert metrics["pickups_per_step"] == [1.0, 0.5]
    assert metrics["reward_per_step"] == [1.0, -0.5]


def test_negotiation_welfare_share_is_a_ratio_of_sums():
    rewards = [[[0.5, 0.5]], [[0.25, 0.55]], [[0.1, 0.0]]]
    traj = trajectory(
        np.zeros((3, 1, 2, 3)),
        np.zeros((3, 1, 2, 15)),
        rewards=rewards,
        info={"max_welfare": [[1.0], [1.0], [0.5]]},
    )
    game = pytest.importorskip("socialdilemmas.negotiation").NegotiationGame()
    share = seat_metrics(traj, game)["welfare_share"]
    np.testing.assert_allclose(share, [1.9 / 2.5] * 2, rtol=1e-6)


# ---- matches ----------------------------------------------------------------------------------
def ipd(name):
    return scripted_policy(name, "ipd_v0")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # TFT loses 3 in round 1, then both defect: (-3 - 2*49)/50 and (0 - 2*49)/50
        ("tit_for_tat", "always_defect", (-2.02, -1.96)),
        ("always_cooperate", "always_defect", (-3.0, 0.0)),
        ("tit_for_tat", "always_cooperate", (-1.0, -1.0)),
        ("always_defect", "always_defect", (-2.0, -2.0)),
    ],
)
def test_ipd_scripted_matches_equal_hand_derived_values(a, b, expected):
    result = match(ipd(a), ipd(b), "ipd_v0", episodes=3)
    np.testing.assert_allclose(result.rewards, expected, atol=1e-12)
    assert result.names == (a, b) and result.steps_per_episode == 50


def test_seat_swap_and_episode_batching_do_not_change_deterministic_results():
    both = match(
        ipd("tit_for_tat"),
        ipd("always_defect"),
        "ipd_v0",
        episodes=4,
        num_envs=2,
        both_seats=True,
        max_cycles=10,
    )
    # TFT: (-3 - 2*9)/10 = -2.1; AD: -18/10 = -1.8
    np.testing.assert_allclose(both.rewards, (-2.1, -1.8))
    assert both.metrics["cooperation_rate"] == [pytest.approx(0.1), 0.0]
    assert both.metrics["p_cooperate|start"] == [1.0, 0.0]


def test_matches_are_reproducible_from_the_seed():
    rnd = ipd("random")
    first = match(rnd, ipd("tit_for_tat"), "ipd_v0", episodes=8, seed=5)
    again = match(rnd, ipd("tit_for_tat"), "ipd_v0", episodes=8, seed=5)
    other = match(rnd, ipd("tit_for_tat"), "ipd_v0", episodes=8, seed=6)
    assert first == again
    assert first.rewards != other.rewards
    assert abs(first.metrics["cooperation_rate"][0] - 0.5) < 0.1


def test_negotiation_scripted_match_on_a_fixed_round():
    pytest.importorskip("socialdilemmas.negotiation.strategies")
    # every round: pool [1,1,1], u0 = [5,5,1], u1 = [1,1,5]. AC (seat 0) claims items 0 and 1,
    # AD claims everything: AC gets half of items 0, 1: 2*2.5 = 5 -> 5/15; AD gets half of
    # them at value 1 plus all of item 2 at 5: 6/15. Welfare share 11/15.
    kwargs = {"sampling": "high_contrast_no_sampling"}
    ac = scripted_policy("always_cooperate", "negotiation_v0", **kwargs)
    ad = scripted_policy("always_defect", "negotiation_v0", **kwargs)
    result = match(ac, ad, "negotiation_v0", episodes=2, **kwargs)
    np.testing.assert_allclose(result.rewards, (5 / 15, 6 / 15), rtol=1e-6)
    np.testing.assert_allclose(result.metrics["welfare_share"], [11 / 15] * 2, rtol=1e-6)
    # seats exchanged: AC (seat 1) values only item 2 more and gets half of it, 2.5/15; AD gets
    # half of item 2 at value 1 plus items 0 and 1 at 5 each, 10.5/15
    swapped = match(ad, ac, "negotiation_v0", episodes=2, **kwargs)
    np.testing.assert_allclose(swapped.rewards, (10.5 / 15, 2.5 / 15), rtol=1e-6)


def test_coin_game_cooperators_only_ever_take_their_own_coins():
    pytest.importorskip("socialdilemmas.coin_game.strategies")
    ac = scripted_policy("always_cooperate", "coin_game_v0")
    ad = scripted_policy("always_defect", "coin_game_v0")
    result = match(ac, ad, "coin_game_v0", episodes=16, both_seats=True)
    assert result.metrics["own_coin_share"][0] == 1.0
    assert result.metrics["own_coin_share"][1] < 1.0
    assert result.metrics["pickups_per_step"][1] > result.metrics["pickups_per_step"][0]
    # AC never takes AD's coin, so AD never pays the penalty: AD's reward per step is exactly
    # its pickups per step
    assert result.rewards[1] == pytest.approx(result.metrics["pickups_per_step"][1])


def test_match_argument_errors():
    with pytest.raises(ValueError, match="must divide"):
        match(ipd("random"), ipd("random"), "ipd_v0", episodes=5, num_envs=2)
    with pytest.raises(ValueError, match="episodes must be a positive integer"):
        match(ipd("random"), ipd("random"), "ipd_v0", episodes=0)
    with pytest.raises(KeyError, match="unknown env"):
        match(ipd("random"), ipd("random"), "ipd_v9")


def short(obs):
    return np.zeros(3, dtype=np.int64)


def test_a_policy_returning_the_wrong_shape_or_type_is_named():
    with pytest.raises(ValueError, match=r"policy 'short' returned actions of shape \(3,\)"):
        match(short, ipd("random"), "ipd_v0", episodes=4)
    with pytest.raises(TypeError, match="policy 'halves' returned float64 actions"):
        from agents import as_policy

        halves = as_policy(lambda obs: np.full(len(obs), 0.5), name="halves")
        match(halves, ipd("random"), "ipd_v0", episodes=4)


# ---- leagues ----------------------------------------------------------------------------------
def test_league_of_scripted_strategies_writes_csv_json_and_png(tmp_path):
    policies = {name: ipd(name) for name in SCRIPTED_NAMES}
    result = league(policies, "ipd_v0", episodes=4, seed=0)
    names = list(SCRIPTED_NAMES)
    assert result.names == names
    ac, ad, tft = (
        names.index("always_cooperate"),
        names.index("always_defect"),
        names.index("tit_for_tat"),
    )
    assert result.rewards[tft, ad] == pytest.approx(-2.02)  # row agent against column agent
    assert result.rewards[ad, tft] == pytest.approx(-1.96)
    assert result.rewards[ac, ac] == -1.0 and result.rewards[ad, ac] == 0.0
    assert result.metrics["cooperation_rate"][tft, ac] == 1.0
    csv_path = result.to_csv(tmp_path / "league.csv")
    rows = csv_path.read_text().splitlines()
    assert rows[0] == "agent," + ",".join(names)
    assert rows[1 + tft].split(",")[1 + ad] == "-2.02"
    data = json.loads(result.to_json(tmp_path / "league.json").read_text())
    assert data["names"] == names and data["rewards"][tft][ad] == pytest.approx(-2.02)
    assert data["metrics"]["p_cooperate|DD"][ac][ac] is None  # NaN -> null: never in DD
    png = result.heatmap_png(tmp_path / "league.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    coop_png = result.heatmap_png(tmp_path / "coop.png", metric="cooperation_rate")
    assert coop_png.read_bytes() != png
    written = result.save(tmp_path / "out", metric="cooperation_rate")
    assert [p.name for p in written] == ["league.csv", "league.json", "league.png"]
    assert (tmp_path / "out" / "league.csv").read_text().splitlines()[1 + tft].split(",")[
        1 + ac
    ] == "1.0"  # the CSV holds the table of the metric asked for
    with pytest.raises(KeyError, match="no metric 'welfare_share'"):
        result.table("welfare_share")
    assert "tit_for_tat" in result.format()


def test_league_is_reproducible_and_names_a_sequence_of_policies():
    policies = [ipd("random"), ipd("random"), ipd("tit_for_tat")]
    first = league(policies, "ipd_v0", episodes=4, seed=1, max_cycles=5)
    again = league(policies, "ipd_v0", episodes=4, seed=1, max_cycles=5)
    assert first.names == ["random", "random_2", "tit_for_tat"]
    np.testing.assert_array_equal(first.rewards, again.rewards)
    assert not np.isnan(first.rewards).any()


def test_scripted_coin_game_league_matches_the_papers_reference_values():
    """AC self-play earns about 0.34 per step on the 3x3, T=50 board (the LOQA repository's
    league, MiladInk/loqa@32f50c9 league/results: "AC-AC at 0.34"); AD self-play earns 0 on
    average by symmetry (each coin taken from its owner moves +1 to one player and -2 to the
    other, each own coin +1)."""
    pytest.importorskip("socialdilemmas.coin_game.strategies")
    agents = {
        name: scripted_policy(name, "coin_game_v0")
        for name in ("always_cooperate", "always_defect")
    }
    result = league(agents, "coin_game_v0", episodes=256, seed=0)
    assert result.rewards[0, 0] == pytest.approx(0.34, abs=0.015)
    assert result.rewards[1, 1] == pytest.approx(0.0, abs=0.03)
    assert result.metrics["own_coin_share"][0, 0] == 1.0


def test_scripted_negotiation_league_matches_the_expected_round_values():
    """Per high-contrast round: AC-AC 0.5/0.5, AD-AD 0.3/0.3, AC-AD 0.25/0.55 in expectation."""
    pytest.importorskip("socialdilemmas.negotiation.strategies")
    agents = {
        name: scripted_policy(name, "negotiation_v0")
        for name in ("always_cooperate", "always_defect")
    }
    result = league(agents, "negotiation_v0", episodes=64, seed=0)
    np.testing.assert_allclose(result.rewards, [[0.5, 0.25], [0.55, 0.3]], atol=0.01)
    assert result.rewards[0, 0] == pytest.approx(0.5, abs=1e-6)  # AC-AC takes every item whole
