"""Random play through PettingZoo's registry, with both the parallel and the AEC API.

Run: python examples/pettingzoo_random_play.py [--env socialdilemmas/ipd-v0] [--episodes 2]

PettingZoo has a registry since 1.27; with an older PettingZoo the env comes from its module
(``socialdilemmas.coin_game_v0.parallel_env()``), which is what the registry calls anyway.
"""

from __future__ import annotations

import argparse

import pettingzoo

import socialdilemmas  # noqa: F401  (importing registers the socialdilemmas/* ids)
from socialdilemmas.registration import PETTINGZOO_HAS_REGISTRY, env_module


def make(api: str, env_id: str, **kwargs):
    """``pettingzoo.make(api, env_id, ...)``, or the env's module without a registry."""
    if PETTINGZOO_HAS_REGISTRY:
        return pettingzoo.make(api, env_id, **kwargs)
    module = env_module(env_id)
    return module.parallel_env(**kwargs) if api == "parallel" else module.env(**kwargs)


def play_parallel(env_id: str, episodes: int, seed: int) -> None:
    env = make("parallel", env_id, max_cycles=10)
    for episode in range(episodes):
        observations, infos = env.reset(seed=seed + episode)
        totals = dict.fromkeys(env.agents, 0.0)
        while env.agents:
            actions = {agent: env.action_space(agent).sample() for agent in env.agents}
            observations, rewards, terminations, truncations, infos = env.step(actions)
            for agent, reward in rewards.items():
                totals[agent] += reward
        print(f"parallel episode {episode}: returns {totals}")
    env.close()


def play_aec(env_id: str, episodes: int, seed: int) -> None:
    env = make("aec", env_id, max_cycles=10, render_mode="ansi")
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        for agent in env.agent_iter():
            observation, reward, termination, truncation, info = env.last()
            action = None if termination or truncation else env.action_space(agent).sample()
            env.step(action)
        print(f"aec episode {episode}: last frame -> {env.render()}")
    env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="socialdilemmas/ipd-v0")
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    play_parallel(args.env, args.episodes, args.seed)
    play_aec(args.env, args.episodes, args.seed)


if __name__ == "__main__":
    main()
