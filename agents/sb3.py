"""Stable-Baselines3 on our games: parameter-sharing self-play through our own ``VecEnv``.

SB3 is single-agent, so :class:`SB3VecEnv` presents a vector env of ``num_envs`` two-player
games as ``2 * num_envs`` single-agent envs: copy ``2 * i + seat`` is seat ``seat`` of game
``i`` (the env-major order :func:`agents.rollout.rollout` uses for self-play). One SB3 model then
plays both seats of every game, which is the parameter-sharing self-play of the PettingZoo SB3
tutorials, without SuperSuit: SuperSuit's ``ConcatVecEnv`` has no ``seed`` method, so
``PPO(..., seed=0)`` crashes on it (`AttributeError`), and its copies start from one pickled
state. Here the batch is stepped by one kernel call and seeded per game.

>>> from stable_baselines3 import PPO
>>> from agents.sb3 import SB3VecEnv
>>> model = PPO("MlpPolicy", SB3VecEnv("ipd_v0", num_envs=4), n_steps=16, batch_size=32,
...             seed=0)

Loading a saved model without running its code
----------------------------------------------

An SB3 ``.zip`` holds the network weights (``policy.pth``, read by torch's ``weights_only``
loader) and a JSON ``data`` entry whose non-JSON values (the policy class, schedules, spaces,
``policy_kwargs`` with classes in them) are cloudpickled. ``PPO.load`` unpickles every one of
them, and unpickling runs whatever code the file's author put there. :func:`load_sb3_model`
therefore does not call it by default: it rebuilds the policy from the algorithm's own policy
classes, the spaces of the game it will play and the human-readable copies SB3 keeps next to
each pickled value (layer sizes, activation-function names), then loads the weights; nothing in
``data`` is unpickled. Only ``trust_pickle=True`` (``--trust-pickle`` on the command line) hands
the file to SB3's own loader, for models this cannot rebuild (a custom policy class or features
extractor).
"""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from agents import missing_extra

try:
    import torch
    from stable_baselines3.common.vec_env import VecEnv
except ImportError as _error:
    raise missing_extra(_error) from None

import socialdilemmas
from socialdilemmas.core.vector import VectorEnv


class SB3VecEnv(VecEnv):
    """A :class:`~socialdilemmas.core.vector.VectorEnv` as an SB3 ``VecEnv`` of both seats.

    Observation and action spaces are the game's single-agent spaces. Each step returns
    ``(2 * num_envs,)`` rewards and dones; when a game's episode ends, both of its copies are
    done, their info holds ``terminal_observation`` (the last observation of the episode) and
    ``TimeLimit.truncated`` (True: these games end by time limit only, so SB3 bootstraps the
    value of the cut-off state), and the returned observation is the next episode's first.

    Seeding: :meth:`seed` (called by ``PPO(..., seed=s)``) gives copy ``k`` the seed ``s + k``,
    as SB3's ``DummyVecEnv`` does; game ``i`` is reset with the seed of its seat-0 copy
    ``s + 2 * i``. The seeds are used at the next :meth:`reset` only.

    Args:
        env: an env id (``"ipd_v0"``, ...) or a ready :class:`VectorEnv`.
        num_envs: number of two-player games when ``env`` is an id (SB3 sees twice as many).
        seed: seed of the first reset (game ``i`` gets ``seed + 2 * i``) when none is set.
        render_mode: ``None``, ``"ansi"`` or ``"rgb_array"`` for the games (an id only).
        **env_kwargs: the env's arguments (``max_cycles``, ``grid_size``, ...) for an id.

    """

    def __init__(
        self,
        env: str | VectorEnv,
        num_envs: int = 8,
        seed: int | None = None,
        render_mode: str | None = None,
        **env_kwargs: Any,
    ) -> None:
        if isinstance(env, VectorEnv):
            if env_kwargs or render_mode is not None:
                raise ValueError("env_kwargs and render_mode apply only when env is an env id")
            self.vector_env = env
        else:
            self.vector_env = socialdilemmas.make_vec(
                env, num_envs, render_mode=render_mode, **env_kwargs
            )
        vec = self.vector_env
        self.num_games = vec.num_envs
        self.render_mode = vec.render_mode
        super().__init__(2 * vec.num_envs, vec.single_observation_space, vec.single_action_space)
        if seed is not None:
            self.seed(seed)
        self._actions: np.ndarray | None = None

    # ---- the VecEnv protocol ------------------------------------------------------------------
    def reset(self) -> np.ndarray:
        """Reset every game (seeded from :meth:`seed` if it was called since the last reset)."""
        seeds = self._seeds[::2]
        if any(s is None for s in seeds):
            seeds = None if all(s is None for s in seeds) else _fill_missing(seeds)
        observations, _ = self.vector_env.reset(seed=seeds)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self._flat(observations)

    def step_async(self, actions: np.ndarray) -> None:
        """Remember ``(2 * num_envs, *action_shape)`` actions for :meth:`step_wait`."""
        self._actions = np.asarray(actions)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """Step every game; see the class docstring for episode ends."""
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async()")
        vec = self.vector_env
        actions = self._actions.reshape(self.num_games, 2, *vec.game.action_shape)
        self._actions = None
        if vec.game.discrete_actions:
            actions = actions.astype(np.int64, copy=False)
        observations, rewards, terminations, truncations, info = vec.step(actions)
        done = np.logical_or(terminations, truncations)
        dones = np.repeat(done, 2)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if done.any():
            final = self._flat(info["final_observation"])
            time_limit = np.repeat(truncations & ~terminations, 2)
            for k in np.flatnonzero(dones):  # only at episode ends, so not per step and game
                infos[k]["terminal_observation"] = final[k]
                infos[k]["TimeLimit.truncated"] = bool(time_limit[k])
        return (
            self._flat(observations),
            rewards.reshape(-1).astype(np.float32),
            dones,
            infos,
        )

    def close(self) -> None:
        """Close the vector env."""
        self.vector_env.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        """RGB picture of each copy (both seats of a game show the same board)."""
        if self.render_mode != "rgb_array":
            return [None] * self.num_envs
        return [self.vector_env.render(env=k // 2) for k in range(self.num_envs)]

    def render(self, mode: str | None = None) -> Any:
        """Render game 0 in the env's ``render_mode`` (``"ansi"`` text or an RGB array)."""
        return self.vector_env.render(env=0)

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        """Attribute of the underlying vector env, once per selected copy."""
        value = (
            getattr(self, attr_name)
            if attr_name == "render_mode"
            else getattr(self.vector_env, attr_name)
        )
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        """Set an attribute on the underlying vector env (shared by every copy)."""
        setattr(self.vector_env, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any
    ) -> list[Any]:
        """Call a method of the underlying vector env once per selected copy."""
        method = getattr(self.vector_env, method_name)
        return [method(*method_args, **method_kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        """Return False for every copy: the games are not gymnasium envs and have no wrappers."""
        return [False for _ in self._get_indices(indices)]

    # ---- internals ----------------------------------------------------------------------------
    def _flat(self, per_game: np.ndarray) -> np.ndarray:
        return per_game.reshape(self.num_envs, *per_game.shape[2:])


def _fill_missing(seeds: list[int | None]) -> list[int]:
    """Complete a partly seeded list so that every game gets a seed (SB3 seeds all or none)."""
    base = next(s for s in seeds if s is not None)
    return [base + 2 * i if s is None else s for i, s in enumerate(seeds)]


def train_ppo_self_play(
    env_id: str,
    total_timesteps: int,
    num_envs: int = 8,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    torch_threads: int | None = 1,
    **ppo_kwargs: Any,
) -> Any:
    """Train SB3 PPO in parameter-sharing self-play on ``env_id`` and return the model.

    One ``MlpPolicy`` PPO model plays both seats of ``num_envs`` games through
    :class:`SB3VecEnv`; evaluate it with :func:`agents.evaluation.match` or
    :func:`agents.evaluation.league` like any other agent (``as_policy(model)``).

    Args:
        env_id: the game.
        total_timesteps: SB3 steps to train for (each game step counts twice, once per seat).
        num_envs: games played side by side.
        seed: seeds PPO (network, sampling) and the games.
        env_kwargs: the env's arguments.
        torch_threads: torch's intra-op threads while training (restored afterwards), 1 as our
            learners use: SB3's small networks gain nothing from more, and on a busy machine
            torch's default (one per core) is many times slower; None keeps torch's setting.
        **ppo_kwargs: passed to ``PPO`` (``n_steps``, ``batch_size``, ``learning_rate``, ...);
            ``n_steps`` defaults to the episode length, ``batch_size`` to ``2 * n_steps``.

    """
    from stable_baselines3 import PPO

    env = SB3VecEnv(env_id, num_envs=num_envs, **(env_kwargs or {}))
    ppo_kwargs.setdefault("n_steps", env.vector_env.max_cycles)
    # a minibatch size that divides the rollout buffer (n_steps * 2 * num_envs), else SB3 warns
    ppo_kwargs.setdefault("batch_size", 2 * ppo_kwargs["n_steps"])
    ppo_kwargs.setdefault("verbose", 0)
    threads = torch.get_num_threads()
    if torch_threads is not None:
        torch.set_num_threads(torch_threads)
    try:
        model = PPO("MlpPolicy", env, seed=seed, **ppo_kwargs)
        model.learn(total_timesteps=total_timesteps)
    finally:
        torch.set_num_threads(threads)
    return model


# ---- loading saved models ---------------------------------------------------------------------
class SB3ModelError(ValueError):
    """An SB3 model file that cannot be loaded (safely) for this game; the message says why."""


#: modules whose classes a model's ``policy_kwargs`` may name (activation functions, optimizers,
#: features extractors); they are looked up among already imported modules, never imported
_ALLOWED_CLASS_MODULES = ("torch.nn.modules.", "torch.optim.", "stable_baselines3.common.")
_CLASS_REPR = re.compile(r"^<class '(?P<module>[\w.]+)\.(?P<name>\w+)'>$")
_TRUST_HINT = (
    "loading it would unpickle code stored in the file, which runs whatever its author put "
    "there; if you trust the file, pass --trust-pickle (trust_pickle=True)"
)


def sb3_algorithm(name: str) -> type:
    """The SB3 (or sb3-contrib) algorithm class called ``name`` (``"PPO"``, ``"DQN"``, ...)."""
    import stable_baselines3

    if hasattr(stable_baselines3, name):
        return getattr(stable_baselines3, name)
    try:
        import sb3_contrib
    except ImportError:
        sb3_contrib = None
    if sb3_contrib is not None and hasattr(sb3_contrib, name):
        return getattr(sb3_contrib, name)
    raise SB3ModelError(f"unknown SB3 algorithm {name!r} (not in stable_baselines3 or sb3_contrib)")


def load_sb3_model(
    path: str | Path,
    algorithm: str = "PPO",
    observation_space: spaces.Space | None = None,
    action_space: spaces.Space | None = None,
    trust_pickle: bool = False,
) -> Any:
    """Load an SB3 model saved with ``model.save``, to play a game with these spaces.

    Args:
        path: the ``.zip`` (the suffix may be left out, as for ``PPO.load``).
        algorithm: the SB3 / sb3-contrib algorithm that saved it.
        observation_space: the game's single-agent observation space (required unless
            ``trust_pickle``; checked against the model's in both cases).
        action_space: the game's single-agent action space (likewise).
        trust_pickle: hand the file to SB3's own loader, which unpickles its ``data`` entries
            (and so runs any code in them). Only for files you trust.

    Returns:
        An object with SB3's ``predict(observation, state, episode_start, deterministic)``:
        the SB3 model itself with ``trust_pickle``, else an :class:`SB3PolicyModel`.

    Raises:
        SB3ModelError: no such file, not an SB3 model, trained for other spaces, or (without
            ``trust_pickle``) a model that cannot be rebuilt without unpickling.

    """
    algo = sb3_algorithm(algorithm)
    path = Path(path)
    if not path.is_file() and Path(f"{path}.zip").is_file():
        path = Path(f"{path}.zip")
    if not path.is_file():
        raise SB3ModelError(f"no SB3 model file at {str(path)!r}")
    if trust_pickle:
        model = algo.load(path, device="cpu")
        for kind, saved, game in (
            ("observation", model.observation_space, observation_space),
            ("action", model.action_space, action_space),
        ):
            if game is not None and _describe(saved) != _describe(game):
                raise SB3ModelError(
                    f"SB3 model {path} was trained with {kind} space {_describe(saved)}, but "
                    f"the game has {_describe(game)}"
                )
        return model
    if observation_space is None or action_space is None:
        raise SB3ModelError(
            "loading an SB3 model without unpickling needs the game's observation_space and "
            "action_space"
        )
    data, weights = _read_model_file(path)
    for kind, game in (("observation", observation_space), ("action", action_space)):
        saved = _saved_space(data, f"{kind}_space", path)
        if saved != _describe(game):
            raise SB3ModelError(
                f"SB3 model {path} was trained with {kind} space {saved}, but the game has "
                f"{_describe(game)}: play it in the game it was trained on"
            )
    policy_class = _policy_class(algo, data.get("policy_class"), path)
    kwargs = _policy_kwargs(data.get("policy_kwargs", {}), path)
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

    if issubclass(algo, OnPolicyAlgorithm) and "use_sde" not in kwargs:
        kwargs["use_sde"] = bool(data.get("use_sde", False))  # as OnPolicyAlgorithm passes it
    try:
        policy = policy_class(observation_space, action_space, lambda _: 0.0, **kwargs)
        policy.load_state_dict(weights)
    except (TypeError, ValueError, RuntimeError, KeyError) as error:
        raise SB3ModelError(
            f"SB3 model {path}: cannot rebuild its {policy_class.__name__} from the saved "
            f"settings {kwargs} ({str(error).splitlines()[0]}); {_TRUST_HINT}"
        ) from None
    policy.set_training_mode(False)
    exploration = data.get("exploration_rate", 0.0)
    return SB3PolicyModel(
        policy,
        name=algo.__name__,
        exploration_rate=float(exploration) if isinstance(exploration, (int, float)) else 0.0,
    )


class SB3PolicyModel:
    """An SB3 policy rebuilt from a model file without unpickling, with the model's ``predict``.

    ``predict`` is the policy's own; for Q-learning models (DQN) it adds, like ``DQN.predict``,
    a uniformly random action for the whole batch with probability ``exploration_rate`` when
    not deterministic (drawn from torch's global generator, which
    :class:`agents.adapters.SB3Policy` seeds).

    Args:
        policy: the rebuilt SB3 policy, weights loaded.
        name: the algorithm's name (label in tables).
        exploration_rate: the saved model's epsilon (DQN), else 0.

    """

    def __init__(self, policy: Any, name: str, exploration_rate: float = 0.0) -> None:
        self.policy = policy
        self.name = name
        self.exploration_rate = exploration_rate if hasattr(policy, "q_net") else 0.0
        self.observation_space = policy.observation_space
        self.action_space = policy.action_space

    def __repr__(self) -> str:
        return f"SB3PolicyModel({self.name}, {type(self.policy).__name__})"

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, Any]:
        """Actions for a batch of observations (and the recurrent state, if any)."""
        if (
            not deterministic
            and self.exploration_rate > 0
            and float(torch.rand(())) < self.exploration_rate
        ):
            n = int(np.asarray(observation).shape[0])
            space = self.action_space
            if isinstance(space, spaces.Discrete):
                actions = torch.randint(int(space.n), (n,)).numpy() + int(space.start)
                return actions, state
        return self.policy.predict(observation, state, episode_start, deterministic)


def _read_model_file(path: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The ``data`` JSON (nothing unpickled) and the policy weights of an SB3 model file."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "data" not in names or "policy.pth" not in names:
                raise SB3ModelError(
                    f"{path} is not an SB3 model file (it has no 'data' and 'policy.pth')"
                )
            data = json.loads(archive.read("data").decode())
            weights = torch.load(
                io.BytesIO(archive.read("policy.pth")), map_location="cpu", weights_only=True
            )
    except SB3ModelError:
        raise
    except Exception as error:  # noqa: BLE001 - zip, JSON and torch readers fail in many ways
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise SB3ModelError(
            f"{path} is not a readable SB3 model file ({type(error).__name__}: {first})"
        ) from None
    if not isinstance(data, dict) or not isinstance(weights, dict):
        raise SB3ModelError(f"{path} is not an SB3 model file (unexpected contents)")
    return data, weights


def _describe(space: spaces.Space) -> str:
    """A space's type, shape and sizes, comparable between a live space and a saved one."""
    text = f"{type(space).__name__}(shape={list(space.shape or ())}"
    if isinstance(space, spaces.Discrete):
        text += f", n={int(space.n)}"
    elif isinstance(space, spaces.MultiDiscrete):
        text += f", nvec={np.asarray(space.nvec).ravel().tolist()}"
    return text + ")"


def _saved_space(data: dict[str, Any], key: str, path: Path) -> str:
    """:func:`_describe` of a space from the readable fields SB3 stores next to its pickle."""
    entry = data.get(key)
    kind = _CLASS_REPR.match(str(entry.get(":type:", ""))) if isinstance(entry, dict) else None
    if kind is None or "_shape" not in entry:
        raise SB3ModelError(f"SB3 model {path} does not describe its {key}; {_TRUST_HINT}")
    text = f"{kind['name']}(shape={_integers(entry['_shape'])}"
    if kind["name"] == "Discrete":
        text += f", n={int(str(entry.get('n', '0')))}"
    elif kind["name"] == "MultiDiscrete":
        text += f", nvec={_integers(entry.get('nvec', ''))}"
    return text + ")"


def _integers(value: Any) -> list[int]:
    """The integers of a JSON list or of NumPy's printed form (``"[6 6 6]"``)."""
    return [int(v) for v in re.findall(r"-?\d+", str(value))]


def _policy_class(algo: type, entry: Any, path: Path) -> type:
    """The algorithm's own policy class that the file names (by module and docstring)."""
    if isinstance(entry, dict):
        for policy_class in dict.fromkeys(getattr(algo, "policy_aliases", {}).values()):
            if entry.get("__module__") != policy_class.__module__:
                continue
            init = f"<function {policy_class.__init__.__qualname__} "
            if entry.get("__doc__") == policy_class.__doc__ or str(
                entry.get("__init__", "")
            ).startswith(init):
                return policy_class
    module = entry.get("__module__") if isinstance(entry, dict) else None
    raise SB3ModelError(
        f"SB3 model {path} uses a policy class that is not one of {algo.__name__}'s own "
        f"(module {module!r}); {_TRUST_HINT}"
    )


def _policy_kwargs(entry: Any, path: Path) -> dict[str, Any]:
    """``policy_kwargs`` from plain JSON, or from the readable copy next to its pickle."""
    if not isinstance(entry, dict):
        raise SB3ModelError(f"SB3 model {path} has unreadable policy_kwargs; {_TRUST_HINT}")
    if ":serialized:" not in entry:
        return dict(entry)  # plain JSON: nothing to unpickle
    kwargs = {}
    for key, value in entry.items():
        if key in (":type:", ":serialized:"):
            continue
        if isinstance(value, str) and value.startswith("<class "):
            value = _allowed_class(value)
            if value is None:
                raise SB3ModelError(
                    f"SB3 model {path}: policy_kwargs[{key!r}] is {entry[key]}, a class outside "
                    f"torch.nn, torch.optim and stable_baselines3.common; {_TRUST_HINT}"
                )
        elif isinstance(value, str) and value.startswith(("{", "[", "(", "<")):
            raise SB3ModelError(
                f"SB3 model {path}: policy_kwargs[{key!r}] is stored only as pickled code "
                f"({value[:60]}); {_TRUST_HINT}"
            )
        kwargs[key] = value
    return kwargs


def _allowed_class(text: str) -> type | None:
    """The class a ``"<class 'module.Name'>"`` string names, if in an allowed, loaded module."""
    match = _CLASS_REPR.match(text)
    if match is None or not match["module"].startswith(_ALLOWED_CLASS_MODULES):
        return None
    module = sys.modules.get(match["module"])  # never imported here: no import side effects
    value = getattr(module, match["name"], None) if module is not None else None
    return value if isinstance(value, type) else None
