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
    (tmp_path / "my_agents.py").write_text(textwrap.dedent('''
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
    '''))
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
    loaded = load_agent(f"sb3:A2C:{tmp_path / 'a2c.zip'}", "ipd_v0")
    assert isinstance(loaded, SB3Policy) and type(loaded.model) is A2C
    obs = np.eye(5, dtype=np.float32)
    for a, b in zip(model.policy.parameters(), loaded.model.policy.parameters(), strict=True):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(
        model.predict(obs, deterministic=True)[0], loaded.model.predict(obs, deterministic=True)[0]
    )


def test_checkpoint_paths_go_to_agents_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "run.ckpt"
    path.write_bytes(b"")
    try:
        import agents.checkpoint  # noqa: F401
    except ImportError:
        with pytest.raises(AgentSpecError, match="agents.checkpoint is not available"):
            load_agent(str(path), "ipd_v0")
    else:
        calls = []
        monkeypatch.setattr(
            "agents.checkpoint.load_policy",
            lambda p: calls.append(p) or (lambda obs: np.zeros(len(obs), np.int64)),
        )
        load_agent(str(path), "ipd_v0")
        assert calls == [str(path)]
