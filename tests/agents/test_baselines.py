"""Bundled baselines: every shipped checkpoint loads by name and plays a match."""

from __future__ import annotations

import math

import pytest
import torch

from agents.algorithms.advantage_alignment import AdvantageAlignmentConfig
from agents.algorithms.loqa import LOQAConfig
from agents.baselines import (
    BASELINES_DIR,
    baseline_names,
    baseline_path,
    catalog,
    export_baseline,
)
from agents.checkpoint import checkpoint_config, load_policy, read_checkpoint
from agents.evaluation import match
from agents.loading import AgentSpecError, load_agent
from agents.scripted import scripted_policy
from agents.training import train

#: size budget of one bundled file (the package ships them all)
MAX_BYTES = 300_000


def test_the_advantage_alignment_baselines_are_bundled():
    names = set(baseline_names())
    assert {"aa_ipd", "aa_nb_coin_game", "paa_negotiation", "paa_negotiation_continuous"} <= names
    assert {"ppo_negotiation", "ppo_negotiation_continuous"} <= names  # the naive contrasts


def test_the_continuous_negotiation_baseline_needs_the_continuous_game():
    with pytest.raises(
        AgentSpecError,
        match=r"trained on negotiation_v0 with continuous=true.*Box\(3,\).*MultiDiscrete"
        r".*--env-arg continuous=true",
    ):
        load_agent("baseline:paa_negotiation_continuous", "negotiation_v0")


@pytest.mark.parametrize("name", baseline_names())
def test_every_bundled_baseline_loads_by_name_and_plays(name):
    path = baseline_path(name)
    assert path.stat().st_size <= MAX_BYTES
    config = checkpoint_config(read_checkpoint(path), path)
    policy = load_agent(f"baseline:{name}", config.env_id, **config.env_kwargs)
    defect = scripted_policy("always_defect", config.env_id, **config.env_kwargs)
    result = match(policy, defect, config.env_id, episodes=4, seed=0, **config.env_kwargs)
    assert all(math.isfinite(r) for r in result.rewards)


#: what each bundled agent is documented to do (docs/results.md), checked on 64 episodes per
#: match: its self-play reward per step at least / at most this, and against always-defect it
#: gets at least ``vs_ad`` while always-defect gets at most ``ad_gets`` (not exploited)
BEHAVIOUR = {
    "aa_ipd": {"self_at_least": -1.15, "vs_ad": -2.1, "ad_gets": -1.9},
    "loqa_ipd": {"self_at_least": -1.1, "vs_ad": -2.1, "ad_gets": -1.9},
    "ppo_ipd": {"self_at_most": -1.9},
    "aa_nb_coin_game": {"self_at_least": 0.25, "own_coin_share": 0.85, "vs_ad": -0.15},
    "loqa_coin_game": {"self_at_least": 0.25, "own_coin_share": 0.85, "vs_ad": -0.15},
    "paa_negotiation": {"self_at_least": 0.39, "vs_ad": 0.28, "ad_gets": 0.33},
    "paa_negotiation_continuous": {"self_at_least": 0.39, "vs_ad": 0.28, "ad_gets": 0.33},
    "ppo_negotiation": {"self_at_most": 0.32},
    "ppo_negotiation_continuous": {"self_at_most": 0.32},
}


@pytest.mark.parametrize("name", baseline_names())
def test_every_bundled_baseline_plays_as_documented(name):
    assert name in BEHAVIOUR, f"document what the new baseline {name!r} does in BEHAVIOUR"
    expected = BEHAVIOUR[name]
    path = baseline_path(name)
    config = checkpoint_config(read_checkpoint(path), path)
    policy = load_agent(f"baseline:{name}", config.env_id, **config.env_kwargs)
    selfplay = match(policy, policy, config.env_id, episodes=64, seed=0, **config.env_kwargs)
    reward = sum(selfplay.rewards) / 2
    measured = catalog()[name]["measured"]  # what `socialdilemmas baselines` prints
    assert (measured["episodes"], measured["seed"]) == (64, 0)
    # the catalog's numbers replay; the tolerance covers other CPUs' float kernels flipping
    # a rare sampled action (on the machine that measured them they agree to 1e-3)
    assert reward == pytest.approx(measured["self_play"], abs=0.02)
    assert reward >= expected.get("self_at_least", -math.inf)
    assert reward <= expected.get("self_at_most", math.inf)
    if "own_coin_share" in expected:
        assert min(selfplay.metrics["own_coin_share"]) >= expected["own_coin_share"]
    if "vs_ad" in expected:
        defect = scripted_policy("always_defect", config.env_id, **config.env_kwargs)
        result = match(
            policy, defect, config.env_id, episodes=64, seed=0, both_seats=True, **config.env_kwargs
        )
        assert result.rewards[0] >= expected["vs_ad"]
        assert result.rewards[1] <= expected.get("ad_gets", math.inf)
        assert result.rewards[0] == pytest.approx(measured["vs_always_defect"], abs=0.02)
        assert result.rewards[1] == pytest.approx(measured["always_defect_gets"], abs=0.02)


def test_the_catalog_describes_every_bundled_baseline_and_nothing_else():
    entries = catalog()
    assert sorted(entries) == baseline_names()
    for name, entry in entries.items():
        path = baseline_path(name)
        payload = read_checkpoint(path)
        config = checkpoint_config(payload, path)
        assert (entry["env_id"], entry["env_kwargs"]) == (config.env_id, config.env_kwargs)
        assert entry["algorithm"] == payload["algorithm"]
        assert entry["trained"].startswith("preset ")


def test_the_baselines_command_lists_them_without_torch():
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['torch'] = None; from agents.cli import main; main(['baselines'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    for name in baseline_names():
        assert f"baseline:{name} " in result.stdout
    assert "-1.109" in result.stdout  # aa_ipd's self-play, from the catalog


def test_unknown_baseline_names_the_bundled_ones():
    with pytest.raises(AgentSpecError, match="no bundled baseline 'nope'.*aa_ipd"):
        load_agent("baseline:nope", "ipd_v0")


def test_export_keeps_the_policy_and_drops_the_training_state(tmp_path):
    config = AdvantageAlignmentConfig(
        env_id="ipd_v0",
        env_kwargs={"max_cycles": 4},
        num_envs=4,
        iterations=2,
        hidden_sizes=(8,),
        gru_size=8,
        self_play=True,
        replay_fraction=0.5,
        replay_push_every=1,
    )
    train(config, "aa", tmp_path / "run", False)
    final = tmp_path / "run" / "checkpoints" / "final.pt"
    slim = export_baseline(final, tmp_path / "slim.pt")
    assert slim.stat().st_size < final.stat().st_size
    assert "replay" not in read_checkpoint(slim)["learner"]
    for a, b in zip(
        load_policy(final).network.parameters(), load_policy(slim).network.parameters(), strict=True
    ):
        assert torch.equal(a, b)
    assert BASELINES_DIR.is_dir()


def test_export_of_a_loqa_agent_drops_the_q_critic_and_plays_the_same(tmp_path):
    config = LOQAConfig(
        env_id="coin_game_v0",
        env_kwargs={"max_cycles": 6},
        num_envs=4,
        iterations=2,
        hidden_sizes=(8,),
        gru_size=8,
        critic_hidden_sizes=(8,),
        critic_gru_size=8,
    )
    train(config, "loqa", tmp_path / "run", False)
    final = tmp_path / "run" / "checkpoints" / "final.pt"
    slim = export_baseline(final, tmp_path / "slim.pt")
    half = export_baseline(final, tmp_path / "half.pt", float16=True)
    assert half.stat().st_size < slim.stat().st_size < final.stat().st_size
    saved = read_checkpoint(slim)
    assert saved["config"]["critic_encoder"] == "mlp"  # the stub the copy describes
    network = saved["learner"]["agents"][0]["network"]
    assert not any(key.startswith("critic_encoder.") for key in network)
    results = [
        match(
            load_policy(path),
            scripted_policy("always_defect", "coin_game_v0", max_cycles=6),
            "coin_game_v0",
            episodes=4,
            seed=1,
            max_cycles=6,
        ).rewards
        for path in (final, slim)
    ]
    assert results[0] == results[1]
