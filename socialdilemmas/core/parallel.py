"""PettingZoo adapters over a game's kernels.

A ``ParallelEnv`` that is a batch of one over the kernels, and the AEC view built from it with
PettingZoo's own ``parallel_to_aec``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec_wrapper
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from socialdilemmas._rng import as_seed, entropy_seed, seed_streams
from socialdilemmas.core.game import BatchedGame
from socialdilemmas.core.layout import SINGLE_COPIERS, check_obs_layout, layout_space
from socialdilemmas.core.validation import check_positive_int

_ENV_ZERO = np.zeros(1, dtype=np.int64)


class SocialDilemmaParallelEnv(ParallelEnv):
    """Base of every PettingZoo env in the package: one game, stepped by the batched kernels.

    Subclasses build their :class:`BatchedGame` and call ``super().__init__``; their class
    docstring is the env's documentation page. Observations are fresh float32 arrays in
    ``obs_layout`` (see :mod:`socialdilemmas.core.layout`), rewards Python floats, ends Python
    bools; an episode is truncated after ``max_cycles`` steps, after which ``agents`` is empty
    and ``step`` raises until ``reset``.
    """

    metadata: dict[str, Any] = {
        "name": "social_dilemma_v0",
        "render_modes": ["human", "ansi"],
        "is_parallelizable": True,
    }
    #: Named argument sets worth knowing (paper presets, action modes). The test battery runs
    #: every API, seeding and equivalence test on each of them.
    variants: ClassVar[dict[str, dict[str, Any]]] = {"default": {}}

    def __init__(
        self,
        game: BatchedGame,
        max_cycles: int,
        render_mode: str | None,
        obs_layout: str = "planes",
    ) -> None:
        self.game = game
        self.max_cycles = check_positive_int(max_cycles, "max_cycles")
        self.obs_layout = check_obs_layout(
            obs_layout, game.observation_space, self.metadata["name"]
        )
        self._observation_space = layout_space(game.observation_space, self.obs_layout)
        self._copy_observation = SINGLE_COPIERS[self.obs_layout]
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, "
                f"got {render_mode!r}"
            )
        self.render_mode = render_mode
        self.possible_agents = list(game.agents)
        self.agents: list[str] = []
        self._seat = {agent: seat for seat, agent in enumerate(self.possible_agents)}
        self._state, self._rng, self._buffers = game.allocate(1)
        self._actions = np.zeros(
            (1, len(self.possible_agents), *game.action_shape), dtype=game.action_dtype()
        )
        self._seeded = False
        self._started = False
        #: the global state is player_0's view, which shows the whole game in every game here
        self.state_space = self._observation_space

    # ---- spaces (the same object on every call, as PettingZoo's tests require) ---------------
    def observation_space(self, agent: str):
        """Observation space of ``agent`` in ``obs_layout`` (identical for both seats)."""
        self._check_agent(agent)
        return self._observation_space

    def action_space(self, agent: str):
        """Action space of ``agent`` (identical for both seats)."""
        self._check_agent(agent)
        return self.game.action_space

    # ---- API ----------------------------------------------------------------------------------
    def reset(
        self, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        """Start an episode; ``seed`` restarts the random stream (None continues it)."""
        if seed is not None or not self._seeded:
            stream_seed = entropy_seed() if seed is None else as_seed(seed)
            seed_streams(self._rng, _ENV_ZERO, np.array([stream_seed], dtype=np.uint64))
            self._seeded = True
        self.game.reset_envs(self._state, self._rng, _ENV_ZERO, self._buffers)
        self._buffers.truncated[0] = False
        self._started = True
        self.agents = self.possible_agents[:]
        observations = self._buffers.observations[0]
        copy = self._copy_observation
        return (
            {agent: copy(observations[seat]) for seat, agent in enumerate(self.agents)},
            {agent: {} for agent in self.agents},
        )

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """Play one simultaneous step; ``actions`` maps every live agent to its action."""
        if not self.agents:
            if not self._started:
                raise RuntimeError("step() called before reset(); call reset(seed=...) first")
            raise RuntimeError("step() called after the episode ended; call reset() first")
        self._load_actions(actions)
        bad = self.game.step_envs(
            self._state, self._rng, self._actions, self.max_cycles, False, self._buffers
        )
        if bad >= 0:
            raise ValueError(
                self.game.describe_bad_action(self._actions, bad).replace(" in env 0", "")
            )
        # Both seats are always alive together, so the dicts are written out for two agents:
        # this is the hot path of every PettingZoo user (about 2 us of the step).
        buffers = self._buffers
        first, second = self.possible_agents
        observations = buffers.observations[0]
        reward_0, reward_1 = buffers.rewards[0].tolist()
        done = bool(buffers.truncated[0])
        info_0, info_1 = self.game.agent_infos(buffers, 0)
        copy = self._copy_observation
        result = (
            {first: copy(observations[0]), second: copy(observations[1])},
            {first: reward_0, second: reward_1},
            {first: False, second: False},
            {first: done, second: done},
            {first: info_0, second: info_1},
        )
        if done:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return result

    def render(self) -> str | np.ndarray | None:
        """Render in ``render_mode``: ansi returns text, human prints it, rgb_array an image."""
        if self.render_mode is None:
            return None
        if not self._started:
            raise RuntimeError("render() called before reset()")
        if self.render_mode == "rgb_array":
            return self.game.render_rgb(self._state, self._buffers, 0)
        text = self.game.render_ansi(self._state, self._buffers, 0)
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        """Nothing to release: the env holds only NumPy arrays."""

    def state(self) -> np.ndarray:
        """Global state: ``player_0``'s observation in ``obs_layout`` (it shows the whole board)."""
        return self._copy_observation(self._buffers.observations[0, 0])

    # ---- internals ----------------------------------------------------------------------------
    def _check_agent(self, agent: str) -> None:
        if agent not in self._seat:
            raise KeyError(f"unknown agent {agent!r}; agents are {self.possible_agents}")

    def _load_actions(self, actions: dict[str, Any]) -> None:
        if type(actions) is dict and actions.keys() == self._seat.keys():
            encode = self.game.encode_agent_action
            for seat, agent in enumerate(self.possible_agents):
                encode(agent, actions[agent], self._actions[:, seat])
            return
        if not isinstance(actions, dict):
            raise TypeError(
                f"actions must be a dict mapping each agent to its action, got "
                f"{type(actions).__name__}"
            )
        if len(actions) != len(self.agents) or any(agent not in actions for agent in self.agents):
            missing = [agent for agent in self.agents if agent not in actions]
            unknown = [agent for agent in actions if agent not in self._seat]
            problem = []
            if missing:
                problem.append(f"missing actions for {missing}")
            if unknown:
                problem.append(f"unknown agents {unknown}")
            raise KeyError(
                "; ".join(problem or ["actions must have one entry per live agent"])
                + f" (live agents: {self.agents})"
            )
        encode = self.game.encode_agent_action
        for seat, agent in enumerate(self.agents):
            encode(agent, actions[agent], self._actions[:, seat])


class SocialDilemmaAECWrapper(parallel_to_aec_wrapper):
    """PettingZoo's ``parallel_to_aec`` that checks each action when it is given.

    The stock converter only hands actions to the parallel env at the end of a cycle, so a bad
    action would be reported one agent late; here it raises at once, naming the agent. Every
    check runs before anything is stored, so a rejected ``step`` leaves the env as it was:

    * a live agent's action must be in its action space (``None`` included: PettingZoo reserves
      ``None`` for the agents that are done);
    * an agent that is terminated or truncated takes exactly one ``step(None)`` (PettingZoo's
      "dead step"), which removes it; any other action raises.
    """

    def step(self, action: Any) -> None:
        """Record the selected agent's action (checked now), stepping at the cycle's end."""
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            if action is not None:
                ended = "terminated" if self.terminations[agent] else "truncated"
                raise ValueError(
                    f"{agent} is {ended}: the only valid action is None (PettingZoo's dead step, "
                    f"which removes it); got {action!r}. Call reset() to play another episode"
                )
        elif action is None:
            raise ValueError(
                f"action of {agent} is None, but {agent} is still playing: None is the action "
                f"of a terminated or truncated agent only; expected "
                f"{self.env.game.describe_action_range()}"
            )
        else:
            game = self.env.game
            scratch = np.zeros_like(self.env._actions[:, 0])
            game.encode_agent_action(agent, action, scratch)
            if not game.action_in_range(scratch[0]):
                raise ValueError(
                    f"action of {agent} is out of range: got {action!r}, expected "
                    f"{game.describe_action_range()}"
                )
        super().step(action)


def make_aec(parallel_env: SocialDilemmaParallelEnv) -> OrderEnforcingWrapper:
    """The AEC view of one of our parallel envs (PettingZoo's conversion, checked actions)."""
    return OrderEnforcingWrapper(SocialDilemmaAECWrapper(parallel_env))


def versioned_factories(env_class: type[SocialDilemmaParallelEnv]):
    """The ``env``, ``raw_env`` and ``parallel_env`` factories of a versioned module."""

    def parallel_env(**kwargs: Any) -> SocialDilemmaParallelEnv:
        return env_class(**kwargs)

    def raw_env(**kwargs: Any) -> SocialDilemmaAECWrapper:
        return SocialDilemmaAECWrapper(env_class(**kwargs))

    def env(**kwargs: Any) -> OrderEnforcingWrapper:
        return make_aec(env_class(**kwargs))

    name = env_class.metadata["name"]
    parallel_env.__doc__ = f"Create {name} as a PettingZoo ParallelEnv ({env_class.__name__})."
    raw_env.__doc__ = f"Create {name} as an AEC env without the order-enforcing wrapper."
    env.__doc__ = f"Create {name} as a PettingZoo AECEnv (checked actions, enforced order)."
    parallel_env.env_class = env_class  # type: ignore[attr-defined]
    return env, raw_env, parallel_env
