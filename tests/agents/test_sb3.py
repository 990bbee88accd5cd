"""SB3 through our own VecEnv adapter: seeding, episode ends, and SB3 models in a league.

The adapter exists because SuperSuit's ConcatVecEnv has no ``seed``, so ``PPO(..., seed=0)``
crashes on it; these tests construct PPO with a seed on purpose.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import socialdilemmas
from agents.evaluation import league
from agents.sb3 import SB3VecEnv, train_ppo_self_play
from agents.scripted import scripted_policy

pytest.importorskip("stable_baselines3")


def test_copies_are_seats_of_games_in_env_major_order():
    env = SB3VecEnv("ipd_v0", num_envs=3, max_cycles=3)
    assert env.num_envs == 6 and env.observation_space.shape == (5,) and env.action_space.n == 2
    obs = env.reset()
    assert obs.shape == (6, 5) and (obs[:, 4] == 1).all()
    actions = np.array([1, 0] * 3)  # seat 0 defects, seat 1 cooperates, in every game
    obs, rewards, dones, infos = env.step(actions)
    np.testing.assert_array_equal(rewards, [0, -3] * 3)
    assert rewards.dtype == np.float32 and not dones.any() and infos == [{}] * 6
    np.testing.assert_array_equal(obs[0], [0, 0, 1, 0, 0])  # seat 0 sees "I defected, they C"
    np.testing.assert_array_equal(obs[1], [0, 1, 0, 0, 0])


def test_episode_end_reports_the_terminal_observation_and_restarts():
    env = SB3VecEnv("ipd_v0", num_envs=2, max_cycles=2)
    env.reset()
    env.step(np.ones(4, dtype=np.int64))
    obs, _, dones, infos = env.step(np.ones(4, dtype=np.int64))
    assert dones.all()
    for info in infos:
        np.testing.assert_array_equal(info["terminal_observation"], [0, 0, 0, 1, 0])  # DD
        assert info["TimeLimit.truncated"] is True
    assert (obs[:, 4] == 1).all()  # the next episode's first observation


def test_obs_layout_reaches_the_copies_and_their_terminal_observations():
    """docs/clients.md: SB3VecEnv passes obs_layout on; copy 2 i + seat is seat seat of game i."""
    env = SB3VecEnv("coin_game_v0", num_envs=2, max_cycles=1, seed=3, obs_layout="flat")
    planes = socialdilemmas.make_vec("coin_game_v0", 2, max_cycles=1, seed=[3, 5])  # s + 2 i
    assert env.observation_space.shape == (36,)
    obs = env.reset()
    planes_obs, _ = planes.reset()
    np.testing.assert_array_equal(obs, planes_obs.reshape(4, 36))
    _, _, dones, infos = env.step(np.zeros(4, dtype=np.int64))
    _, _, _, _, planes_info = planes.step(np.zeros((2, 2), dtype=np.int64))
    assert dones.all()
    for copy, info in enumerate(infos):
        game, seat = divmod(copy, 2)
        expected = planes_info["final_observation"][game, seat].reshape(-1)
        np.testing.assert_array_equal(info["terminal_observation"], expected)


def test_seed_gives_each_game_the_seed_of_its_seat_zero_copy():
    pytest.importorskip("socialdilemmas.coin_game")
    env = SB3VecEnv("coin_game_v0", num_envs=3)
    assert env.seed(10) == [10, 11, 12, 13, 14, 15]
    obs = env.reset()
    expected, _ = socialdilemmas.make_vec("coin_game_v0", 3).reset(seed=[10, 12, 14])
    np.testing.assert_array_equal(obs, expected.reshape(6, 4, 3, 3))
    env.seed(10)
    np.testing.assert_array_equal(env.reset(), obs)


def test_vecenv_protocol_methods():
    env = SB3VecEnv("ipd_v0", num_envs=2, render_mode="ansi")
    assert env.render_mode == "ansi" and env.get_attr("render_mode") == ["ansi"] * 4
    assert env.env_is_wrapped(object) == [False] * 4
    assert env.get_attr("max_cycles", indices=[0, 1]) == [50, 50]
    env.reset()
    assert env.render().startswith("step 0")
    assert env.get_images() == [None] * 4
    with pytest.raises(ValueError, match="only when env is an env id"):
        SB3VecEnv(socialdilemmas.make_vec("ipd_v0", 2), max_cycles=3)


def test_ppo_constructs_with_a_seed_and_trains_reproducibly():
    torch.set_num_threads(1)
    first = train_ppo_self_play(
        "ipd_v0", 64, num_envs=2, seed=3, env_kwargs={"max_cycles": 8}, n_epochs=1
    )
    again = train_ppo_self_play(
        "ipd_v0", 64, num_envs=2, seed=3, env_kwargs={"max_cycles": 8}, n_epochs=1
    )
    for p, q in zip(first.policy.parameters(), again.policy.parameters(), strict=True):
        assert torch.equal(p, q)


def test_an_sb3_model_and_a_plain_callable_in_the_same_league():
    """Issue 4's required test: an SB3 self-play model evaluated as an external agent."""
    torch.set_num_threads(1)
    model = train_ppo_self_play(
        "ipd_v0", 64, num_envs=2, seed=0, env_kwargs={"max_cycles": 8}, n_epochs=1
    )

    def defector(observations):
        return np.ones(len(observations), dtype=np.int64)

    policies = {
        "ppo": model,
        "defector": defector,
        "tit_for_tat": scripted_policy("tit_for_tat", "ipd_v0"),
    }
    result = league(policies, "ipd_v0", episodes=4, seed=0, max_cycles=8)
    assert result.names == ["ppo", "defector", "tit_for_tat"]
    assert not np.isnan(result.rewards).any()
    assert result.rewards[1, 2] == pytest.approx(-14 / 8)  # defector vs TFT: 0 then -2 x 7
    ppo_coop = result.metrics["cooperation_rate"][0]
    assert ((ppo_coop > 0) & (ppo_coop < 1)).all()  # a barely trained PPO still samples both
    again = league(policies, "ipd_v0", episodes=4, seed=0, max_cycles=8)
    np.testing.assert_array_equal(result.rewards, again.rewards)


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [("coin_game_v0", {}), ("negotiation_v0", {}), ("negotiation_v0", {"continuous": True})],
)
def test_ppo_self_play_on_the_other_games(env_id, kwargs):
    if env_id not in socialdilemmas.env_ids():
        pytest.skip(f"{env_id} is not registered on this branch yet")
    torch.set_num_threads(1)
    kwargs = {"max_cycles": 8, **kwargs}
    model = train_ppo_self_play(env_id, 64, num_envs=2, seed=0, env_kwargs=kwargs, n_epochs=1)
    opponents = {
        "always_defect": scripted_policy("always_defect", env_id, **kwargs),
        "random": scripted_policy("random", env_id, **kwargs),
    }
    result = league({"ppo": model, **opponents}, env_id, episodes=2, **kwargs)
    assert not np.isnan(result.rewards).any()


def test_rgb_images_show_each_game_once_per_seat():
    pytest.importorskip("socialdilemmas.coin_game")
    env = SB3VecEnv("coin_game_v0", num_envs=2, seed=0, render_mode="rgb_array")
    env.reset()
    images = env.get_images()
    assert len(images) == 4 and images[0].shape == (96, 96, 3) and images[0].dtype == np.uint8
    np.testing.assert_array_equal(images[0], images[1])  # seats 0 and 1 of game 0
    assert env.render().shape == (96, 96, 3)


def test_self_play_training_runs_on_one_torch_thread_and_restores_the_setting(monkeypatch):
    from stable_baselines3 import PPO

    seen = []
    learn = PPO.learn

    def recording_learn(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return learn(self, *args, **kwargs)

    monkeypatch.setattr(PPO, "learn", recording_learn)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        train_ppo_self_play("ipd_v0", total_timesteps=64, num_envs=1, n_steps=16, n_epochs=1)
        assert seen == [1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
