"""Agent specs: scripted names, module:factory, file.py:factory, SB3 zips, checkpoints, errors."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
import torch

from agents.adapters import SB3Policy, TorchModulePolicy
from agents.loading import AgentSpecError, load_agent
from agents.policy import CallablePolicy


@pytest.fixture
def factories(tmp_path, monkeypatch):
    """A module ``my_agents`` on sys.path with factories of every kind."""
    (tmp_path / "my_agents.py").write_text(
        textwrap.dedent("""
        import numpy as np
        import torch

        def defector(env_id):
            assert env_id == "ipd_v0"
            return lambda obs: np.ones(len(obs), dtype=np.int64)

        def network(observation_space, action_space):
            return torch.nn.Linear(observation_space.shape[0], action_space.n)

        def everything(**kwargs):
            assert set(kwargs) == {"env_id", "observation_space", "action_space", "env_kwargs"}
            return lambda obs: np.zeros(len(obs), dtype=np.int64)

        def needs_more(env_id, learning_rate):
            raise AssertionError("never called")

        def not_an_agent():
            return 42

        NOT_CALLABLE = 3
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("my_agents", None)


def test_scripted_names_and_labels():
    policy = load_agent("tit_for_tat", "ipd_v0")
    assert policy.name == "tit_for_tat"
    assert load_agent("tft=tit_for_tat", "socialdilemmas/ipd-v0").name == "tft"


def test_module_factories_receive_what_they_ask_for(factories):
    defector = load_agent("my_agents:defector", "ipd_v0")
    assert isinstance(defector, CallablePolicy) and defector.name == "defector"
    assert defector.act(np.zeros((3, 5)), np.zeros(3, bool)).tolist() == [1, 1, 1]
    network = load_agent("net=my_agents:network", "ipd_v0")
    assert isinstance(network, TorchModulePolicy) and network.name == "net"
    assert network.action_space.n == 2
    assert load_agent("my_agents:everything", "ipd_v0", max_cycles=5).name == "everything"


def test_file_factories(factories):
    policy = load_agent(f"{factories / 'my_agents.py'}:defector", "ipd_v0")
    assert policy.act(np.zeros((2, 5)), np.zeros(2, bool)).tolist() == [1, 1]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("grim_trigger", "unknown agent 'grim_trigger'"),
        ("no_such_module_xyz:make", "cannot import module 'no_such_module_xyz'"),
        ("my_agents:missing", "has no attribute 'missing'"),
        ("my_agents:NOT_CALLABLE", "'NOT_CALLABLE' is not callable"),
        ("my_agents:needs_more", r"requires \['learning_rate'\]"),
        ("my_agents:not_an_agent", "did not return an agent: cannot use int"),
        ("missing.py:make", "no file 'missing.py'"),
        ("sb3:missing_model.zip", "no SB3 model file"),
        ("sb3:NoSuchAlgo:model.zip", "unknown SB3 algorithm 'NoSuchAlgo'"),
        ("", "non-empty string"),
    ],
)
def test_bad_specs_are_explained(factories, spec, message):
    with pytest.raises(AgentSpecError, match=message):
        load_agent(spec, "ipd_v0")


def test_unknown_env():
    with pytest.raises(KeyError, match="unknown env 'ipd_v7'"):
        load_agent("always_defect", "ipd_v7")


def test_sb3_zip(tmp_path):
    from stable_baselines3 import A2C

    from agents.sb3 import SB3VecEnv

    torch.set_num_threads(1)
    model = A2C("MlpPolicy", SB3VecEnv("ipd_v0", num_envs=1), seed=0)
    model.save(tmp_path / "a2c.zip")
    obs = np.eye(5, dtype=np.float32)
    # rebuilt from the weights without unpickling (the default), and through SB3's own loader
    for trust_pickle in (False, True):
        loaded = load_agent(f"sb3:A2C:{tmp_path / 'a2c.zip'}", "ipd_v0", trust_pickle=trust_pickle)
        assert isinstance(loaded, SB3Policy) and loaded.name == "A2C"
        assert (type(loaded.model) is A2C) == trust_pickle
        for a, b in zip(model.policy.parameters(), loaded.model.policy.parameters(), strict=True):
            assert torch.equal(a, b)
        np.testing.assert_array_equal(
            model.predict(obs, deterministic=True)[0],
            loaded.model.predict(obs, deterministic=True)[0],
        )


def test_checkpoint_paths_without_the_checkpoint_module(tmp_path, monkeypatch):
    path = tmp_path / "run.ckpt"
    path.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "agents.checkpoint", None)  # as on a branch without it
    with pytest.raises(AgentSpecError, match="agents.checkpoint is not available"):
        load_agent(str(path), "ipd_v0")


def test_checkpoints_of_our_learners_load_and_play(tmp_path):
    checkpoint = pytest.importorskip("agents.checkpoint")  # the learners' branch provides it
    from agents.algorithms import get_algorithm
    from agents.evaluation import match

    torch.set_num_threads(1)
    config_class, learner_class = get_algorithm("actor_critic")
    learner = learner_class(config_class(num_envs=2, iterations=1, env_kwargs={"max_cycles": 4}))
    path = checkpoint.save_checkpoint(learner, tmp_path / "ac.ckpt")
    policy = load_agent(f"learner={path}", "ipd_v0", max_cycles=4)
    assert policy.name == "learner"
    result = match(policy, load_agent("tit_for_tat", "ipd_v0"), "ipd_v0", episodes=2, max_cycles=4)
    assert -3.0 <= result.rewards[0] <= 0.0
    with pytest.raises(AgentSpecError, match="ac.ckpt"):  # spaces of another game
        load_agent(str(path), "negotiation_v0")
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(AgentSpecError, match="junk.ckpt"):
        load_agent(str(tmp_path / "junk.ckpt"), "ipd_v0")


def test_a_module_in_the_current_folder_loads_from_the_command_line(tmp_path):
    """As in a user's folder holding my_agents.py: a console script does not put it on sys.path."""
    import subprocess
    import sys

    (tmp_path / "folder_agents_xyz.py").write_text(
        "import numpy as np\n"
        "def make_agent():\n"
        "    return lambda obs: np.ones(len(obs), dtype=np.int64)\n"
    )
    script = (
        "import sys; sys.path = [p for p in sys.path if p not in ('', '.')]\n"
        "from agents.cli import main\n"
        "sys.exit(main(['evaluate', 'folder_agents_xyz:make_agent', 'always_cooperate',"
        " '--env', 'ipd_v0', '--episodes', '2']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "always_cooperate" in result.stdout


def test_unknown_agents_name_the_games_bundled_baselines():
    with pytest.raises(AgentSpecError, match=r"baseline:aa_ipd, baseline:loqa_ipd.*baselines"):
        load_agent("grim_trigger", "ipd_v0")


def test_a_game_mismatch_names_the_differing_argument_in_one_short_line():
    with pytest.raises(AgentSpecError) as error:
        load_agent("baseline:loqa_coin_game", "coin_game_v0", grid_size=4)
    message = str(error.value)
    assert "--env-arg grid_size=3" in message and "Box(4, 3, 3)" in message
    assert "\n" not in message and len(message) < 300 and "site-packages" not in message
    with pytest.raises(AgentSpecError, match="trained on ipd_v0, not coin_game_v0"):
        load_agent("baseline:aa_ipd", "coin_game_v0")
